import { request as httpRequest } from 'node:http'
import { describe, expect, it } from 'vitest'
import { buildService } from '../helpers/service.js'
import { serveForTests } from '../helpers/serve.js'
import { useFakeGemini } from '../helpers/use-fake-gemini.js'

const gemini = useFakeGemini()
const secret = `whsec_${Buffer.from('inbound signing secret, 32 bytes').toString('base64')}`
const MIB = 1024 * 1024

/**
 * Streams `totalBytes` of body in chunks (no Content-Length), as fast as the socket takes them,
 * and resolves with the status once the server answers (or 0 if the connection dies first).
 */
function streamUpload(base: string, headers: Record<string, string>, totalBytes: number): Promise<number> {
  return new Promise((resolve) => {
    const url = new URL('/v1/moderate', base)
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
      req.destroy()
    })
    req.on('error', () => resolve(0))
    const chunk = Buffer.alloc(64 * 1024, 0x20)
    let sent = 0
    const pump = () => {
      while (sent < totalBytes) {
        sent += chunk.length
        if (!req.write(chunk)) return void req.once('drain', pump)
      }
      req.end()
    }
    pump()
  })
}

const bogusSignature = () => ({
  'webhook-id': `msg_${Math.random()}`,
  'webhook-timestamp': String(Math.floor(Date.now() / 1000)),
  'webhook-signature': `v1,${Buffer.alloc(32, 7).toString('base64')}`,
})

describe('refused and aborted requests give their in-flight place back', () => {
  it('8 chunked 11 MiB bodies with a forged webhook-signature get 413 or 401, and the service still answers others', async () => {
    const { app } = await buildService({ gemini, env: { WEBHOOK_SECRET: secret, MODERATION_API_KEYS: 'bearer-key', MODERATION_MAX_IN_FLIGHT: '8' } })
    const base = await serveForTests(app)
    const statuses = await Promise.all(Array.from({ length: 8 }, () => streamUpload(base, bogusSignature(), 11 * MIB)))
    // Read at most two at once (a quarter of the places); the others are refused at once.
    for (const status of statuses) expect([0, 401, 413, 503]).toContain(status)
    const ok = await fetch(`${base}/v1/moderate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer bearer-key' },
      body: JSON.stringify({ text: 'still answering' }),
    })
    expect(ok.status).toBe(200)
  })

  it('reads at most a quarter of the places\' worth of signed bodies at once: forged signatures trickling bodies get the rest 503 at once, and bearer clients are still served', async () => {
    const { app } = await buildService({ gemini, env: { WEBHOOK_SECRET: secret, MODERATION_API_KEYS: 'bearer-key', MODERATION_MAX_IN_FLIGHT: '8' } })
    const base = await serveForTests(app)
    // Two signed uploads that never finish: the two places signed bodies may hold.
    const trickles = Array.from({ length: 2 }, () => {
      const req = httpRequest(new URL('/v1/moderate', base), { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', ...bogusSignature() } })
      req.on('error', () => {})
      req.write('{"text": "never ends')
      return req
    })
    await new Promise((resolve) => setTimeout(resolve, 100))
    const third = await fetch(`${base}/v1/moderate`, { method: 'POST', headers: { 'content-type': 'application/json', ...bogusSignature() }, body: JSON.stringify({ text: 'a third signed one' }) })
    expect([third.status, third.headers.get('retry-after')]).toEqual([503, '1'])
    const bearer = await fetch(`${base}/v1/moderate`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer bearer-key' }, body: JSON.stringify({ text: 'served meanwhile' }) })
    expect(bearer.status).toBe(200)
    for (const req of trickles) req.destroy()
    // Their places come back: a signed request is read and checked again (its forged signature: 401).
    let status = 0
    for (let attempt = 0; attempt < 50 && status !== 401; attempt++) {
      status = (await fetch(`${base}/v1/moderate`, { method: 'POST', headers: { 'content-type': 'application/json', ...bogusSignature() }, body: JSON.stringify({ text: 'after' }) })).status
      if (status !== 401) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(status).toBe(401)
  })

  it('refuses a signature header that cannot be valid (missing id, stale timestamp, not v1) before reading the body', async () => {
    const { app } = await buildService({ gemini, env: { WEBHOOK_SECRET: secret, MODERATION_API_KEYS: 'bearer-key', MODERATION_MAX_IN_FLIGHT: '8' } })
    const base = await serveForTests(app)
    const cases: Record<string, string>[] = [
      { 'webhook-signature': 'v1,AAAA' },
      { ...bogusSignature(), 'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 3_600) },
      { ...bogusSignature(), 'webhook-signature': 'v2,whatever' },
    ]
    for (const headers of cases) {
      const started = performance.now()
      // 64 MiB would take seconds to send; the answer comes before it is read.
      expect(await streamUpload(base, headers, 64 * MIB)).toBe(401)
      expect(performance.now() - started).toBeLessThan(5_000)
    }
  })

  it('a client that disconnects mid-upload frees its place', async () => {
    const { app } = await buildService({ gemini, env: { MODERATION_MAX_IN_FLIGHT: '2' } })
    const base = await serveForTests(app)
    for (let round = 0; round < 4; round++) {
      await new Promise<void>((resolve) => {
        const req = httpRequest(new URL('/v1/moderate', base), { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } })
        req.on('error', () => resolve())
        req.write('{"text": "half a bo', () => setTimeout(() => (req.destroy(), resolve()), 50))
      })
    }
    let status = 0
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      const res = await fetch(`${base}/v1/moderate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'after the aborts' }) })
      status = res.status
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(status).toBe(200)
  })
})
