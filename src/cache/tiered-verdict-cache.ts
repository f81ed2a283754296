import type { VerdictCache } from '../core/ports.js'

/**
 * Two cache levels: a fast local one (the isolate's LRU) in front of a shared one (Cache API or
 * KV). A hit in the shared level is copied into the local one; writes go to both.
 *
 * @example
 * const cache = createTieredVerdictCache(createLruVerdictCache(), createKvVerdictCache(env.VERDICT_CACHE))
 */
export function createTieredVerdictCache(local: VerdictCache, shared: VerdictCache): VerdictCache {
  return {
    async get(key) {
      const near = await local.get(key)
      if (near) return near
      const far = await shared.get(key)
      if (far) await local.set(key, far)
      return far
    },
    async set(key, judgement) {
      await Promise.all([local.set(key, judgement), shared.set(key, judgement)])
    },
  }
}
