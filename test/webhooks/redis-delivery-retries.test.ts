import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import { needsRedis, redisBehindProxy, REDIS_TEST_URL } from '../helpers/redis.js'
import { testPrefix, testVerdict, useRedisQueues } from '../helpers/redis-queues.js'
import { startWebhookReceiver } from '../helpers/webhook-receiver.js'

const available = await needsRedis()
const secret = `whsec_${Buffer.from('redis retry ids test secret, 32b').toString('base64')}`
const replica = useRedisQueues(secret)
const verdict = testVerdict()

const until = async (done: () => boolean | Promise<boolean>, timeoutMs = 10_000) => {
  const end = Date.now() + timeoutMs
  while (!(await done())) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** The delivery messages of a prefix, as BullMQ keeps them in Redis (what any replica would run). */
function deliveryMessages(prefix: string) {
  const connection = new Redis(REDIS_TEST_URL, { maxRetriesPerRequest: null })
  const queue = new Queue('deliveries', { connection, prefix })
  onTestFinished(async () => {
    await queue.close()
    connection.disconnect()
  })
  return {
    queue,
    lockOf: (id: string) => connection.exists(`${prefix}:deliveries:${id}:lock`),
    /** Messages BullMQ did not add because it held their id already (its "duplicated" events). */
    duplicates: async () => (await connection.xrange(`${prefix}:deliveries:events`, '-', '+')).filter(([, fields]) => fields[1] === 'duplicated').length,
  }
}

/** Brings every queued retry due with the receiver up, waits for the queue to empty, and returns the webhook-ids delivered and verified. */
async function deliverRetries(queue: Queue, receiver: Awaited<ReturnType<typeof startWebhookReceiver>>): Promise<string[]> {
  receiver.clearAnswers()
  for (const retry of await queue.getDelayed()) await retry.promote()
  await until(async () => {
    const { active = 0, wait = 0, delayed = 0 } = await queue.getJobCounts('active', 'wait', 'delayed')
    return active + wait + delayed === 0
  })
  return receiver.received.filter((r) => r.status === 200 && r.verified).map((r) => r.id)
}

/**
 * One job's first attempt under way (its answer, a 503, held by the test) in a replica whose
 * Redis then goes down until the attempt's lock has lapsed, as a SIGKILL or a partition would.
 * Retries wait a minute: what is queued is counted before any of it runs.
 */
async function attemptCutOffFromRedis() {
  const proxy = await redisBehindProxy()
  const receiver = await startWebhookReceiver(secret)
  let answerFirst = () => {}
  // Down until the retries come due: the first attempt's answer waits for the test.
  receiver.answer({ status: 503, until: new Promise<void>((resolve) => (answerFirst = resolve)) }, ...Array.from({ length: 5 }, () => ({ status: 503 })))
  const prefix = testPrefix()
  const { queue, lockOf, duplicates } = deliveryMessages(prefix)
  const cutOff = replica(prefix, { url: proxy.url, leaseMs: 300, initialDelayMs: 60_000 })
  const submitted = await cutOff.submit({ callbackUrl: receiver.url, owner: 'a', judge: async () => verdict })
  expect(submitted.ok).toBe(true)
  await until(() => receiver.arrived() === 1)
  const [attempt] = await queue.getActive()
  await proxy.down()
  await until(async () => (await lockOf(attempt!.id!)) === 0)
  return { proxy, receiver, answerFirst: () => answerFirst(), queue, duplicates, prefix, submitted }
}

describe.runIf(available)('delivery retries on Redis (real Redis, BullMQ)', () => {
  it('an attempt taken up again after its lock lapsed (its process cut off from Redis once the attempt had queued its retry) is not made again: one POST, one retry queued, one delivery', async () => {
    const { proxy, receiver, answerFirst, queue, submitted } = await attemptCutOffFromRedis()
    // The attempt ends (503) and queues its retry once Redis is back; its own completion is
    // refused (its lock is gone), so BullMQ hands the attempt out again.
    answerFirst()
    await proxy.up()
    await until(async () => {
      const { active = 0, wait = 0, delayed = 0 } = await queue.getJobCounts('active', 'wait', 'delayed')
      return active === 0 && wait === 0 && delayed > 0
    })
    expect(receiver.arrived()).toBe(1)
    expect(await queue.getDelayedCount()).toBe(1)

    // The retry comes due with the receiver up: one delivery.
    expect(await deliverRetries(queue, receiver)).toEqual([submitted.ok ? submitted.job.webhook_id : ''])
  }, 30_000)

  it('an attempt made twice (its lock lapsed mid-POST, and another replica took it up) queues one retry: the second is the same message', async () => {
    const { proxy, receiver, answerFirst, queue, duplicates, prefix, submitted } = await attemptCutOffFromRedis()
    // Another replica takes the attempt up and makes it (its retry is not queued yet): 503, retry queued.
    replica(prefix, { leaseMs: 300, initialDelayMs: 60_000 })
    await until(async () => receiver.received.length === 1 && (await queue.getDelayedCount()) === 1)
    // The first one's POST ends too (503), and it queues its retry once Redis is back.
    answerFirst()
    await proxy.up()
    await until(async () => (await duplicates()) > 0 || (await queue.getDelayedCount()) > 1)
    expect(receiver.received.map((r) => r.status)).toEqual([503, 503])
    expect(await queue.getDelayedCount()).toBe(1)

    expect(await deliverRetries(queue, receiver)).toEqual([submitted.ok ? submitted.job.webhook_id : ''])
  }, 30_000)
})
