import { randomUUID } from 'node:crypto'
import { afterAll } from 'vitest'
import { systemClock } from '../../src/core/shared/ports.js'
import type { Verdict } from '../../src/core/shared/verdict.js'
import { importWebhookSecrets } from '../../src/core/webhooks/webhook-signature.js'
import { createJsonLogger } from '../../src/logging/json-logger.js'
import { createNodeWebhookTransport } from '../../src/net/node-webhook-transport.js'
import { createRedisDeliveryQueue, type RedisDeliveryQueue, type RedisDeliveryQueueOptions } from '../../src/webhooks/redis-delivery-queue.js'
import { REDIS_TEST_URL } from './redis.js'

export const testVerdict = (id = 'v') =>
  ({ id, safe: true, action: 'allow', categories: [], confidence: 0.9, source: 'model', policy: 'default', policy_version: 'p', model: 'm', latency_ms: 5, budget_ms: 800 }) as Verdict

/** A prefix of this test's own: nothing of another run's queue is seen. */
export const testPrefix = () => `test-${randomUUID().slice(0, 8)}`

/**
 * Redis delivery queues for one test file, signing with `secret`, delivering to 127.0.0.1, all
 * closed after the file; queues made with the same prefix are replicas sharing Redis.
 */
export function useRedisQueues(secret: string) {
  const queues: RedisDeliveryQueue[] = []
  afterAll(async () => {
    await Promise.all(queues.map((queue) => queue.close()))
  })
  return function replica(prefix: string, options: Partial<RedisDeliveryQueueOptions> = {}): RedisDeliveryQueue {
    const queue = createRedisDeliveryQueue({
      url: REDIS_TEST_URL,
      prefix,
      keys: importWebhookSecrets([secret]),
      transport: createNodeWebhookTransport({ allowedHosts: ['127.0.0.1'] }),
      clock: systemClock,
      logger: createJsonLogger({ level: 'silent' }),
      initialDelayMs: 100,
      ...options,
    })
    queues.push(queue)
    return queue
  }
}
