import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { describe, expect, it } from 'vitest'
import { startEntry } from '../helpers/entry.js'
import { useFakeGemini } from '../helpers/use-fake-gemini.js'
import { startWebhookReceiver } from '../helpers/webhook-receiver.js'

async function runToExit(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/entry/node.ts'], { env: { PATH: process.env.PATH, PORT: '0', ...env } })
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  const [code] = await once(child, 'exit')
  return { code, output }
}

const gemini = useFakeGemini()

describe('the Node entry', () => {
  it('starts with no Gemini key and answers from the local classifier', async () => {
    const { child, url, lines, exited } = await startEntry({})
    try {
      expect(await (await fetch(`${url}/readyz`)).json()).toMatchObject({ status: 'ready', mode: 'local' })
      const verdict = await (await fetch(`${url}/v1/moderate`, { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } })).json()
      expect(verdict).toMatchObject({ source: 'local', safe: true })
      expect(lines.some((l) => l.level === 'warn' && String(l.msg).includes('GEMINI_API_KEY is unset'))).toBe(true)
      expect(lines.some((l) => l.level === 'warn' && String(l.msg).includes('MODERATION_API_KEYS is unset'))).toBe(true)
    } finally {
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
    }
  })

  it('warms the whole pipeline up before it listens, without calling the configured model', async () => {
    const { child, url, lines, exited } = await startEntry({ GEMINI_API_KEY: 'test-key-not-secret', GEMINI_BASE_URL: gemini.url })
    try {
      const warmed = lines.findIndex((l) => l.msg === 'warmed up')
      expect(lines[warmed]).toMatchObject({ requests: 200 })
      expect(warmed).toBeLessThan(lines.findIndex((l) => l.msg === 'listening'))
      expect(gemini.requests).toHaveLength(0)
      expect(await (await fetch(`${url}/readyz`)).json()).toMatchObject({ status: 'ready', mode: 'gemini' })
    } finally {
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
    }
  })

  it('on SIGTERM first answers /readyz 503 for MODERATION_DRAIN_DELAY_MS while still serving, then stops', async () => {
    const { child, url, lines, exited } = await startEntry({ MODERATION_DRAIN_DELAY_MS: '700', MODERATION_WARMUP_REQUESTS: '0' })
    expect((await fetch(`${url}/readyz`)).status).toBe(200)
    child.kill('SIGTERM')
    await new Promise((resolve) => setTimeout(resolve, 150))
    const ready = await fetch(`${url}/readyz`)
    expect(ready.status).toBe(503)
    expect(await ready.json()).toMatchObject({ error: { code: 'service_unavailable' } })
    const served = await fetch(`${url}/v1/moderate`, { method: 'POST', body: 'still served while draining', headers: { 'content-type': 'text/plain' } })
    expect(served.status).toBe(200)
    expect(await exited).toBe(0)
    await expect(fetch(`${url}/healthz`)).rejects.toThrow()
    const draining = lines.find((l) => l.msg === 'draining')
    expect(draining).toMatchObject({ signal: 'SIGTERM', delay_ms: 700 })
    expect(Date.parse(lines.find((l) => l.msg === 'shutting down')!.time as string) - Date.parse(draining!.time as string)).toBeGreaterThanOrEqual(650)
  })

  it('says plainly that its port is taken, instead of a stack trace', async () => {
    const holder = (await import('node:net')).createServer()
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
    const port = String((holder.address() as { port: number }).port)
    try {
      const { code, output } = await runToExit({ PORT: port, MODERATION_WARMUP_REQUESTS: '0' })
      expect(code).toBe(1)
      expect(output).toMatch(new RegExp(`PORT: port ${port} on 127\\.0\\.0\\.1 is already in use`))
      expect(output).not.toMatch(/at Server\.setupListenHandle|node:net/)
    } finally {
      holder.close()
    }
  })

  it('warns about a misspelt setting of its own, naming the closest one it knows', async () => {
    const { child, lines, exited } = await startEntry({ MODERATION_MAX_BUDGT_MS: '500', GEMINI_APIKEY: 'x', MODERATION_WARMUP_REQUESTS: '0' })
    try {
      expect(lines.find((l) => l.setting === 'MODERATION_MAX_BUDGT_MS')).toMatchObject({ level: 'warn', closest: 'MODERATION_MAX_BUDGET_MS' })
      expect(lines.find((l) => l.setting === 'GEMINI_APIKEY')).toMatchObject({ level: 'warn', closest: 'GEMINI_API_KEY' })
      expect(JSON.stringify(lines)).not.toContain('"setting":"PATH"')
    } finally {
      child.kill('SIGTERM')
      await exited
    }
  })

  it('refuses to start on bad configuration, saying which setting is wrong', async () => {
    const { code, output } = await runToExit({ PORT: 'eighty', MODERATION_MAX_BODY_BYTES: '-1' })
    expect(code).toBe(1)
    expect(output).toMatch(/PORT/)
    expect(output).toMatch(/MODERATION_MAX_BODY_BYTES/)
  })

  it('refuses to start when the policies folder or the default policy is missing, naming the setting', async () => {
    const missingFolder = await runToExit({ MODERATION_POLICIES_DIR: 'no-such-dir' })
    expect(missingFolder.code).toBe(1)
    expect(missingFolder.output).toMatch(/MODERATION_POLICIES_DIR: \S*no-such-dir does not exist/)
    expect(missingFolder.output).not.toMatch(/ENOENT/)
    const notAFolder = await runToExit({ MODERATION_POLICIES_DIR: 'package.json' })
    expect(notAFolder.output).toMatch(/MODERATION_POLICIES_DIR: \S*package.json is not a folder/)
    const missingDefault = await runToExit({ MODERATION_DEFAULT_POLICY: 'kids' })
    expect(missingDefault.code).toBe(1)
    expect(missingDefault.output).toMatch(/default policy \\"kids\\" not found/)
  })

  it('cuts off an upload that trickles in slower than MODERATION_REQUEST_TIMEOUT_MS (408), freeing its place', async () => {
    const { child, url, exited } = await startEntry({ MODERATION_REQUEST_TIMEOUT_MS: '500', MODERATION_MAX_IN_FLIGHT: '1' })
    const socket = (await import('node:net')).connect(Number(new URL(url).port), '127.0.0.1')
    socket.write('POST /v1/moderate HTTP/1.1\r\nHost: x\r\ncontent-type: text/plain\r\ncontent-length: 100\r\n\r\nabc')
    const answer = await new Promise<string>((resolve) => {
      let data = ''
      socket.on('data', (chunk) => (data += chunk))
      socket.on('close', () => resolve(data))
    })
    expect(answer).toMatch(/^HTTP\/1\.1 408/)
    // The place it held is free again.
    expect((await fetch(`${url}/v1/moderate`, { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } })).status).toBe(200)
    child.kill('SIGTERM')
    await exited
  })

  it('never logs the Gemini key', async () => {
    const { child, url, lines, exited } = await startEntry({ GEMINI_API_KEY: 'super-secret-key-123', GEMINI_BASE_URL: gemini.url })
    await fetch(`${url}/v1/moderate`, { method: 'POST', body: 'hi', headers: { 'content-type': 'text/plain' } })
    child.kill('SIGTERM')
    await exited
    expect(JSON.stringify(lines)).not.toContain('super-secret-key-123')
  })

  it('on SIGTERM stops accepting, finishes the request in flight, then exits 0', async () => {
    let arrived!: () => void
    const modelCalled = new Promise<void>((resolve) => (arrived = resolve))
    gemini.setDefault(() => {
      arrived()
      return { delayMs: 300, then: { verdict: { safe: true, categories: [], confidence: 0.9 } } }
    })
    const { child, url, lines, exited } = await startEntry({ GEMINI_API_KEY: 'k', GEMINI_BASE_URL: gemini.url })
    const inFlight = fetch(`${url}/v1/moderate`, { method: 'POST', body: 'in flight', headers: { 'content-type': 'text/plain' } })
    await modelCalled
    child.kill('SIGTERM')
    const response = await inFlight
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ source: 'model', safe: true })
    expect(await exited).toBe(0)
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down', 'stopped']))
    await expect(fetch(`${url}/healthz`)).rejects.toThrow()
  })

  describe('SIGTERM with webhook jobs pending', () => {
    const secret = `whsec_${Buffer.from('shutdown test secret of 32 bytes').toString('base64')}`
    const env = () => ({ GEMINI_API_KEY: 'k', GEMINI_BASE_URL: gemini.url, WEBHOOK_SECRET: secret, WEBHOOK_ALLOWED_HOSTS: '127.0.0.1', MODERATION_SHUTDOWN_GRACE_MS: '3000' })
    const submit = (url: string, callback: string) =>
      fetch(`${url}/v1/moderate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: `queued ${Date.now()}`, callback_url: callback }) })

    it('delivers every queued job before exiting 0', async () => {
      const receiver = await startWebhookReceiver(secret)
      gemini.setDefault({ delayMs: 300, then: { verdict: { safe: true, categories: [], confidence: 0.9 } } })
      const { child, url, lines, exited } = await startEntry(env())
      const jobs = await Promise.all([1, 2, 3].map(async () => ((await (await submit(url, receiver.url)).json()) as { webhook_id: string }).webhook_id))
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
      expect(receiver.received.filter((r) => r.verified).map((r) => r.id).sort()).toEqual(jobs.sort())
      expect(lines.find((l) => l.msg === 'shutting down')).toMatchObject({ pending_deliveries: 3 })
    })

    it('reports pending jobs even when an in-flight request outlasts the grace period', async () => {
      const failing = await startWebhookReceiver(secret)
      failing.answer(...Array.from({ length: 20 }, () => ({ status: 500 })))
      const { child, url, lines, exited } = await startEntry({ ...env(), MODERATION_SHUTDOWN_GRACE_MS: '1500' })
      const job = (await (await submit(url, failing.url)).json()) as { id: string }
      await failing.next()
      // A slow upload holds a connection open past the grace period.
      const socket = (await import('node:net')).connect(Number(new URL(url).port), '127.0.0.1')
      socket.write('POST /v1/moderate HTTP/1.1\r\nHost: x\r\ncontent-type: text/plain\r\ncontent-length: 100\r\n\r\nabc')
      await new Promise((resolve) => socket.once('ready', resolve))
      child.kill('SIGTERM')
      expect(await exited).toBe(1)
      socket.destroy()
      expect(lines.find((l) => l.msg === 'webhook undelivered at shutdown')).toMatchObject({ job_id: job.id })
    })

    it('reports, job by job, what it could not deliver within the grace period, and exits 1', async () => {
      const failing = await startWebhookReceiver(secret)
      failing.answer(...Array.from({ length: 20 }, () => ({ status: 500 })))
      const { child, url, lines, exited } = await startEntry(env())
      const job = (await (await submit(url, failing.url)).json()) as { id: string }
      await failing.next() // the first attempt failed; a retry is scheduled
      child.kill('SIGTERM')
      expect(await exited).toBe(1)
      expect(lines.find((l) => l.msg === 'webhook undelivered at shutdown')).toMatchObject({ level: 'error', job_id: job.id, last_error: 'HTTP 500' })
      expect(lines.find((l) => l.msg === 'stopped')).toMatchObject({ undelivered: 1 })
    })
  })
})
