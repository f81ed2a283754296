// Hostile review of the Redis-backed shared state (issue 14). Each test states what should hold;
// a failing test is a confirmed defect.
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { Webhook } from 'standardwebhooks'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import type { Verdict } from '../../src/core/shared/verdict.js'
import { createJsonLogger } from '../../src/logging/json-logger.js'
import { redactedUrl } from '../../src/net/redis-connection.js'
import { needsRedis, REDIS_TEST_URL } from '../helpers/redis.js'
import { startWebhookReceiver } from '../helpers/webhook-receiver.js'
import { testVerdict, useRedisQueues } from '../helpers/redis-queues.js'
import { buildService } from '../helpers/service.js'
import { useFakeGemini } from '../helpers/use-fake-gemini.js'

const available = await needsRedis()
const secret = `whsec_${Buffer.from('redis queue test secret 32 bytes').toString('base64')}`
const RUN = `rev2-${randomUUID().slice(0, 8)}`
const admin = new Redis(REDIS_TEST_URL, { lazyConnect: true })

afterEach(() => {
  vi.restoreAllMocks()
})
afterAll(async () => {
  if (!available) return
  // Only this file's keys.
  let cursor = '0'
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${RUN}*`, 'COUNT', 1000)
    cursor = next
    if (keys.length > 0) await admin.del(...keys)
  } while (cursor !== '0')
  admin.disconnect()
})

const verdict = testVerdict
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
let n = 0
const newPrefix = () => `${RUN}-${n++}`

const replica = useRedisQueues(secret)
const never = () => new Promise<Verdict>(() => {})
const DEAD = 'http://127.0.0.1:9/hooks'

describe.runIf(available)('hostile review: Redis delivery queue', () => {
  it('per-client cap (WEBHOOK_MAX_PENDING_PER_CLIENT=2) holds against 10 concurrent submissions to one replica', async () => {
    const queue = replica(newPrefix(), { maxPending: 100, maxPendingPerOwner: 2 })
    const results = await Promise.all(Array.from({ length: 10 }, () => queue.submit({ callbackUrl: DEAD, owner: 'a', judge: never })))
    const accepted = results.filter((r) => r.ok).length
    expect(accepted).toBeLessThanOrEqual(2)
  })

  it('WEBHOOK_MAX_PENDING (overall cap 3) holds against 10 concurrent submissions from different clients', async () => {
    const queue = replica(newPrefix(), { maxPending: 3, maxPendingPerOwner: 3 })
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => queue.submit({ callbackUrl: DEAD, owner: `c${i}`, judge: never })))
    expect(results.filter((r) => r.ok).length).toBeLessThanOrEqual(3)
  })

  it('WEBHOOK_MAX_JUDGING=2 holds against 10 concurrent submissions', async () => {
    const queue = replica(newPrefix(), { maxJudging: 2 })
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => queue.submit({ callbackUrl: DEAD, owner: `c${i}`, judge: never })))
    expect(results.filter((r) => r.ok).length).toBeLessThanOrEqual(2)
  })

  it('an Idempotency-Key sent at once to two replicas with different content: one is a conflict', async () => {
    const receiver = await startWebhookReceiver(secret)
    const prefix = newPrefix()
    const [one, two] = [replica(prefix), replica(prefix)]
    const key = 'key:aaaa:order-42'
    const [a, b] = await Promise.all([
      one.submit({ callbackUrl: receiver.url, owner: 'key:aaaa', idempotency: { key, fingerprint: 'content-A' }, judge: async () => verdict('verdict-of-A') }),
      two.submit({ callbackUrl: receiver.url, owner: 'key:aaaa', idempotency: { key, fingerprint: 'content-B' }, judge: async () => verdict('verdict-of-B') }),
    ])
    await sleep(1_000)
    const winner = [a, b].find((r): r is Extract<typeof r, { ok: true }> => r.ok)
    const outcome = {
      answers: [a, b].map((r) => (r.ok ? (r.replayed ? 'replayed' : 'ok') : r.reason)).sort(),
      posts: receiver.received.map((r) => `${r.id === winner?.job.webhook_id ? 'same-webhook-id' : 'other'}:${String(r.payload?.data.id)}`).sort(),
    }
    expect(outcome).toEqual({ answers: ['conflict', 'ok'], posts: [expect.stringMatching(/^same-webhook-id:verdict-of-[AB]$/)] })
  })

  it('a retried submission (same key, same content) racing the first: judged once, one webhook POST', async () => {
    const receiver = await startWebhookReceiver(secret)
    const prefix = newPrefix()
    const [one, two] = [replica(prefix), replica(prefix)]
    let judged = 0
    const judge = async () => {
      judged++
      await sleep(50)
      return verdict(`judged-${judged}`)
    }
    const idempotency = { key: 'key:aaaa:retry-1', fingerprint: 'same' }
    const [a, b] = await Promise.all([
      one.submit({ callbackUrl: receiver.url, owner: 'key:aaaa', idempotency, judge }),
      two.submit({ callbackUrl: receiver.url, owner: 'key:aaaa', idempotency, judge }),
    ])
    expect(a.ok && b.ok).toBe(true)
    await sleep(1_500)
    expect({ judged, posts: receiver.received.length, ids: [...new Set(receiver.received.map((r) => r.id))].length }).toEqual({ judged: 1, posts: 1, ids: 1 })
  })

  it('a place is given back when the job record cannot be written (Redis blip after the place was taken)', async () => {
    const prefix = newPrefix()
    const queue = replica(prefix, { maxPending: 10, maxPendingPerOwner: 1 })
    // The job record's SET fails once (a timeout or a dropped connection at that moment).
    const realSet = Redis.prototype.set
    let failed = false
    vi.spyOn(Redis.prototype, 'set').mockImplementation(function (this: Redis, ...args: unknown[]) {
      if (!failed && String(args[0]).includes(':job:')) {
        failed = true
        return Promise.reject(new Error('Command timed out')) as never
      }
      return (realSet as (...a: unknown[]) => unknown).apply(this, args) as never
    })
    await expect(queue.submit({ callbackUrl: DEAD, owner: 'a', judge: async () => verdict() })).rejects.toThrow() // the route answers 503: retry
    vi.restoreAllMocks()
    // The client retries: no job of theirs exists, so they must not be over their cap.
    const retried = await queue.submit({ callbackUrl: DEAD, owner: 'a', judge: never })
    expect(retried.ok ? 'ok' : retried.reason).toBe('ok')
    expect(await admin.zcard(`${prefix}:pending:a`)).toBe(1)
  })

  it('held: a judge that throws fails the job and gives its place back', async () => {
    const prefix = newPrefix()
    const queue = replica(prefix, { maxPending: 10, maxPendingPerOwner: 1 })
    const first = await queue.submit({ callbackUrl: DEAD, owner: 'a', judge: async () => { throw new Error('model exploded') } })
    expect(first.ok).toBe(true)
    await sleep(200)
    expect(first.ok && (await queue.get(first.job.id, 'a'))).toMatchObject({ status: 'failed' })
    expect(first.ok && (await queue.get(first.job.id, 'b'))).toBeUndefined()
    expect((await queue.submit({ callbackUrl: DEAD, owner: 'a', judge: never })).ok).toBe(true)
  })

  it('held: every key the queue writes for a job expires (no key without a TTL besides the sorted sets and BullMQ meta)', async () => {
    const receiver = await startWebhookReceiver(secret)
    const prefix = newPrefix()
    const queue = replica(prefix)
    const r = await queue.submit({ callbackUrl: receiver.url, owner: 'a', judge: async () => verdict() })
    expect(r.ok).toBe(true)
    for (let i = 0; i < 100 && receiver.received.length === 0; i++) await sleep(20)
    await sleep(300)
    const keys = await admin.keys(`${prefix}:*`)
    const persistent: string[] = []
    for (const key of keys) if ((await admin.ttl(key)) === -1) persistent.push(key)
    expect(persistent.filter((k) => !k.startsWith(`${prefix}:deliveries:`))).toEqual([])
  })
})

describe('hostile review: secrets in logs', () => {
  it('the REDIS_URL logged at start carries no password, including one given as ?password= (which ioredis uses)', () => {
    const url = 'redis://10.0.0.5:6379/0?password=s3cret-pass'
    const client = new Redis(url, { lazyConnect: true })
    expect(client.options.password).toBe('s3cret-pass') // ioredis authenticates with it
    client.disconnect()
    expect(redactedUrl(url)).not.toContain('s3cret-pass')
  })
})

const gemini = useFakeGemini()
describe('hostile review: signed requests (Standard Webhooks senders retry with the same webhook-id)', () => {
  const inbound = `whsec_${Buffer.from('inbound signing secret, 32 bytes').toString('base64')}`
  function signed(body: string, id: string) {
    const at = new Date()
    return new Request('http://localhost/v1/moderate', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(inbound).sign(id, at, body) },
    })
  }
  it('a signed request refused with 429 (over the cap) is not burnt: its retry with the same webhook-id is not called a replay', async () => {
    const { app } = await buildService({ gemini, env: { WEBHOOK_SECRET: inbound, MODERATION_API_KEYS: 'k', WEBHOOK_ALLOWED_HOSTS: '127.0.0.1', WEBHOOK_MAX_PENDING_PER_CLIENT: '1' } })
    const first = JSON.stringify({ text: `one ${randomUUID()}`, callback_url: DEAD })
    expect((await app.request(signed(first, `msg_${randomUUID()}`))).status).toBe(202)
    const second = JSON.stringify({ text: `two ${randomUUID()}`, callback_url: DEAD })
    const id = `msg_${randomUUID()}`
    expect((await app.request(signed(second, id))).status).toBe(429)
    // The sender retries the same message later, as Standard Webhooks senders do after a 429/5xx.
    const retried = await app.request(signed(second, id))
    expect(retried.status).not.toBe(401)
  })
})

describe.runIf(available)('hostile review: the real entry with Redis', () => {
  it('through HTTP: 20 concurrent callbacks from one API key with WEBHOOK_MAX_PENDING_PER_CLIENT=2 get at most 2 x 202; the password in REDIS_URL is not logged', async () => {
    const { spawn } = await import('node:child_process')
    const { createInterface } = await import('node:readline')
    const lines: string[] = []
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/entry/node.ts'], {
      env: {
        PATH: process.env.PATH,
        PORT: '0',
        MODERATION_WARMUP_REQUESTS: '0',
        MODERATION_DRAIN_DELAY_MS: '0',
        MODERATION_WORKERS: '1',
        GEMINI_API_KEY: 'k',
        GEMINI_BASE_URL: gemini.url,
        MODERATION_API_KEYS: 'client-a',
        WEBHOOK_SECRET: secret,
        WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
        WEBHOOK_MAX_PENDING_PER_CLIENT: '2',
        REDIS_URL: `${REDIS_TEST_URL}?password=s3cret-pass`,
        MODERATION_REDIS_PREFIX: newPrefix(),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    try {
      for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', (line) => lines.push(line))
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line: ${lines.join('\n')}`)), 20_000)
        const check = setInterval(() => {
          const listening = lines.map((l) => { try { return JSON.parse(l) as { msg?: string; url?: string } } catch { return {} } }).find((l) => l.msg === 'listening')
          if (listening) { clearInterval(check); clearTimeout(timer); resolve(listening.url!) }
        }, 20)
      })
      const statuses = await Promise.all(
        Array.from({ length: 20 }, async (_, i) =>
          (await fetch(`${url}/v1/moderate`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer client-a' }, body: JSON.stringify({ text: `capped ${i}`, callback_url: DEAD }) })).status,
        ),
      )
      const accepted = statuses.filter((s) => s === 202).length
      const leaked = lines.filter((l) => l.includes('s3cret-pass'))
      expect({ accepted: Math.min(accepted, 2) === accepted ? 'within cap' : `${accepted} accepted`, leaked }).toEqual({ accepted: 'within cap', leaked: [] })
    } finally {
      child.kill('SIGKILL')
    }
  }, 40_000)
})

