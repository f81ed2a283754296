import { LRUCache } from 'lru-cache'
import { systemClock, type Clock, type VerdictCache } from '../core/shared/ports.js'
import type { Judgement } from '../core/shared/verdict.js'

export interface LruVerdictCacheOptions {
  maxEntries?: number
  ttlMs?: number
  /** Upper bound on the memory the entries take, estimated from their JSON size. */
  maxBytes?: number
  /** Time source for the TTL. */
  clock?: Pick<Clock, 'now'>
}

/**
 * In-memory verdict cache bounded by entries, bytes and age. Built once per process (once per
 * isolate on Workers).
 *
 * @example
 * const cache = createLruVerdictCache({ maxEntries: 10_000, ttlMs: 3_600_000 })
 */
export function createLruVerdictCache({
  maxEntries = 10_000,
  ttlMs: ttl = 3_600_000,
  maxBytes = 16 * 1024 * 1024,
  clock = systemClock,
}: LruVerdictCacheOptions = {}): VerdictCache {
  const lru = new LRUCache<string, Judgement>({
    max: maxEntries,
    ttl,
    // Resolution 0: read the clock on every check, so an injected clock drives expiry exactly.
    ttlResolution: 0,
    perf: clock,
    maxSize: maxBytes,
    // Key and value, in UTF-16 code units, times two bytes each: a fair estimate for small JSON.
    sizeCalculation: (value, key) => (JSON.stringify(value).length + key.length) * 2,
  })
  return {
    get: async (key) => lru.get(key),
    getLocal: (key) => lru.get(key),
    set: async (key, judgement, ttlMs) => {
      lru.set(key, judgement, ttlMs === undefined ? undefined : { ttl: Math.max(1, Math.min(ttlMs, ttl)) })
    },
  }
}

/** The in-process cache as MODERATION_CACHE_MAX_ENTRIES and MODERATION_CACHE_TTL_SECONDS set it (every entry builds it so). */
export function configuredLruVerdictCache(
  config: { MODERATION_CACHE_MAX_ENTRIES: number; MODERATION_CACHE_TTL_SECONDS: number },
  clock?: Pick<Clock, 'now'>,
): VerdictCache {
  return createLruVerdictCache({ maxEntries: config.MODERATION_CACHE_MAX_ENTRIES, ttlMs: config.MODERATION_CACHE_TTL_SECONDS * 1000, clock })
}
