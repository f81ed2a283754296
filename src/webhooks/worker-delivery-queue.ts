import { deliverOnce, retryDelay } from '../core/delivery-attempt.js'
import type { DeliveryQueue, Job, Submission, WebhookTransport } from '../core/delivery-queue.js'
import type { Clock, Logger } from '../core/ports.js'
import type { Verdict } from '../core/verdict.js'
import type { WebhookKeys } from '../core/webhook-signature.js'

// Structural types for the Workers bindings used, so nothing here needs global Workers types.
export interface JobStore {
  get(key: string, type: 'json'): Promise<unknown>
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>
}
export interface QueueProducer {
  send(body: unknown): Promise<void>
}
export interface QueueMessage {
  body: unknown
  /** How many times this message has been handed to a consumer, this time included. */
  attempts?: number
  ack(): void
  retry(options?: { delaySeconds?: number }): void
}

/**
 * A delivery message carries everything the attempt needs (job, verdict, first submission time):
 * the consumer never depends on reading back a KV write, which may not have reached its
 * location yet. KV only shows the status.
 */
interface DeliveryMessage {
  stored: StoredJob
}

export interface WorkerDeliveryQueueOptions {
  jobs: JobStore
  producer: QueueProducer
  keys: WebhookKeys | Promise<WebhookKeys>
  transport: WebhookTransport
  clock: Clock
  logger: Logger
  retryWindowMs?: number
  initialDelayMs?: number
  maxDelayMs?: number
  attemptTimeoutMs?: number
  judgeTimeoutMs?: number
  wallClock?: () => number
  random?: () => number
  newId?: () => string
}

interface StoredJob {
  job: Job
  owner?: string
  firstAt: number
  fingerprint?: string
}

const DAY_SECONDS = 24 * 60 * 60
const JOB_TTL_SECONDS = 7 * DAY_SECONDS

/**
 * Asynchronous moderation on Workers: jobs in KV (readable from any isolate), judging in the
 * submitting request's waitUntil, and each delivery attempt as a message on a Cloudflare Queue
 * (durable, at-least-once) whose consumer signs, POSTs and retries with the Node queue's rules.
 * What is on the queue survives an isolate's end; a job still being judged when its request's
 * waitUntil is cut short does not (README).
 *
 * @example
 * const deliveries = createWorkerDeliveryQueue({ jobs: env.JOBS, producer: env.DELIVERIES, keys, transport, clock, logger })
 */
