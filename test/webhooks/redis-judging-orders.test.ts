import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import type { Job } from '../../src/core/webhooks/delivery-job.js'
import { systemClock } from '../../src/core/shared/ports.js'
import { judgeOrder } from '../../src/http/judging-order.js'
import { createJsonLogger } from '../../src/logging/json-logger.js'
import { needsRedis, REDIS_TEST_URL } from '../helpers/redis.js'
import { testPrefix, useRedisQueues } from '../helpers/redis-queues.js'
import { buildService, shippedPolicies, type LogLine } from '../helpers/service.js'
import { useFakeGemini } from '../helpers/use-fake-gemini.js'
import { startWebhookReceiver } from '../helpers/webhook-receiver.js'

const available = await needsRedis()
const secret = `whsec_${Buffer.from('judging orders secret, 32 bytes').toString('base64')}`
const replica = useRedisQueues(secret)
const admin = new Redis(REDIS_TEST_URL, { lazyConnect: true })
afterAll(() => admin.disconnect())
const gemini = useFakeGemini()

const never = () => new Promise<never>(() => {})
const until = async (done: () => boolean | Promise<boolean>, timeoutMs: number) => {
  const end = Date.now() + timeoutMs
  while (!(await done()) && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20))
}

const order = (changes: Record<string, unknown> = {}) => ({ policy: 'default', budget_ms: 800, request_id: 'req-1', late: false, text: 'hello there', text_sha256: 'a'.repeat(64), images: [], ...changes })

/**
 * A job accepted by a replica that died before judging it (its order planted as `json`), then
 * recovered by a live replica judging orders as the service does: its job record once finished,
 * the webhooks received, and the live replica's logs.
 */
async function recovered(json: unknown, parts: Uint8Array[] = []) {
  const receiver = await startWebhookReceiver(secret)
  const prefix = testPrefix()
  const dead = replica(prefix, { judgeOrder: () => never, leaseMs: 300 })
  const submitted = await dead.submit({ callbackUrl: receiver.url, owner: 'a', judge: never, order: () => ({ json, parts }) })
  if (!submitted.ok) throw new Error('not submitted')
  await dead.close()

  const [service, policies] = [await buildService({ gemini }), await shippedPolicies()]
  const logs: LogLine[] = []
  const limits = { maxBudgetMs: service.config.MODERATION_MAX_BUDGET_MS, maxTextChars: service.config.MODERATION_MAX_TEXT_CHARS, maxImages: service.config.MODERATION_MAX_IMAGES }
  const live = replica(prefix, {
    judgeOrder: (kept) => judgeOrder({ policies, moderator: service.moderator, clock: systemClock, limits }, kept),
    leaseMs: 300,
    logger: createJsonLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line) as LogLine) }),
  })
  let job: Job | undefined
  await until(async () => {
    job = await live.get(submitted.job.id, 'a')
    return job?.status === 'delivered' || job?.status === 'failed'
  }, 8_000)
  // The order is deleted just after the job's outcome is recorded.
  await until(async () => (await admin.keys(`${prefix}:unjudged*`)).length === 0, 2_000)
  return { job: job!, receiver, logs, leftInRedis: await admin.keys(`${prefix}:unjudged*`) }
}

describe.runIf(available)('orders kept for judging, as another process reads them back (real Redis)', () => {
  it('an order whose policy was removed since is not judged under another policy: the job fails, saying which policy, and no webhook goes out', async () => {
    gemini.setDefault({ verdict: { safe: true, categories: [], confidence: 0.99 } })
    const { job, receiver, logs, leftInRedis } = await recovered(order({ policy: 'retired-strict' }))
    expect(job.status).toBe('failed')
    expect(job.last_error).toMatch(/policy "retired-strict" is no longer loaded/)
    expect(job.verdict).toBeUndefined()
    expect(receiver.received).toEqual([])
    expect(gemini.requests).toEqual([])
    expect(leftInRedis).toEqual([])
    expect(logs.some((line) => line.level === 'error' && line.job_id === job.id && String(line.error).includes('retired-strict'))).toBe(true)
  }, 15_000)

  it('a stored budget above the policy and server caps is capped again at judging: a hanging model gets the timeout verdict within the policy budget', async () => {
    gemini.setDefault({ hang: true })
    const { job, receiver } = await recovered(order({ budget_ms: 25_000 }))
    expect(job.status).toBe('delivered')
    const verdict = receiver.received[0]?.payload?.data as { source: string; fallback_reason: string; budget_ms: number; latency_ms: number; action: string }
    expect(verdict).toMatchObject({ source: 'fallback', fallback_reason: 'timeout', budget_ms: 800, action: 'review' })
    expect(verdict.latency_ms).toBeLessThanOrEqual(800 + 300)
  }, 15_000)

  it('a budget of 2^53-1 is capped too: no timer overflow, the timeout verdict at the policy budget', async () => {
    gemini.setDefault({ hang: true })
    const { job, receiver } = await recovered(order({ budget_ms: Number.MAX_SAFE_INTEGER }))
    expect(job.status).toBe('delivered')
    const verdict = receiver.received[0]?.payload?.data as { fallback_reason: string; budget_ms: number; latency_ms: number }
    expect(verdict).toMatchObject({ fallback_reason: 'timeout', budget_ms: 800 })
    expect(verdict.latency_ms).toBeGreaterThanOrEqual(700)
    expect(verdict.latency_ms).toBeLessThanOrEqual(800 + 300)
  }, 15_000)

  const hostile: [string, unknown, Uint8Array[]][] = [
    ['300 000 unjudged frame ranges', order({ text: undefined, text_sha256: undefined, images: [{ mime_type: 'image/webp', part: 0, sha256: 'b'.repeat(64), unjudged_frames: Array.from({ length: 300_000 }, (_, n) => ({ first: 2 * n, last: 2 * n })) }] }), [Uint8Array.of(1, 2, 3)]],
    ['text past MODERATION_MAX_TEXT_CHARS', order({ text: 'a'.repeat(50_001) }), []],
    ['more images than MODERATION_MAX_IMAGES', order({ images: Array.from({ length: 5 }, (_, part) => ({ mime_type: 'image/webp', part, sha256: 'b'.repeat(64) })) }), Array.from({ length: 5 }, () => Uint8Array.of(1))],
    ['a frame range that ends before it starts', order({ images: [{ mime_type: 'image/webp', part: 0, sha256: 'b'.repeat(64), unjudged_frames: [{ first: 5, last: -1 }] }] }), [Uint8Array.of(1)]],
  ]
  for (const [what, json, parts] of hostile) {
    it(`an order with ${what} is refused, never judged: the job fails, its content is deleted, the refusal is logged by job id`, async () => {
      gemini.setDefault({ verdict: { safe: true, categories: [], confidence: 0.99 } })
      const { job, receiver, logs, leftInRedis } = await recovered(json, parts)
      expect(job.status).toBe('failed')
      expect(job.last_error).toMatch(/could not be read/)
      expect(receiver.received).toEqual([])
      expect(gemini.requests).toEqual([])
      expect(leftInRedis).toEqual([])
      expect(logs.some((line) => line.level === 'error' && line.job_id === job.id)).toBe(true)
    }, 15_000)
  }
})
