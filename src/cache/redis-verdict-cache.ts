import { sharedCache, type EdgeCacheOptions, type SharedVerdictCache } from './edge-verdict-caches.js'

/** The two commands the cache uses, as ioredis (and node-redis) have them. */
export interface RedisCommands {
  get(key: string): Promise<string | null>
  set(key: string, value: string, unit: 'PX', ms: number): Promise<unknown>
}

/**
 * Verdicts in Redis (or Valkey), shared by every process and replica: the second level behind
 * the in-process LRU (createTieredVerdictCache). Entries expire in Redis (PX) and carry their own
 * expiry, checked when read with the entry's shape, as on Workers. A Redis that is down, slow or
 * answering nonsense is a miss, never an error: the client gives commands up after its timeout
 * (MODERATION_REDIS_TIMEOUT_MS) and its connection state is logged elsewhere, once per change,
 * not once per request.
 *
 * @example
 * const cache = createTieredVerdictCache(createLruVerdictCache(), createRedisVerdictCache(redis, { ttlSeconds: 3600, namespace: 'moderation:1.0.0' }))
 */
export function createRedisVerdictCache(redis: RedisCommands, options: EdgeCacheOptions): SharedVerdictCache {
  return sharedCache(options, {
    async read(key) {
      const raw = await redis.get(key).catch(() => null)
      if (raw === null) return undefined
      try {
        return JSON.parse(raw) as unknown
      } catch {
        return undefined
      }
    },
    write: async (key, value) => {
      await redis.set(key, value, 'PX', options.ttlSeconds * 1000).catch(() => {})
    },
  })
}
