/**
 * core/webhooks/: Webhook delivery without a runtime: the in-process queue (this file), the
 * Workers queue (worker-delivery-queue.ts), one attempt and its back-off (delivery-attempt.ts),
 * the job's shape (delivery-job.ts), signatures and the callback URL check. The Redis queue is an
 * adapter in src/webhooks/.
 *
 * May import: core/resilience, core/telemetry, core/shared.
 */
import { LRUCache } from 'lru-cache'
import type { Clock, Logger } from '../shared/ports.js'
import type { Verdict } from '../shared/verdict.js'
import type { AttemptResult, Job, WebhookTransport } from './delivery-job.js'
import { deliverOnce, judgeWithin, retryDelay } from './delivery-attempt.js'
import type { WebhookKeys } from './webhook-signature.js'
import type { Telemetry } from '../telemetry/telemetry.js'

/** What both delivery queues (in process on Node, Cloudflare Queue on Workers) take. */
export interface DeliveryOptions {
  clock: Clock
  transport: WebhookTransport
  /** The signing keys (WEBHOOK_SECRET), or the promise of them while they are imported. */
  keys: WebhookKeys | Promise<WebhookKeys>
  logger: Logger
  /** After this long since submission, retries stop and the job is failed. */
  retryWindowMs?: number
  initialDelayMs?: number
  maxDelayMs?: number
  attemptTimeoutMs?: number
  /** Judging has its own budget; this only catches a judge that never settles. */
  judgeTimeoutMs?: number
  /** Wall clock for timestamps (the injected clock may be monotonic). */
  wallClock?: () => number
  random?: () => number
  newId?: () => string
  onFinished?: (job: Job) => void
  /** Told how each delivery attempt ended (metrics). */
  onAttempt?: (result: AttemptResult) => void
  /** Spans for delivery attempts, each a child of the submitting request's trace. */
  telemetry?: Pick<Telemetry, 'tracer' | 'propagator'>
}

/** The retry rules both queues default to (README: Asynchronous moderation). */
export const DELIVERY_DEFAULTS = {
  retryWindowMs: 60 * 60 * 1000,
  initialDelayMs: 1000,
  maxDelayMs: 5 * 60 * 1000,
  attemptTimeoutMs: 10_000,
  judgeTimeoutMs: 30_000,
  wallClock: Date.now,
  random: Math.random,
  newId: (): string => crypto.randomUUID(),
}

export interface DeliveryQueueOptions extends DeliveryOptions {
  /** Jobs not yet delivered or failed; a full queue refuses new jobs (503), never drops one. */
  maxPending?: number
  /** The same, per owner: one client's dead receiver cannot take every place. */
  maxPendingPerOwner?: number
  /** Jobs not yet judged: they alone hold content (images, text), so they are bounded apart. */
  maxJudging?: number
  /** Called when a retry is scheduled, with its delay (metrics, tests). */
  onRetry?: (job: Job, delayMs: number) => void
}

/**
 * What judging a job takes, in the form a durable queue keeps it: JSON, and the binary parts it
 * refers to by index (image bytes, kept as they are: no base64 to encode on the event loop).
 */
export interface KeptOrder {
  json: unknown
  parts: Uint8Array[]
}

export interface Submission {
  callbackUrl: string
  /**
   * Produces the verdict; it already runs under its own latency budget. It holds the content:
   * the queue lets go of it once it has run, and keeps only the verdict.
   */
  judge: () => Promise<Verdict>
  /**
   * What `judge` needs, as plain JSON data (the prepared content, policy, budget), made only when
   * asked: a durable queue (Redis) keeps it until the job is judged, so that another process can
   * judge the job if this one dies first. The in-process queue never asks.
   */
  order?: () => KeptOrder
  /**
   * A retried submission with the same key (already scoped to the client) and the same content
   * fingerprint returns the same job; the same key with other content is a conflict.
   */
  idempotency?: { key: string; fingerprint: string }
  /** Who submitted it: only they can read the job. */
  owner?: string
  /** Keeps judging alive after the 202 where the runtime needs it (Workers' ctx.waitUntil). */
  waitUntil?: (promise: Promise<unknown>) => void
  /** The submitting request's trace headers (`traceparent`): deliveries continue its trace. */
  traceContext?: Record<string, string>
}

