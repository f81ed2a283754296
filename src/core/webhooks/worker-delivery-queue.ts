import { deliverOnce, judgeWithin, retryDelay } from './delivery-attempt.js'
import { DELIVERY_DEFAULTS, definedOnly, type DeliveryOptions, type DeliveryQueue, type KeptOrder, type Submission, type SubmitResult } from './delivery-queue.js'
import type { Job } from './delivery-job.js'
import { beforeDeadline } from '../resilience/deadline.js'
import { sha256Hex } from '../shared/hash.js'
import type { Verdict } from '../shared/verdict.js'

// Structural types for the Workers bindings used, so nothing here needs global Workers types.
export interface JobStore {
  get(key: string, type: 'json'): Promise<unknown>
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>
  /** Writes only when the key is absent, atomically (Redis: SET NX); true when written. Absent on KV. */
  create?(key: string, value: string, options: { expirationTtl: number }): Promise<boolean>
  delete?(key: string): Promise<void>
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

/** Places for jobs not yet delivered or failed, where the store can count them (Redis, not KV). */
export interface PendingPlaces {
  /** Takes a place for a new job, or says which cap is reached. */
  take(owner: string | undefined, id: string): Promise<'ok' | 'full' | 'owner_full'>
  /** Gives the job's place back once it is delivered or failed. */
  release(owner: string | undefined, id: string): Promise<void>
}

/**
 * Where what judging a job takes is kept from before its 202 until it is judged, leased to the
 * process judging it (Redis; KV cannot lease): a job whose process dies mid-judging is judged by
 * another from what is kept here.
 */
export interface JudgingOrders {
  /**
   * Keeps a job's order, leased to this process, and writes the job's record in the same step
   * (never one without the other: a record whose order is missing would be replayed to a retry
   * and judged by nobody); before the 202. False when `record.onlyIfAbsent` and a record is
   * there already: then nothing is written.
   */
  keep(id: string, order: KeptOrder, record: JobRecordWrite): Promise<boolean>
  /** The job is judged (its delivery is queued) or failed: its order, content and all, goes. */
  drop(id: string): Promise<void>
}

/** A job record to write with its order: the JobStore key and value, and whether only where absent (SET NX). */
export interface JobRecordWrite {
  key: string
  value: string
  expirationTtl: number
  onlyIfAbsent: boolean
}

export interface WorkerDeliveryQueueOptions extends DeliveryOptions {
  jobs: JobStore
  producer: QueueProducer
  /** Caps on pending jobs, overall and per owner; none when absent (Workers: KV cannot count). */
  places?: PendingPlaces
  /** Jobs of this process accepted but not yet judged (they hold the content); beyond, 503. */
  maxJudging?: number
  /** The consumer's `max_retries` in wrangler.toml: the job fails before the queue drops it. */
  maxQueueRetries?: number
  /** Keeps submissions' orders until judged (Redis); absent, judging lives in memory alone. */
  orders?: JudgingOrders
  /**
   * One deadline for all of a submission's store commands together: past it the submission is
   * refused (503) and what it took is given back in the background. Absent: each command's own
   * timeout alone (Workers: KV).
   */
  submitTimeoutMs?: number
}

interface StoredJob {
  job: Job
  owner?: string
  firstAt: number
  fingerprint?: string
  /** The submitting request's trace headers: each delivery attempt continues its trace. */
  trace?: Record<string, string>
}

/**
 * A delivery message carries everything the attempt needs (job, verdict, first submission time):
 * the consumer never depends on reading back a KV write, which may not have reached its
 * location yet. KV only shows the status.
 */
interface DeliveryMessage {
  stored: StoredJob
}

const DAY_SECONDS = 24 * 60 * 60
export const JOB_TTL_SECONDS = 7 * DAY_SECONDS
// Cloudflare Queues delays a retry by 12 hours at most.
const MAX_QUEUE_DELAY_SECONDS = 12 * 60 * 60
// KV takes one write per key per second: a second write that soon is retried once, a bit later.
const KV_WRITE_SPACING_MS = 1100

/**
 * Asynchronous moderation on Workers: job status in KV (readable from any isolate), judging in
 * the submitting request's waitUntil, and each delivery attempt as a message on a Cloudflare
 * Queue (durable, at-least-once) whose consumer signs, POSTs and retries with the Node queue's
 * rules. Writes to a job's KV record are at least a second apart (KV's limit per key): submit
 * writes it, then only the consumer does, once per attempt. A job with an Idempotency-Key gets
 * an id derived from it, so concurrent resubmissions share one webhook-id.
 *
 * @example
 * const deliveries = createWorkerDeliveryQueue({ jobs: env.JOBS, producer: env.DELIVERIES, keys, transport, clock, logger })
 */
export function createWorkerDeliveryQueue(options: WorkerDeliveryQueueOptions): WorkerDeliveryQueue {
  const { jobs, producer, keys, transport, clock, logger, maxQueueRetries = 100, onFinished, places, orders, maxJudging = Number.POSITIVE_INFINITY, submitTimeoutMs } = options
  let judging = 0
  // Judging under way (the content is in memory), and the undoing of refused submissions: a
  // drain waits for both, so a deploy loses no job and leaves no refused one's place taken.
  const judgements = new Set<Promise<void>>()
  const { retryWindowMs, initialDelayMs, maxDelayMs, attemptTimeoutMs, judgeTimeoutMs, wallClock, random, newId } = { ...DELIVERY_DEFAULTS, ...definedOnly(options) }
  const load = async (id: string) => (await jobs.get(`job:${id}`, 'json')) as StoredJob | null

  async function save(stored: StoredJob, changes: Partial<Job>): Promise<void> {
    Object.assign(stored.job, changes, { updated_at: new Date(wallClock()).toISOString() })
    const write = () => jobs.put(`job:${stored.job.id}`, JSON.stringify(stored), { expirationTtl: JOB_TTL_SECONDS })
    try {
      await write()
    } catch {
      await clock.timer(KV_WRITE_SPACING_MS).promise
      await write().catch((error: unknown) => logger.error('job status not saved', { job_id: stored.job.id, error: String(error) }))
    }
  }

  async function finish(stored: StoredJob, status: 'delivered' | 'failed', error?: string) {
    await save(stored, { status, ...(error ? { last_error: error } : {}) })
    await places?.release(stored.owner, stored.job.id).catch((failure: unknown) => logger.warn('pending place not given back', { job_id: stored.job.id, error: String(failure) }))
    const fields = { job_id: stored.job.id, webhook_id: stored.job.webhook_id, attempts: stored.job.attempts }
    if (status === 'failed') logger.error('webhook delivery failed', { ...fields, error })
    else logger.info('webhook delivered', fields)
    onFinished?.(stored.job)
  }

  // `judge` (the content) goes to judgeWithin alone; the message and KV get only the verdict.
  /**
   * `judged` gives back the judging place taken for it. Once the delivery is queued (or the job
   * failed), the order kept for judging goes: a crash before that judges the job again elsewhere.
   */
  function judgeAndEnqueue(stored: StoredJob, judge: () => Promise<Verdict>, judged: () => void): Promise<void> {
    const work = judgeWithin(judge, clock, judgeTimeoutMs)
      .finally(judged)
      .then((judged) => (judged.ok ? enqueue(stored, judged.verdict) : finish(stored, 'failed', judged.error)))
      .catch((error: unknown) => finish(stored, 'failed', String(error)))
      .then(() => forget(stored.job.id))
    judgements.add(work)
    void work.finally(() => judgements.delete(work))
    return work
  }

  /** The order goes; one left behind (Redis down) is judged again later, or expires with the job. */
  async function forget(id: string) {
    await orders?.drop(id).catch((error: unknown) => logger.warn('judged job content not removed from the store', { job_id: id, error: String(error) }))
  }

  /** Takes a judging place now (before any await), or says there is none. */
  function takeJudging(): (() => void) | undefined {
    if (judging >= maxJudging) return undefined
    judging++
    let held = true
    return () => {
      if (held) judging--
      held = false
    }
  }

  async function enqueue(stored: StoredJob, verdict: Verdict) {
    stored.job.verdict = verdict
    stored.job.status = 'running'
    // No KV write here: the message carries the verdict, and the consumer records the outcome.
    await producer.send({ stored } satisfies DeliveryMessage)
  }

  async function deliver(message: QueueMessage) {
    const stored = (message.body as DeliveryMessage | null)?.stored
    if (!stored?.job?.verdict) {
      logger.error('webhook message without a verdict; dropped', {})
      return message.ack()
    }
    // At-least-once: a job already finished (as far as KV shows) is not delivered again.
    const current = await load(stored.job.id)
    if (current && current.job.webhook_id === stored.job.webhook_id && (current.job.status === 'delivered' || current.job.status === 'failed')) {
      return message.ack()
    }
    const { job } = stored
    if (await jobs.get(`gone:${job.callback_url}`, 'json')) {
      await finish(stored, 'failed', 'the endpoint answered 410 Gone before; not called again')
      return message.ack()
    }
    // The message's own delivery count is the attempt number: retries re-deliver the same body.
    job.attempts = message.attempts ?? job.attempts + 1
    const result = await deliverOnce(job, { keys, transport, clock, wallClock, attemptTimeoutMs, telemetry: options.telemetry }, stored.trace)
    options.onAttempt?.(result)
    if (result.kind === 'delivered') {
      message.ack() // acknowledged first: a slow status write must not cause a second delivery
      return finish(stored, 'delivered')
    }
    if (result.kind === 'gone') await jobs.put(`gone:${job.callback_url}`, 'true', { expirationTtl: DAY_SECONDS }).catch(() => {})
    if (result.kind !== 'retry') {
      message.ack()
      return finish(stored, 'failed', result.detail)
    }
    return retryOrFail(message, stored, result.detail, result.retryAfterMs)
  }

  async function retryOrFail(message: QueueMessage, stored: StoredJob, detail: string, retryAfterMs?: number) {
    const { job } = stored
    const delay = retryDelay(Math.max(1, job.attempts), retryAfterMs, { initialDelayMs, maxDelayMs, random })
    const windowSpent = wallClock() + delay - stored.firstAt > retryWindowMs
    // Fail the job ourselves before the queue gives up on the message (and drops it silently).
    const queueSpent = (message.attempts ?? 0) >= maxQueueRetries
    if (windowSpent || queueSpent || delay > MAX_QUEUE_DELAY_SECONDS * 1000) {
      message.ack()
      return finish(stored, 'failed', `${detail}; retries exhausted after ${job.attempts} attempts`)
    }
    message.retry({ delaySeconds: Math.ceil(delay / 1000) })
    logger.warn('webhook delivery will be retried', { job_id: job.id, attempts: job.attempts, delay_ms: Math.round(delay), error: detail })
    await save(stored, { last_error: detail })
  }

  return {
    async submit(submission: Submission) {
      const { idempotency } = submission
      // An id derived from the (client-scoped) key: concurrent resubmissions land on one job and
      // one webhook-id (atomically where the store can claim a key: Redis, not KV).
      const id = idempotency ? await keyedId(idempotency.key) : newId()
      // A store that answers late fails the submission once, at this deadline, not once per command.
      const deadline = submitTimeoutMs === undefined ? undefined : clock.now() + submitTimeoutMs
      const inTime = async <T>(step: Promise<T>): Promise<T> => {
        if (deadline === undefined) return step
        const result = await beforeDeadline(step, deadline, clock, LATE)
        if (result === LATE) throw new Error(`the job store did not answer within ${submitTimeoutMs} ms`)
        return result as T
      }
      const existing = idempotency ? await inTime(load(id)) : null
      // A job with no verdict recorded long after it should have been judged was cut short: redo it.
      const stale = existing && !existing.job.verdict && wallClock() - existing.firstAt > judgeTimeoutMs + 5 * 60 * 1000
      if (existing && existing.job.status !== 'failed' && !stale) return replayOf(existing, idempotency)
      // The judging place is taken now, before any await: concurrent submissions cannot all pass.
      const giveBackJudging = takeJudging()
      if (!giveBackJudging) return { ok: false, reason: 'busy' }
      // Nothing accepted: what was taken goes back, including what a store whose answer came too
      // late took all the same (a record left behind would be handed to a retry, never judged).
      // Every command of it is sent at once, before the refusal, after the commands it undoes on
      // the same connection: a retry sent after the 503 finds none of it (one sent after the
      // place came back found the record and was answered with a job then deleted, never
      // judged). On a failure it is not waited for: the refusal does not wait on the store that
      // failed it; a drain does.
      const undo = async (record: boolean) => {
        giveBackJudging()
        await Promise.allSettled([places?.release(submission.owner, id), ...(record ? [jobs.delete?.(`job:${id}`), orders?.drop(id)] : [])])
      }
      const undoAfterFailure = (record: boolean) => {
        const undone = undo(record)
        judgements.add(undone)
        void undone.finally(() => judgements.delete(undone))
        submission.waitUntil?.(undone)
      }
      try {
        const place = places ? await inTime(places.take(submission.owner, id)) : 'ok'
        if (place !== 'ok') {
          giveBackJudging()
          return { ok: false, reason: place }
        }
      } catch (error) {
        undoAfterFailure(false)
        throw error
      }
      const now = new Date(wallClock()).toISOString()
      const job: Job = { id, status: 'queued', callback_url: submission.callbackUrl, webhook_id: `msg_${id}`, created_at: now, updated_at: now, attempts: 0 }
      const stored: StoredJob = { job, owner: submission.owner, firstAt: wallClock(), fingerprint: idempotency?.fingerprint, trace: submission.traceContext }
      const record = JSON.stringify(stored)
      const key = `job:${id}`
      let created: boolean
      try {
        // With a key and a store that can claim it, one of concurrent submissions creates the job;
        // the others read it back (the same job, or a conflict), never a second judging.
        const onlyIfAbsent = Boolean(idempotency && jobs.create && !stale)
        // What judging takes is in the store before the 202, written with the record: the job
        // outlives this process, and a record is never left without its order.
        if (orders && submission.order) created = await inTime(orders.keep(id, submission.order(), { key, value: record, expirationTtl: JOB_TTL_SECONDS, onlyIfAbsent }))
        else if (onlyIfAbsent) created = await inTime(jobs.create!(key, record, { expirationTtl: JOB_TTL_SECONDS }))
        else created = (await inTime(jobs.put(key, record, { expirationTtl: JOB_TTL_SECONDS })), true)
      } catch (error) {
        undoAfterFailure(true)
        throw error
      }
      if (!created) {
        // Another submission with this key made the job: the pending place is the job's (its id),
        // not this submission's. A job still pending holds it; one finished gave it back already,
        // so the one taken here goes (giving it back always let concurrent pairs hold none).
        giveBackJudging()
        const winner = await inTime(load(id))
        if (!winner || winner.job.status === 'delivered' || winner.job.status === 'failed') await inTime(places?.release(submission.owner, id) ?? Promise.resolve())
        return winner ? replayOf(winner, idempotency) : { ok: false, reason: 'busy' }
      }
      const snapshot = { ...job }
      const work = judgeAndEnqueue(stored, submission.judge, giveBackJudging)
      submission.waitUntil?.(work)
      return { ok: true, job: snapshot, replayed: false }
    },
    async get(id, owner) {
      const stored = await load(id)
      return stored && stored.owner === owner ? stored.job : undefined
    },
    async resume(id, judge) {
      const giveBackJudging = takeJudging()
      if (!giveBackJudging) return false
      try {
        const stored = await load(id).catch((error: unknown) => {
          if (error instanceof SyntaxError) return 'unreadable' as const
          throw error
        })
        // Nobody can judge it (its callback URL is in the record): its order goes, or every sweep
        // would claim it again, and before the others, being the oldest.
        if (stored === 'unreadable' || (stored && !stored.job)) {
          giveBackJudging()
          logger.error('an accepted job cannot be judged: its record is unreadable; its content is removed', { job_id: id })
          await forget(id)
          return true
        }
        // Judged already (its delivery was queued before its order was dropped), finished, or expired.
        if (!stored || stored.job.verdict || stored.job.status !== 'queued' || stored.job.attempts > 0) {
          giveBackJudging()
          await forget(id)
          return true
        }
        logger.warn('judging a job whose process stopped before judging it', { job_id: id, webhook_id: stored.job.webhook_id })
        void judgeAndEnqueue(stored, judge, giveBackJudging)
        return true
      } catch (error) {
        giveBackJudging()
        throw error
      }
    },
    judgingRoom: () => maxJudging - judging,
    // Pending deliveries live on the queue, not in the process: only judging is waited for.
    pending: () => 0,
    async drain(timeoutMs) {
      const settled = Promise.allSettled([...judgements])
      await Promise.race([settled, clock.timer(timeoutMs).promise])
      return []
    },
    async consume(messages) {
      for (const message of messages) {
        // One message's trouble (a KV outage, a bug) must not decide the others' fate; it is
        // retried with the backoff and the window like any failed attempt.
        await deliver(message).catch((error: unknown) => {
          const stored = (message.body as DeliveryMessage | null)?.stored
          if (!stored) return message.ack()
          return retryOrFail(message, stored, `delivery attempt crashed: ${String(error)}`)
        })
      }
    },
  }
}

export interface WorkerDeliveryQueue extends DeliveryQueue {
  consume(messages: readonly QueueMessage[]): Promise<void>
  /**
   * Judges an accepted job that was never judged (its process died), from the order kept for it,
   * then queues its delivery as usual (same webhook-id). False when every judging place is taken.
   */
  resume(id: string, judge: () => Promise<Verdict>): Promise<boolean>
  /** Judging places free in this process. */
  judgingRoom(): number
}

/** The job a delivery message is for: its id, or undefined for a body that is not a delivery message. */
export function messageJobId(body: unknown): string | undefined {
  return (body as DeliveryMessage | null)?.stored?.job?.id
}

/** The answer to a submission whose key already has a job: that job, or a conflict when the content differs. */
function replayOf(stored: StoredJob, idempotency: Submission['idempotency']): SubmitResult {
  if (idempotency && stored.fingerprint !== idempotency.fingerprint) return { ok: false, reason: 'conflict' }
  return { ok: true, job: stored.job, replayed: true }
}

async function keyedId(key: string): Promise<string> {
  const hex = await sha256Hex(`idempotency:${key}`)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

const LATE = Symbol('late')
