import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import type { KeptOrder } from '../../src/core/webhooks/delivery-queue.js'
import type { Verdict } from '../../src/core/shared/verdict.js'
import { needsRedis, REDIS_TEST_URL } from '../helpers/redis.js'
import { testPrefix, testVerdict, useRedisQueues } from '../helpers/redis-queues.js'
import { startWebhookReceiver } from '../helpers/webhook-receiver.js'

const available = await needsRedis()
const secret = `whsec_${Buffer.from('judging recovery secret 32 bytes').toString('base64')}`
const replica = useRedisQueues(secret)
const admin = new Redis(REDIS_TEST_URL, { lazyConnect: true })
afterAll(() => admin.disconnect())

const never = () => new Promise<never>(() => {})
const until = async (done: () => boolean, timeoutMs: number) => {
  const end = Date.now() + timeoutMs
  while (!done() && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20))
}

/** A replica's judging of kept orders ({ n }), counted: which orders it judged, and how many at once at most. */
function countingJudge(judgeMs: number) {
  const judged: number[] = []
  // The binary parts each judged order came back with.
  const parts = new Map<number, number[][]>()
  let running = 0
  let most = 0
  const judgeOrder = (order: KeptOrder) => async (): Promise<Verdict> => {
    running++
    most = Math.max(most, running)
    await new Promise((resolve) => setTimeout(resolve, judgeMs))
    running--
    judged.push((order.json as { n: number }).n)
    parts.set((order.json as { n: number }).n, order.parts.map((part) => [...part]))
    return testVerdict(`recovered-${(order.json as { n: number }).n}`)
  }
  return { judged, parts, judgeOrder, most: () => most }
}

