/**
 * webhooks/: Durable webhook delivery on Redis (BullMQ, this file) and the judging orders that
 * survive a crash (redis-judging-orders.ts).
 *
 * May import: core/webhooks, core/shared.
 */
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { DELIVERY_DEFAULTS, type DeliveryOptions, type DeliveryQueue, type KeptOrder } from '../core/webhooks/delivery-queue.js'
import type { Verdict } from '../core/shared/verdict.js'
import { createRedisJudgingOrders } from './redis-judging-orders.js'
import { createWorkerDeliveryQueue, JOB_TTL_SECONDS, messageJobId, type JobStore, type PendingPlaces, type QueueMessage } from '../core/webhooks/worker-delivery-queue.js'

export interface RedisDeliveryQueueOptions extends DeliveryOptions {
  /** REDIS_URL. */
  url: string
  /** Jobs not yet delivered or failed, all replicas together; beyond, 503. */
  maxPending?: number
  /** The same per owner (API key); beyond, 429. */
  maxPendingPerOwner?: number
  /** Jobs of this process accepted but not yet judged (they hold the content); beyond, 503. */
  maxJudging?: number
  /** Jobs' keys and the queue's name live under this prefix. */
  prefix?: string
  /** Deliveries attempted at once by this process. */
  concurrency?: number
  /**
   * Turns a submission's kept order back into its judging. Given, what judging each job takes is
   * kept in Redis until judged, and jobs whose process died before judging them are judged here.
   */
  judgeOrder?: (order: KeptOrder) => () => Promise<Verdict>
  /**
   * WEBHOOK_LEASE_MS: how long the claim of a process that died on the jobs it was judging or
   * delivering lasts (judging: redis-judging-orders.ts; delivering: BullMQ's job lock).
   */
  leaseMs?: number
}

export interface RedisDeliveryQueue extends DeliveryQueue {
  /** Stops taking deliveries (the one under way finishes) and closes the connections. */
  close(): Promise<void>
}

// What a delivery message carries besides the job: which attempt it is.
interface Carried {
  body: unknown
  attempts: number
}

/**
 * Asynchronous moderation across processes and restarts (Node, REDIS_URL): the same queue as on
 * Workers (createWorkerDeliveryQueue: job state readable from any replica, a webhook-id derived
 * from the job, the retry rules of the in-process queue), over Redis instead of KV and a BullMQ
 * queue instead of a Cloudflare Queue. A judged job's delivery is a BullMQ job in Redis: a
 * SIGTERM, a SIGKILL or a restart loses none, and whichever process runs next delivers it, at
 * least once, with the same webhook-id. A retry is a new BullMQ job delayed by the backoff (or
 * the receiver's Retry-After), its id the job's and the attempt's: an attempt made again after a
 * crash starts no second chain of retries. With `judgeOrder`, judging is durable too: what a job's judging
 * takes is in Redis before its 202 (redis-judging-orders.ts), leased to the process judging it,
 * and every process sweeps for jobs whose judge died (at start, then every half lease) and judges
 * them, within its own WEBHOOK_MAX_JUDGING.
 *
 * @example
 * const deliveries = createRedisDeliveryQueue({ url: config.REDIS_URL, keys, transport, clock, logger })
 */
