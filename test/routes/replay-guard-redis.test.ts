import { randomUUID } from 'node:crypto'
import { Webhook } from 'standardwebhooks'
import { afterAll, describe, expect, it } from 'vitest'
import { REPLAY_WINDOW_MS } from '../../src/http/auth.js'
import { createInProcessReplayGuard, createRedisReplayGuard } from '../../src/http/replay-guard.js'
import { createJsonLogger } from '../../src/logging/json-logger.js'
import { connectRedis, type RedisConnection } from '../../src/net/redis-connection.js'
import { needsRedis, REDIS_TEST_URL } from '../helpers/redis.js'
import { buildService } from '../helpers/service.js'
import { useFakeGemini } from '../helpers/use-fake-gemini.js'

const secret = `whsec_${Buffer.from('inbound signing secret, 32 bytes').toString('base64')}`
const gemini = useFakeGemini()
const available = await needsRedis()
const connections: RedisConnection[] = []
afterAll(async () => {
  await Promise.all(connections.map((connection) => connection.close()))
})

function signedRequest(body: string, id: string) {
  const at = new Date()
  return new Request('http://localhost/v1/moderate', {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign(id, at, body) },
  })
}

/** An instance (as a replica, or the same one after a restart) whose replay guard is on Redis. */
async function instance(namespace: string, url = REDIS_TEST_URL) {
  const connection = connectRedis(url, { logger: createJsonLogger({ level: 'silent' }), timeoutMs: 25 })
  connections.push(connection)
  for (let i = 0; i < 100 && connection.state() === 'connecting'; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  const replays = createRedisReplayGuard(connection.client, { namespace, ttlMs: REPLAY_WINDOW_MS, local: createInProcessReplayGuard({ ttlMs: REPLAY_WINDOW_MS }) })
  const { app } = await buildService({ gemini, env: { WEBHOOK_SECRET: secret, MODERATION_API_KEYS: 'bearer-key' }, replays })
  return app
}

describe.runIf(available)('the signed-request replay guard on Redis (real Redis)', () => {
  it('refuses a signed request replayed to another replica, or to the same service after a restart', async () => {
    const namespace = `test:${randomUUID()}`
    const body = JSON.stringify({ text: `signed once ${randomUUID()}` })
    const id = `msg_${randomUUID()}`
    const [first, replica] = [await instance(namespace), await instance(namespace)]
    expect((await first.request(signedRequest(body, id))).status).toBe(200)
    const replayed = await replica.request(signedRequest(body, id))
    expect(replayed.status).toBe(401)
    expect(await replayed.json()).toMatchObject({ error: { code: 'unauthorized', message: expect.stringContaining('already used') } })
    const restarted = await instance(namespace)
    expect((await restarted.request(signedRequest(body, id))).status).toBe(401)
    // A new id is accepted anywhere.
    expect((await replica.request(signedRequest(body, `msg_${randomUUID()}`))).status).toBe(200)
  })

  it('lets one of two replicas accept the same signed request sent to both at once', async () => {
    const namespace = `test:${randomUUID()}`
    const [one, two] = [await instance(namespace), await instance(namespace)]
    const body = JSON.stringify({ text: `raced ${randomUUID()}` })
    const id = `msg_${randomUUID()}`
    const statuses = (await Promise.all([one.request(signedRequest(body, id)), two.request(signedRequest(body, id))])).map((res) => res.status).sort()
    expect(statuses).toEqual([200, 401])
  })
})

describe('the replay guard with Redis down (no Redis needed)', () => {
  it('falls back to the process: a replay to the same instance is still refused, and requests are still served', async () => {
    const app = await instance(`test:${randomUUID()}`, 'redis://127.0.0.1:1')
    const body = JSON.stringify({ text: `redis down ${randomUUID()}` })
    const id = `msg_${randomUUID()}`
    expect((await app.request(signedRequest(body, id))).status).toBe(200)
    expect((await app.request(signedRequest(body, id))).status).toBe(401)
  })
})
