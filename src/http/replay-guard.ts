import { LRUCache } from 'lru-cache'

/** Remembers the ids of signed requests already accepted, so a captured one cannot be replayed. */
export interface ReplayGuard {
  /** Whether this id is known to have been used (what this process knows: no I/O). */
  knows(id: string): boolean
  /** Records the id as used, unless it already was: true when this is its first use. */
  claim(id: string): Promise<boolean>
  /** Forgets a claimed id: its request was refused for a reason the sender retries (429, 5xx). */
  release(id: string): Promise<void>
}

/** The guard of one process: ids kept for `ttlMs` (more than the signature's tolerance window). */
export function createInProcessReplayGuard({ ttlMs, max = 100_000 }: { ttlMs: number; max?: number }): ReplayGuard {
  const seen = new LRUCache<string, true>({ max, ttl: ttlMs })
  return {
    knows: (id) => seen.has(id),
    claim: async (id) => {
      if (seen.has(id)) return false
      seen.set(id, true)
      return true
    },
    release: async (id) => void seen.delete(id),
  }
}

/** The one command the Redis guard uses, as ioredis has it. */
export interface RedisSetNx {
  set(key: string, value: string, unit: 'PX', ms: number, mode: 'NX'): Promise<'OK' | null>
  del(key: string): Promise<number>
}

/**
 * The guard shared by every process and replica (Node, REDIS_URL): an id is claimed with one
 * atomic SET NX, so of two replicas receiving the same signed request only one accepts it, and
 * a restart forgets nothing. While Redis cannot answer, the process's own guard decides (a replay
 * to another replica is then possible; refusing every signed request instead would stop all of
 * them for the outage).
 */
export function createRedisReplayGuard(redis: RedisSetNx, { namespace, ttlMs, local }: { namespace: string; ttlMs: number; local: ReplayGuard }): ReplayGuard {
  return {
    knows: (id) => local.knows(id),
    async claim(id) {
      const known = !(await local.claim(id))
      if (known) return false
      const answer = await redis.set(`${namespace}:replay:${id}`, '1', 'PX', ttlMs, 'NX').catch(() => 'unreachable' as const)
      return answer !== null
    },
    async release(id) {
      await local.release(id)
      await redis.del(`${namespace}:replay:${id}`).catch(() => {})
    },
  }
}