export function createRedisDeliveryQueue(options: RedisDeliveryQueueOptions): RedisDeliveryQueue {
  const { url, prefix = 'moderation', concurrency = 16, logger } = options
  // BullMQ's worker blocks on its connection and wants commands retried for ever: its own clients.
  const queueConnection = new Redis(url, { maxRetriesPerRequest: null })
  const workerConnection = new Redis(url, { maxRetriesPerRequest: null })
  // Job records: a Redis that cannot answer fails a submission within a second (503), never
  // holds it longer: each command waits for the connection up to commandTimeout, and a
  // submission's commands all together up to the same (submitTimeoutMs).
  const storeConnection = new Redis(url, { maxRetriesPerRequest: 0, commandTimeout: STORE_TIMEOUT_MS, connectTimeout: 2_000 })
  for (const connection of [queueConnection, workerConnection, storeConnection]) connection.on('error', () => {}) // logged by the shared connection's watcher
  const queue = new Queue<Carried>('deliveries', { connection: queueConnection, prefix })

  const jobs: JobStore = {
    async get(key) {
      const raw = await storeConnection.get(`${prefix}:${key}`)
      return raw === null ? null : (JSON.parse(raw) as unknown)
    },
    async put(key, value, { expirationTtl } = {}) {
      if (expirationTtl) await storeConnection.set(`${prefix}:${key}`, value, 'EX', expirationTtl)
      else await storeConnection.set(`${prefix}:${key}`, value)
    },
    create: async (key, value, { expirationTtl }) => (await storeConnection.set(`${prefix}:${key}`, value, 'EX', expirationTtl, 'NX')) === 'OK',
    delete: async (key) => void (await storeConnection.del(`${prefix}:${key}`)),
  }
  const { judgeOrder, leaseMs = 10_000 } = options
  // Done messages are kept (a removed id could be added again) for far longer than the two leases
  // or so within which a running process takes up an attempt whose own process died.
  const keep = { age: Math.max(5 * 60, Math.ceil((10 * leaseMs) / 1000)) }
  const send = (carried: Carried, delayMs = 0) => queue.add('deliver', carried, { jobId: messageId(carried), delay: delayMs, removeOnComplete: keep, removeOnFail: 1_000 }).then(() => {})
  const places = redisPendingPlaces(storeConnection, prefix, options)
  const orders = judgeOrder ? createRedisJudgingOrders(storeConnection, { prefix, leaseMs, ttlSeconds: JOB_TTL_SECONDS }) : undefined
  const deliveries = createWorkerDeliveryQueue({ submitTimeoutMs: STORE_TIMEOUT_MS, ...options, jobs, places, orders, producer: { send: (body) => send({ body, attempts: 1 }) } })

  const worker = new Worker<Carried>(
    'deliveries',
    async (job) => {
      // Handed out before (its process died, or its lock lapsed) after it had queued its retry:
      // the attempt was made, and the retry carries the delivery on. Not made a second time. A
      // process whose lock lapsed while it was cut off from Redis queues that retry as soon as it
      // reaches Redis again, which can be just after the attempt is handed out here: the retry is
      // looked for during one lease (at most RETRY_GRACE_MS) before the attempt is made again (a
      // dead process never queues it; its job waits that much longer).
      const next = messageId({ body: job.data.body, attempts: job.data.attempts + 1 })
      if (next && job.attemptsStarted > 1) {
        for (const until = Date.now() + Math.min(leaseMs, RETRY_GRACE_MS); ; await new Promise((resolve) => setTimeout(resolve, 50))) {
          if (await queue.getJob(next)) return
          if (Date.now() >= until) break
        }
      }
      let retry: number | undefined
      const message: QueueMessage = {
        body: job.data.body,
        attempts: job.data.attempts,
        ack: () => {},
        retry: ({ delaySeconds = 0 } = {}) => (retry = delaySeconds * 1000),
      }
      await deliveries.consume([message])
      // Queued before this job completes: after a crash in between, the attempt handed out again
      // finds its retry (above) and is not made again; no delivery is lost either way.
      if (retry !== undefined) await send({ body: job.data.body, attempts: job.data.attempts + 1 }, retry)
    },
    {
      connection: workerConnection,
      prefix,
      concurrency,
      // A delivery whose process died mid-attempt is taken up elsewhere within about two leases
      // (BullMQ's defaults: up to a minute). A lock lost to a stalled event loop only repeats an
      // attempt (same webhook-id), so a job may stall many times before BullMQ would fail it.
      lockDuration: leaseMs,
      stalledInterval: Math.max(50, Math.floor(leaseMs / 2)),
      maxStalledCount: 100,
    },
  )
  // Connection errors are the shared connection's to report (once per change); others are logged.
  const unanswered = (error: Error) => /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|Connection is closed|Command timed out/.test(error.message)
  const quietly = (what: string) => (error: Error) => {
    if (!unanswered(error)) logger.error(what, { error: String(error) })
  }
  worker.on('error', quietly('webhook delivery worker'))
  queue.on('error', quietly('webhook delivery worker'))

  // Jobs accepted but never judged (their process died): claimed, as many as this process has
  // judging places free, and judged, each on its own: one Redis could not answer for is released
  // (the next sweep claims it again) and never holds up the others. A sweep that cannot reach
  // Redis, or a command timed out, is logged when it starts failing and when it works again.
  let sweeping = false
  // Whether the last sweep met a Redis that did not answer, and whether this one has.
  let sweepFailing = false
  let unansweredNow = false
  const sweepFailed = (error: unknown, fields: Record<string, unknown> = {}) => {
    if (!(error instanceof Error) || !unanswered(error)) return logger.error('a job left unjudged could not be taken up', { ...fields, error: String(error) })
    if (!sweepFailing && !unansweredNow) logger.error('looking for jobs left unjudged: Redis did not answer; tried again at the next sweep', { ...fields, error: String(error) })
    unansweredNow = true
  }
  async function recover(id: string): Promise<boolean> {
    if (!orders || !judgeOrder) return false
    try {
      const kept = await orders.read(id)
      // Gone: judged meanwhile.
      if (!kept) return false
      // Held (renewed) from here: judged by resume, or dropped (already judged, unreadable).
      orders.hold(id)
      // No place free (a submission took it): another sweep will.
      return await deliveries.resume(id, judgeOrder(kept))
    } catch (error) {
      sweepFailed(error, { job_id: id })
      return false
    }
  }
  async function sweep() {
    if (!orders || !judgeOrder || sweeping) return
    sweeping = true
    unansweredNow = false
    let claimed: string[] = []
    const resumed = new Set<string>()
    try {
      claimed = await orders.claim(deliveries.judgingRoom())
      await Promise.all(claimed.map(async (id) => void ((await recover(id)) && resumed.add(id))))
    } catch (error) {
      sweepFailed(error)
    } finally {
      // Every claim not taken up goes back at once, for this process's next sweep or another's.
      await Promise.all(claimed.filter((id) => !resumed.has(id)).map((id) => orders.release(id).catch(() => {})))
      if (sweepFailing && !unansweredNow) logger.info('looking for jobs left unjudged: Redis answers again')
      sweepFailing = unansweredNow
      sweeping = false
    }
  }
  void sweep()
  const sweeps = setInterval(() => void sweep(), Math.max(50, Math.floor(leaseMs / 2)))
  sweeps.unref()

  // The queue depth (all replicas), as last counted: pending() is read synchronously by metrics.
  let pending = 0
  const count = () => places.count().then((n) => void (pending = n), () => {})
  void count()
  const counting = setInterval(count, 5_000)
  counting.unref()
  return {
    ...deliveries,
    pending: () => pending,
    async close() {
      clearInterval(counting)
      clearInterval(sweeps)
      // Claims on jobs still being judged lapse: another process judges them.
      orders?.close()
      // The delivery under way may finish (its job is in Redis either way); a Redis that is gone
      // must not hold the exit: after 2 s the connections are dropped.
      const closed = Promise.all([worker.close(), queue.close()]).catch(() => {})
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2_000).unref())])
      for (const connection of [queueConnection, workerConnection, storeConnection]) connection.disconnect()
    },
  }
}