describe.runIf(available)('judging that outlives its process (real Redis)', () => {
  it('two replicas recovering the jobs of one that died mid-judging judge each job once, within their WEBHOOK_MAX_JUDGING, and deliver each webhook-id once', async () => {
    const receiver = await startWebhookReceiver(secret)
    const prefix = testPrefix()
    const dead = replica(prefix, { judgeOrder: () => never, leaseMs: 300 })
    const submitted = await Promise.all(Array.from({ length: 6 }, (_, n) => dead.submit({ callbackUrl: receiver.url, owner: 'a', judge: never, order: () => ({ json: { n }, parts: [Uint8Array.of(n, 0, 255, 10, 13), new Uint8Array(0)] }) })))
    expect(submitted.every((r) => r.ok)).toBe(true)
    // The process stops renewing its claims, as a SIGKILL would have it: its judging never ends.
    await dead.close()

    const [b, c] = [countingJudge(100), countingJudge(100)]
    replica(prefix, { judgeOrder: b.judgeOrder, leaseMs: 300, maxJudging: 2 })
    replica(prefix, { judgeOrder: c.judgeOrder, leaseMs: 300, maxJudging: 2 })
    const verified = () => receiver.received.filter((r) => r.status === 200 && r.verified)
    await until(() => verified().length >= 6, 10_000)
    await new Promise((resolve) => setTimeout(resolve, 300)) // room for a second judging or delivery, were there one

    expect([...b.judged, ...c.judged].sort()).toEqual([0, 1, 2, 3, 4, 5])
    expect(Math.max(b.most(), c.most())).toBeLessThanOrEqual(2)
    // Binary parts (image bytes) come back byte for byte, the empty one included.
    for (const n of [0, 1, 2, 3, 4, 5]) expect(b.parts.get(n) ?? c.parts.get(n)).toEqual([[n, 0, 255, 10, 13], []])
    expect(verified().map((r) => r.id).sort()).toEqual(submitted.map((r) => (r.ok ? r.job.webhook_id : '')).sort())
    expect(new Set(verified().map((r) => r.payload?.data.id))).toEqual(new Set([0, 1, 2, 3, 4, 5].map((n) => `recovered-${n}`)))
    // Judged: the content kept for judging is gone from Redis.
    expect(await admin.keys(`${prefix}:unjudged*`)).toEqual([])
  }, 20_000)

  it('a recovered job whose record is unreadable fails alone: the jobs claimed with it are judged and delivered at once, and its order is not leased for ever', async () => {
    const receiver = await startWebhookReceiver(secret)
    const prefix = testPrefix()
    const dead = replica(prefix, { judgeOrder: () => never, leaseMs: 300 })
    const submitted = await Promise.all([0, 1, 2].map((n) => dead.submit({ callbackUrl: receiver.url, owner: 'a', judge: never, order: () => ({ json: { n }, parts: [] }) })))
    const ids = submitted.map((r) => (r.ok ? r.job.id : ''))
    await dead.close()
    // The first one claimed (oldest) has a record nobody can read.
    await admin.set(`${prefix}:job:${ids[0]}`, '{"job":')
    await admin.zadd(`${prefix}:unjudged`, 0, ids[0]!)

    const errors: { message: string; fields?: Record<string, unknown> }[] = []
    const logger = { debug() {}, info() {}, warn() {}, error: (message: string, fields?: Record<string, unknown>) => void errors.push({ message, fields }) }
    const recovering = countingJudge(0)
    replica(prefix, { judgeOrder: recovering.judgeOrder, leaseMs: 300, maxJudging: 3, logger })
    const verified = () => receiver.received.filter((r) => r.status === 200 && r.verified)
    await until(() => verified().length >= 2, 3_000)

    expect(recovering.judged.sort()).toEqual([1, 2])
    expect(verified().map((r) => r.id).sort()).toEqual([`msg_${ids[1]}`, `msg_${ids[2]}`].sort())
    // The unreadable one is given up, said so by its id, and neither kept nor leased any more.
    expect(errors.filter((e) => e.fields?.job_id === ids[0])).toHaveLength(1)
    await until(() => false, 700) // more than two leases: a claim still renewed would show
    expect(await admin.keys(`${prefix}:unjudged*`)).toEqual([])
  }, 10_000)

  it('a live replica judging for four leases keeps its claim: another replica never judges its job', async () => {
    const receiver = await startWebhookReceiver(secret)
    const prefix = testPrefix()
    const other = countingJudge(0)
    replica(prefix, { judgeOrder: other.judgeOrder, leaseMs: 300 })
    const live = replica(prefix, { judgeOrder: other.judgeOrder, leaseMs: 300 })
    const slow = () => new Promise<Verdict>((resolve) => setTimeout(() => resolve(testVerdict('judged-by-its-own-process')), 1_200))
    const submitted = await live.submit({ callbackUrl: receiver.url, owner: 'a', judge: slow, order: () => ({ json: { n: 0 }, parts: [] }) })
    expect(submitted.ok).toBe(true)
    // While it is judged, its content is in Redis with a claim that lasts a lease at a time.
    expect(await admin.exists(`${prefix}:unjudged:${submitted.ok ? submitted.job.id : ''}`)).toBe(1)
    expect(await admin.pttl(`${prefix}:unjudged-lease:${submitted.ok ? submitted.job.id : ''}`)).toBeLessThanOrEqual(300)
    await until(() => receiver.received.length >= 1, 5_000)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(other.judged).toEqual([])
    expect(receiver.received.map((r) => [r.id, r.payload?.data.id])).toEqual([[submitted.ok ? submitted.job.webhook_id : '', 'judged-by-its-own-process']])
    expect(await admin.keys(`${prefix}:unjudged*`)).toEqual([])
  }, 10_000)

  it('without judgeOrder (the in-process path and Workers) nothing is kept in Redis for judging', async () => {
    const receiver = await startWebhookReceiver(secret)
    const prefix = testPrefix()
    const queue = replica(prefix)
    const submitted = await queue.submit({ callbackUrl: receiver.url, owner: 'a', judge: never, order: () => ({ json: { n: 0 }, parts: [] }) })
    expect(submitted.ok).toBe(true)
    expect(await admin.keys(`${prefix}:unjudged*`)).toEqual([])
  })
})
