import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { KeptOrder } from '../core/webhooks/delivery-queue.js'
import type { JudgingOrders } from '../core/webhooks/worker-delivery-queue.js'

export interface RedisJudgingOrdersOptions {
  /**
   * Keys live under this prefix: `<prefix>:unjudged` (the index), `:unjudged:<id>`, `:unjudged-lease:<id>`,
   * and the job records written with orders, `<prefix>:<record key>` (as the job store has them).
   */
  prefix: string
  /** How long a claim lasts unless renewed; it is renewed every third of it while judging. */
  leaseMs: number
  /** Orders expire with their job records. */
  ttlSeconds: number
}

export interface RedisJudgingOrders extends JudgingOrders {
  /**
   * Leases to this process up to `max` orders no live process holds, oldest first; their ids. A
   * claim lasts one lease unless `hold` renews it: every id is then either held or released.
   */
  claim(max: number): Promise<string[]>
  /** A claimed order is being judged here: its lease is renewed until it is dropped or released. */
  hold(id: string): void
  /** A claimed order, undefined when it is gone (judged meanwhile); its `json` undefined when unreadable. */
  read(id: string): Promise<KeptOrder | undefined>
  /** Gives up a claim without judging (the order stays, for another sweep). */
  release(id: string): Promise<void>
  /** Stops renewing: claims lapse after `leaseMs`, and other processes judge those jobs. */
  close(): void
}

// KEYS: the index. ARGV: order key prefix, lease key prefix, this process's token, lease ms, max.
// One script, atomic in Redis: two processes sweeping at once never claim the same order. The
// keys it reads are built from ARGV (all under one prefix, as BullMQ's scripts do).
const CLAIM = `
local claimed = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if #claimed >= tonumber(ARGV[5]) then break end
  if redis.call('EXISTS', ARGV[1] .. id) == 0 then
    redis.call('ZREM', KEYS[1], id)
  elseif redis.call('SET', ARGV[2] .. id, ARGV[3], 'PX', ARGV[4], 'NX') then
    table.insert(claimed, id)
  end
end
return claimed
`

// KEYS: the job record, the order, its lease, the index. ARGV: the record, its TTL, '1' to write it
// only where absent, the order's TTL, this process's token, lease ms, now, the job id, then the
// order's fields and values. One script: the record and its order are written together or not at
// all (Redis checks memory before a script's first write only, so none stops half-way).
const KEEP = `
if ARGV[3] == '1' then
  if not redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2], 'NX') then return 0 end
else
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], unpack(ARGV, 9))
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('SET', KEYS[3], ARGV[5], 'PX', ARGV[6])
redis.call('ZADD', KEYS[4], ARGV[7], ARGV[8])
return 1
`

// KEYS: leases held. ARGV: token, lease ms. A lease still ours is extended; one that lapsed and
// nobody took is taken back; one another process took stays theirs.
const RENEW = `
for _, key in ipairs(KEYS) do
  local holder = redis.call('GET', key)
  if holder == ARGV[1] then redis.call('PEXPIRE', key, ARGV[2])
  elseif not holder then redis.call('SET', key, ARGV[1], 'PX', ARGV[2]) end
end
return 0
`

/**
 * Judging orders in Redis: each job's order (its content: text, prepared images) in a hash (the
 * JSON in `json`, each image's bytes as they are in `part:<n>`) that expires with the job record, an index of the orders not yet judged, and a lease per order naming
 * the process judging it (SET NX PX, renewed while it judges). The order is written with the job's
 * record (one script) before the 202 and deleted once the job's delivery is queued. Its size is bounded by the request's
 * (about MODERATION_MAX_BODY_BYTES at most: images are kept as uploaded, or downscaled to
 * MODERATION_IMAGE_MAX_SIDE), and their number by judging: at most WEBHOOK_MAX_JUDGING per live process, plus a
 * dead process's until they are judged elsewhere.
 *
 * @example
 * const orders = createRedisJudgingOrders(redis, { prefix: 'moderation', leaseMs: 10_000, ttlSeconds: JOB_TTL_SECONDS })
 */
export function createRedisJudgingOrders(redis: Redis, { prefix, leaseMs, ttlSeconds }: RedisJudgingOrdersOptions): RedisJudgingOrders {
  const index = `${prefix}:unjudged`
  const orderKey = (id: string) => `${prefix}:unjudged:${id}`
  const leaseKey = (id: string) => `${prefix}:unjudged-lease:${id}`
  // Which process holds a lease: this one, for as long as it runs.
  const token = randomUUID()
  const held = new Set<string>()

  const renew = () => {
    if (held.size === 0) return
    const keys = [...held].map(leaseKey)
    // A renewal Redis did not answer is tried again at the next tick, a third of a lease later.
    redis.eval(RENEW, keys.length, ...keys, token, String(leaseMs)).catch(() => {})
  }
  const renewing = setInterval(renew, Math.max(50, Math.floor(leaseMs / 3)))
  renewing.unref()

  return {
    async keep(id, order, record) {
      held.add(id)
      try {
        const parts = order.parts.flatMap((part, n) => [`part:${n}`, Buffer.from(part.buffer, part.byteOffset, part.byteLength)])
        // A job judged again under its key (a stale one resubmitted) keeps no part of the old order.
        const args = [record.value, String(record.expirationTtl), record.onlyIfAbsent ? '1' : '0', String(ttlSeconds), token, String(leaseMs), String(Date.now()), id, 'json', JSON.stringify(order.json), ...parts]
        // A script Redis refused (out of memory: content can be large) fails the submission (503):
        // a 202 promises the job survives this process.
        const written = (await redis.eval(KEEP, 4, `${prefix}:${record.key}`, orderKey(id), leaseKey(id), index, ...args)) === 1
        if (!written) held.delete(id)
        return written
      } catch (error) {
        held.delete(id)
        throw error
      }
    },
    async drop(id) {
      held.delete(id)
      await redis.multi().del(orderKey(id), leaseKey(id)).zrem(index, id).exec()
    },
    async claim(max) {
      if (max <= 0) return []
      return (await redis.eval(CLAIM, 1, index, orderKey(''), leaseKey(''), token, String(leaseMs), String(max))) as string[]
    },
    hold: (id) => void held.add(id),
    async read(id) {
      const fields = await redis.hgetallBuffer(orderKey(id))
      const { json, ...rest } = fields
      if (!json) return undefined
      const parts: Uint8Array[] = []
      for (const [name, bytes] of Object.entries(rest)) {
        const n = /^part:(\d+)$/.exec(name)?.[1]
        if (n !== undefined) parts[Number(n)] = bytes
      }
      try {
        return { json: JSON.parse(json.toString('utf8')) as unknown, parts }
      } catch {
        return { json: undefined, parts }
      }
    },
    async release(id) {
      held.delete(id)
      // Only our own claim: another process's is left alone.
      await redis.eval(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`, 1, leaseKey(id), token)
    },
    close: () => clearInterval(renewing),
  }
}