/**
 * A delivery message's BullMQ id, one per job and attempt (`<job id>-<attempt>`): BullMQ ignores
 * an `add` whose id it still holds, so an attempt made again after a crash queues no second retry.
 */
function messageId({ body, attempts }: Carried): string | undefined {
  const id = messageJobId(body)
  return id === undefined ? undefined : `${id}-${attempts}`
}

// KEYS: the overall set, the owner's set; ARGV: stale score, overall cap, owner cap, now, job id.
const TAKE_PLACE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], 0, ARGV[1])
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return 'owner_full' end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 'full' end
redis.call('ZADD', KEYS[1], ARGV[4], ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
return 'ok'
`

/**
 * Places for pending jobs shared by every replica: a sorted set of job ids overall and one per
 * owner, scored by when each was taken. Ids older than the retry window and a margin are dropped
 * when counting, so a place a crashed process never gave back frees itself. Counting and taking
 * are one script, atomic in Redis.
 */
function redisPendingPlaces(redis: Redis, prefix: string, options: RedisDeliveryQueueOptions): PendingPlaces & { count(): Promise<number> } {
  const { maxPending = 1000, maxPendingPerOwner = maxPending, retryWindowMs = DELIVERY_DEFAULTS.retryWindowMs, judgeTimeoutMs = DELIVERY_DEFAULTS.judgeTimeoutMs, wallClock = Date.now } = options
  const all = `${prefix}:pending`
  const ownerKey = (owner?: string) => `${prefix}:pending:${owner ?? 'anonymous'}`
  return {
    async take(owner, id) {
      const stale = wallClock() - retryWindowMs - judgeTimeoutMs - 60_000
      // Counted and taken in one step (a script runs atomically in Redis): concurrent submissions,
      // on one replica or many, cannot all see room for one.
      const answer = await redis.eval(TAKE_PLACE, 2, all, ownerKey(owner), String(stale), String(maxPending), String(maxPendingPerOwner), String(wallClock()), id)
      return answer === 'ok' || answer === 'full' || answer === 'owner_full' ? answer : 'full'
    },
    async release(owner, id) {
      await redis.multi().zrem(all, id).zrem(ownerKey(owner), id).exec()
    },
    count: () => redis.zcard(all),
  }
}

/** How long a job-store command, and a submission's commands all together, may wait for Redis. */
const STORE_TIMEOUT_MS = 1_000

/** At most this long, an attempt handed out again looks for the retry its first run may still be queueing. */
const RETRY_GRACE_MS = 2_000