/**
 * Why a submission was refused: `full` (every place taken), `owner_full` (the submitter's own
 * places taken), `busy` (too many jobs being judged), `conflict` (idempotency key reused).
 */
export type SubmitResult = { ok: true; job: Job; replayed: boolean } | { ok: false; reason: 'full' | 'owner_full' | 'busy' | 'conflict' }

/** Where asynchronous jobs live: in process on Node, a Cloudflare Queue and KV on Workers. */
export interface DeliveryQueue {
  submit(submission: Submission): Promise<SubmitResult>
  /** The job, if it exists and belongs to `owner`. */
  get(id: string, owner?: string): Promise<Job | undefined>
  pending(): number
  /** Resolves when every pending job is delivered or failed, or at `timeoutMs` with those still pending. */
  drain(timeoutMs: number): Promise<Job[]>
}

/**
 * Asynchronous moderation with signed, retried deliveries (Standard Webhooks): judge, then POST
 * `{type: "moderation.completed", timestamp, data: verdict}` to the callback until it answers
 * 2xx, with exponential backoff and jitter, honouring Retry-After, within a bounded window.
 * In process: what is pending is lost if the process dies (the README says so).
 *
 * @example
 * const queue = createDeliveryQueue({ clock, transport, keys, logger })
 * queue.submit({ callbackUrl, judge: () => moderator.moderate(request) })
 */