describe('hostile review: a Redis that accepts connections and never answers (held)', () => {
  it('a verdict-cache read and a replay claim give up within MODERATION_REDIS_TIMEOUT_MS, without throwing', async () => {
    const { createServer } = await import('node:net')
    const { connectRedis } = await import('../../src/net/redis-connection.js')
    const { createRedisVerdictCache } = await import('../../src/cache/redis-verdict-cache.js')
    const { createInProcessReplayGuard, createRedisReplayGuard } = await import('../../src/http/replay-guard.js')
    const sockets: import('node:net').Socket[] = []
    const hole = createServer((socket) => void sockets.push(socket))
    await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve))
    const port = (hole.address() as { port: number }).port
    const connection = connectRedis(`redis://127.0.0.1:${port}`, { logger: createJsonLogger({ level: 'silent' }), timeoutMs: 25 })
    try {
      const cache = createRedisVerdictCache(connection.client, { ttlSeconds: 60, namespace: `${RUN}:x` })
      const replays = createRedisReplayGuard(connection.client, { namespace: RUN, ttlMs: 1000, local: createInProcessReplayGuard({ ttlMs: 1000 }) })
      const times: number[] = []
      for (let i = 0; i < 5; i++) {
        const started = performance.now()
        expect(await cache.get(`k${i}`)).toBeUndefined()
        await cache.set(`k${i}`, { verdict: verdict() } as never)
        expect(await replays.claim(`id${i}`)).toBe(true)
        times.push(performance.now() - started)
        await sleep(300)
      }
      expect(Math.max(...times)).toBeLessThan(100)
    } finally {
      await connection.close()
      for (const s of sockets) s.destroy()
      hole.close()
    }
  })
})
