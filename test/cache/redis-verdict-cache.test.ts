import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:net'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { createLruVerdictCache } from '../../src/cache/lru-verdict-cache.js'
import type { Judgement } from '../../src/core/shared/verdict.js'
import { createRedisVerdictCache } from '../../src/cache/redis-verdict-cache.js'
import { createTieredVerdictCache } from '../../src/cache/tiered-verdict-cache.js'
import { createJsonLogger } from '../../src/logging/json-logger.js'
import { connectRedis, type RedisConnection } from '../../src/net/redis-connection.js'
import { buildService } from '../helpers/service.js'
import { needsRedis, REDIS_TEST_URL } from '../helpers/redis.js'
import { useFakeGemini } from '../helpers/use-fake-gemini.js'

const gemini = useFakeGemini()
const available = await needsRedis()
const connections: RedisConnection[] = []
afterAll(async () => {
  await Promise.all(connections.map((connection) => connection.close()))
})

function connect(url = REDIS_TEST_URL, lines: string[] = []) {
  const connection = connectRedis(url, { logger: createJsonLogger({ level: 'info', write: (line) => lines.push(line) }), timeoutMs: 25 })
  connections.push(connection)
  return connection
}

/** A service whose verdict cache is its own LRU in front of Redis, under a namespace of this test's. */
async function instance(namespace: string, connection = connect()) {
  const cache = createTieredVerdictCache(createLruVerdictCache(), createRedisVerdictCache(connection.client, { ttlSeconds: 60, namespace }))
  return buildService({ gemini, cache, store: () => ({ kind: 'redis', connected: connection.state() === 'connected' }) })
}

const ready = async (connection: RedisConnection) => {
  for (let i = 0; i < 100 && connection.state() !== 'connected'; i++) await new Promise((resolve) => setTimeout(resolve, 10))
}

describe.runIf(available)('the verdict cache on Redis (real Redis)', () => {
  it('shares verdicts between instances: a verdict judged by one is a cache hit on the other', async () => {
    const namespace = `test:${randomUUID()}`
    const [one, two] = [await instance(namespace), await instance(namespace)]
    await ready(connections.at(-1)!)
    const text = `shared between instances ${randomUUID()}`
    expect(await (await one.moderate({ text })).json()).toMatchObject({ source: 'model' })
    await new Promise((resolve) => setTimeout(resolve, 20)) // the write is not awaited by the verdict
    expect(await (await two.moderate({ text })).json()).toMatchObject({ source: 'cache' })
    expect(gemini.requests).toHaveLength(1)
    expect(await (await two.app.request('/readyz')).json()).toMatchObject({ store: { kind: 'redis', connected: true } })
  })

  it('keeps entries apart by namespace (another version), and refuses expired or tampered entries as misses', async () => {
    const connection = connect()
    await ready(connection)
    const namespace = `test:${randomUUID()}`
    const judgement: Judgement = { safe: true, action: 'allow', categories: [], confidence: 0.9, model: 'm' }
    let now = Date.now()
    const cache = createRedisVerdictCache(connection.client, { ttlSeconds: 60, namespace, now: () => now })
    await cache.set('k', judgement)
    expect(await cache.get('k')).toEqual(judgement)
    expect(await createRedisVerdictCache(connection.client, { ttlSeconds: 60, namespace: `${namespace}-other` }).get('k')).toBeUndefined()
    // Redis holds it for the TTL; the entry's own expiry is checked when read.
    expect(await connection.client.pttl(`${namespace}:k`)).toBeGreaterThan(55_000)
    now += 61_000
    expect(await cache.get('k')).toBeUndefined()
    now = Date.now()
    for (const tampered of ['not json', JSON.stringify({ judgement: { safe: 'yes' }, expires_at: now + 60_000 }), JSON.stringify({ judgement, expires_at: 'later' })]) {
      await connection.client.set(`${namespace}:k`, tampered)
      expect(await cache.get('k')).toBeUndefined()
    }
  })

  it('answers within the budget while Redis is paused: a command slower than the timeout is a miss', async () => {
    const connection = connect()
    await ready(connection)
    const svc = await instance(`test:${randomUUID()}`, connection)
    const admin = new Redis(REDIS_TEST_URL)
    try {
      await admin.call('CLIENT', 'PAUSE', '400', 'ALL')
      const started = performance.now()
      const res = await svc.moderate({ text: `while redis is paused ${randomUUID()}`, budget_ms: 300 })
      expect(await res.json()).toMatchObject({ source: 'model' })
      expect(performance.now() - started).toBeLessThan(300)
    } finally {
      await admin.call('CLIENT', 'UNPAUSE').catch(() => {})
      admin.disconnect()
    }
  })
})

describe('the verdict cache with Redis down (no Redis needed)', () => {
  it('is a miss at once, the service answers by the model, and the outage is logged once, not per request', async () => {
    // A port that refuses connections: Redis is down from the start.
    const closed = await new Promise<number>((resolve) => {
      const probe: Server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number }
        probe.close(() => resolve(port))
      })
    })
    const lines: string[] = []
    const connection = connect(`redis://127.0.0.1:${closed}`, lines)
    const svc = await instance(`test:${randomUUID()}`, connection)
    for (let i = 0; i < 5; i++) {
      const started = performance.now()
      expect(await (await svc.moderate({ text: `redis down ${i} ${randomUUID()}` })).json()).toMatchObject({ source: 'model' })
      expect(performance.now() - started).toBeLessThan(500)
    }
    await new Promise((resolve) => setTimeout(resolve, 400)) // a few reconnection attempts
    const outages = lines.map((line) => JSON.parse(line) as { msg: string }).filter((line) => line.msg.startsWith('redis unavailable'))
    expect(outages).toHaveLength(1)
    expect(await (await svc.app.request('/readyz')).json()).toMatchObject({ status: 'ready', store: { kind: 'redis', connected: false } })
    expect(JSON.stringify(svc.logs)).not.toContain('verdict cache read failed')
  })
})
