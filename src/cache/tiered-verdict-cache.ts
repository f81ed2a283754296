/**
 * cache/: Verdict caches behind the VerdictCache port: in-process LRU, Redis, Cache API and KV,
 * and two levels of them (this file).
 *
 * May import: core/shared.
 */
import type { VerdictCache } from '../core/shared/ports.js'
import type { SharedVerdictCache } from './edge-verdict-caches.js'

/**
 * Two cache levels: a fast local one (the isolate's LRU) in front of a shared one (Cache API or
 * KV). A hit in the shared level is copied into the local one for the time it has left; writes
 * go to both.
 *
 * @example
 * const cache = createTieredVerdictCache(createLruVerdictCache(), createKvVerdictCache(env.VERDICT_CACHE, options))
 */
export function createTieredVerdictCache(local: VerdictCache, shared: SharedVerdictCache, now: () => number = Date.now): VerdictCache {
  return {
    async get(key) {
      const near = await local.get(key)
      if (near) return near
      const far = await shared.getEntry(key)
      if (!far) return undefined
      await local.set(key, far.judgement, far.expiresAt - now())
      return far.judgement
    },
    getLocal: (key) => local.getLocal?.(key),
    async set(key, judgement) {
      await Promise.all([local.set(key, judgement), shared.set(key, judgement)])
    },
  }
}