export function createWorkerDeliveryQueue({
  jobs,
  producer,
  keys,
  transport,
  clock,
  logger,
  retryWindowMs = 60 * 60 * 1000,
  initialDelayMs = 1000,
  maxDelayMs = 5 * 60 * 1000,
  attemptTimeoutMs = 10_000,
  judgeTimeoutMs = 30_000,
  wallClock = Date.now,
  random = Math.random,
  newId = () => crypto.randomUUID(),
}: WorkerDeliveryQueueOptions): DeliveryQueue & { consume(messages: readonly QueueMessage[]): Promise<void> } {
  const load = async (id: string) => (await jobs.get(`job:${id}`, 'json')) as StoredJob | null
  const save = (stored: StoredJob, changes: Partial<Job>) => {
    Object.assign(stored.job, changes, { updated_at: new Date(wallClock()).toISOString() })
    return jobs.put(`job:${stored.job.id}`, JSON.stringify(stored), { expirationTtl: JOB_TTL_SECONDS })
  }
  const fail = async (stored: StoredJob, error: string) => {
    await save(stored, { status: 'failed', last_error: error })
    logger.error('webhook delivery failed', { job_id: stored.job.id, webhook_id: stored.job.webhook_id, attempts: stored.job.attempts, error })
  }

  async function judgeAndEnqueue(stored: StoredJob, judge: () => Promise<Verdict>) {
    await save(stored, { status: 'running' })
    const late = clock.timer(judgeTimeoutMs)
    let verdict: Verdict | undefined
    try {
      verdict = await Promise.race([judge(), late.promise.then(() => undefined)])
    } catch (error) {
      return fail(stored, `judging failed: ${String(error)}`)
    } finally {
      late.cancel()
    }
    if (!verdict) return fail(stored, `judging did not finish in ${judgeTimeoutMs} ms`)
    await save(stored, { verdict })
    await producer.send({ stored } satisfies DeliveryMessage)
  }

  async function deliver(message: QueueMessage) {
    const stored = (message.body as DeliveryMessage | null)?.stored
    if (!stored?.job?.verdict) {
      logger.error('webhook message without a job; dropped', {})
      return message.ack()
    }
    // At-least-once: a job already finished (as far as KV shows) is not delivered again.
    const current = await load(stored.job.id)
    if (current && (current.job.status === 'delivered' || current.job.status === 'failed')) return message.ack()
    const { job } = stored
    if (await jobs.get(`gone:${job.callback_url}`, 'json')) {
      await fail(stored, 'the endpoint answered 410 Gone before; not called again')
      return message.ack()
    }
    // The message's own delivery count is the attempt number: retries re-deliver the same body.
    await save(stored, { attempts: Math.max(job.attempts + 1, message.attempts ?? 1) })
    const result = await deliverOnce(job, { keys, transport, clock, wallClock, attemptTimeoutMs })
    if (result.kind === 'delivered') {
      await save(stored, { status: 'delivered' })
      logger.info('webhook delivered', { job_id: job.id, webhook_id: job.webhook_id, attempts: job.attempts })
      return message.ack()
    }
    if (result.kind === 'gone') await jobs.put(`gone:${job.callback_url}`, 'true', { expirationTtl: DAY_SECONDS })
    if (result.kind !== 'retry') {
      await fail(stored, result.detail)
      return message.ack()
    }
    const delay = retryDelay(job.attempts, result.retryAfterMs, { initialDelayMs, maxDelayMs, random })
    if (wallClock() + delay - stored.firstAt > retryWindowMs) {
      await fail(stored, `${result.detail}; retry window of ${retryWindowMs} ms exhausted after ${job.attempts} attempts`)
      return message.ack()
    }
    await save(stored, { last_error: result.detail })
    logger.warn('webhook delivery will be retried', { job_id: job.id, attempts: job.attempts, delay_ms: Math.round(delay), error: result.detail })
    message.retry({ delaySeconds: Math.ceil(delay / 1000) })
  }

  return {
    async submit(submission: Submission) {
      const { idempotency } = submission
      const known = idempotency ? ((await jobs.get(`idem:${idempotency.key}`, 'json')) as { jobId: string; fingerprint: string } | null) : null
      const existing = known ? await load(known.jobId) : null
      if (existing && existing.job.status !== 'failed') {
        if (idempotency && known && known.fingerprint !== idempotency.fingerprint) return { ok: false, reason: 'conflict' }
        return { ok: true, job: existing.job, replayed: true }
      }
      const id = newId()
      const now = new Date(wallClock()).toISOString()
      const job: Job = { id, status: 'queued', callback_url: submission.callbackUrl, webhook_id: `msg_${id}`, created_at: now, updated_at: now, attempts: 0 }
      const stored: StoredJob = { job, owner: submission.owner, firstAt: wallClock() }
      await jobs.put(`job:${id}`, JSON.stringify(stored), { expirationTtl: JOB_TTL_SECONDS })
      if (idempotency) await jobs.put(`idem:${idempotency.key}`, JSON.stringify({ jobId: id, fingerprint: idempotency.fingerprint }), { expirationTtl: DAY_SECONDS })
      const snapshot = { ...job }
      const work = judgeAndEnqueue(stored, submission.judge).catch((error: unknown) => fail(stored, String(error)))
      submission.waitUntil?.(work)
      return { ok: true, job: snapshot, replayed: false }
    },
    async get(id, owner) {
      const stored = await load(id)
      return stored && stored.owner === owner ? stored.job : undefined
    },
    // Pending work lives on the queue, not in the isolate.
    pending: () => 0,
    drain: async () => [],
    async consume(messages) {
      for (const message of messages) {
        // One message's trouble (a KV outage, a bug) must not decide the others' fate.
        await deliver(message).catch((error: unknown) => {
          logger.error('webhook delivery attempt crashed; retried', { error: String(error) })
          message.retry({ delaySeconds: Math.ceil(initialDelayMs / 1000) })
        })
      }
    },
  }
}