export function createDeliveryQueue(options: DeliveryQueueOptions): DeliveryQueue {
  const { clock, transport, keys, logger, maxPending = 1000, maxPendingPerOwner = maxPending, maxJudging = 64, onFinished, onRetry } = options
  const { retryWindowMs, initialDelayMs, maxDelayMs, attemptTimeoutMs, judgeTimeoutMs, wallClock, random, newId } = { ...DELIVERY_DEFAULTS, ...definedOnly(options) }
  const DAY = 24 * 60 * 60 * 1000
  const pending = new Map<string, Job>()
  const finished = new LRUCache<string, Job>({ max: 10_000 })
  const owners = new LRUCache<string, string>({ max: 20_000 })
  // Up to 10,000 keys for a day each (README); a key keeps its job's id and content fingerprint.
  const byIdempotencyKey = new LRUCache<string, { jobId: string; fingerprint: string }>({ max: 10_000, ttl: DAY })
  const goneEndpoints = new LRUCache<string, true>({ max: 10_000, ttl: DAY })
  // Who owns each pending job ('' for none), and how many each owner has pending: not the LRU
  // above, which may forget a job that has been retrying for an hour.
  const pendingOwner = new Map<string, string>()
  const pendingByOwner = new Map<string, number>()
  // The trace each pending job's deliveries continue (not part of the job: GET /v1/jobs shows that).
  const origins = new Map<string, Record<string, string>>()
  let judging = 0
  let idle: (() => void)[] = []

  const touch = (job: Job, changes: Partial<Job>) => Object.assign(job, changes, { updated_at: new Date(wallClock()).toISOString() })

  function finish(job: Job, status: 'delivered' | 'failed', error?: string) {
    if (!pending.delete(job.id)) return
    origins.delete(job.id)
    touch(job, { status, ...(error ? { last_error: error } : {}) })
    const owner = pendingOwner.get(job.id) ?? ''
    pendingOwner.delete(job.id)
    if (owner) owners.set(job.id, owner)
    const left = (pendingByOwner.get(owner) ?? 1) - 1
    if (left > 0) pendingByOwner.set(owner, left)
    else pendingByOwner.delete(owner)
    finished.set(job.id, job)
    const fields = { job_id: job.id, webhook_id: job.webhook_id, attempts: job.attempts, callback_host: new URL(job.callback_url).host }
    if (status === 'failed') logger.error('webhook delivery failed', { ...fields, error })
    else logger.info('webhook delivered', fields)
    onFinished?.(job)
    if (pending.size === 0) {
      for (const resolve of idle) resolve()
      idle = []
    }
  }

  async function attempt(job: Job, startedAt: number): Promise<void> {
    if (goneEndpoints.has(job.callback_url)) return finish(job, 'failed', 'the endpoint answered 410 Gone before; not called again')
    touch(job, { attempts: job.attempts + 1 })
    const result = await deliverOnce(job, { keys, transport, clock, wallClock, attemptTimeoutMs, telemetry: options.telemetry }, origins.get(job.id))
    options.onAttempt?.(result)
    if (result.kind === 'delivered') return finish(job, 'delivered')
    if (result.kind === 'gone') {
      goneEndpoints.set(job.callback_url, true)
      return finish(job, 'failed', result.detail)
    }
    if (result.kind === 'refused') return finish(job, 'failed', result.detail)
    const delay = retryDelay(job.attempts, result.retryAfterMs, { initialDelayMs, maxDelayMs, random })
    if (clock.now() + delay - startedAt > retryWindowMs) {
      return finish(job, 'failed', `${result.detail}; retry window of ${retryWindowMs} ms exhausted after ${job.attempts} attempts`)
    }
    touch(job, { last_error: result.detail })
    logger.warn('webhook delivery will be retried', { job_id: job.id, attempts: job.attempts, delay_ms: Math.round(delay), error: result.detail })
    const wait = clock.timer(delay)
    onRetry?.(job, delay)
    await wait.promise
    return attempt(job, startedAt)
  }

  // Not async, and `judge` goes to judgeWithin alone: no frame that outlives the judging (the
  // retries can last an hour) holds the closure, and with it the item's content.
  function run(job: Job, judge: () => Promise<Verdict>): Promise<void> {
    const startedAt = clock.now()
    touch(job, { status: 'running' })
    judging++
    return judgeWithin(judge, clock, judgeTimeoutMs).then((judged) => {
      judging--
      if (!judged.ok) return finish(job, 'failed', judged.error)
      touch(job, { verdict: judged.verdict })
      return attempt(job, startedAt)
    })
  }

  return {
    async submit(submission) {
      const { idempotency } = submission
      const known = idempotency ? byIdempotencyKey.get(idempotency.key) : undefined
      const existing = known ? (pending.get(known.jobId) ?? finished.get(known.jobId)) : undefined
      // A failed job may be submitted again under its key; anything else answers with the job.
      if (existing && existing.status !== 'failed') {
        if (known && idempotency && known.fingerprint !== idempotency.fingerprint) return { ok: false, reason: 'conflict' }
        // Snapshots: what a caller holds does not change under it.
        return { ok: true, job: { ...existing }, replayed: true }
      }
      const owner = submission.owner ?? ''
      // An owner whose share is the whole queue, at its share, finds the queue full.
      if ((pendingByOwner.get(owner) ?? 0) >= maxPendingPerOwner && maxPendingPerOwner < maxPending) return { ok: false, reason: 'owner_full' }
      if (pending.size >= maxPending) return { ok: false, reason: 'full' }
      if (judging >= maxJudging) return { ok: false, reason: 'busy' }
      const id = newId()
      const now = new Date(wallClock()).toISOString()
      const job: Job = { id, status: 'queued', callback_url: submission.callbackUrl, webhook_id: `msg_${id}`, created_at: now, updated_at: now, attempts: 0 }
      pending.set(id, job)
      pendingOwner.set(id, owner)
      pendingByOwner.set(owner, (pendingByOwner.get(owner) ?? 0) + 1)
      if (submission.traceContext) origins.set(id, submission.traceContext)
      if (idempotency) byIdempotencyKey.set(idempotency.key, { jobId: id, fingerprint: idempotency.fingerprint })
      const snapshot = { ...job }
      void run(job, submission.judge).catch((error: unknown) => finish(job, 'failed', String(error)))
      return { ok: true, job: snapshot, replayed: false }
    },
    get: async (id, owner) => {
      const job = pending.get(id) ?? finished.get(id)
      if (!job || (pendingOwner.get(id) || owners.get(id) || undefined) !== owner) return undefined
      return { ...job }
    },
    pending: () => pending.size,
    async drain(timeoutMs) {
      if (pending.size > 0) {
        const timer = clock.timer(timeoutMs)
        await Promise.race([new Promise<void>((resolve) => idle.push(resolve)), timer.promise])
        timer.cancel()
      }
      return [...pending.values()]
    },
  }
}

/** The options actually given: an explicit undefined must not override a default. */
export function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>
}
