import type { VerdictCache } from '../core/ports.js'
import { judgementSchema } from '../core/verdict.js'

// Structural types for the two Workers stores, so nothing here needs global Workers types.
export interface KvStore {
  get(key: string, type: 'json'): Promise<unknown>
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>
}
export interface HttpCache {
  match(request: Request): Promise<Response | undefined>
  put(request: Request, response: Response): Promise<void>
}

// KV refuses a TTL under 60 s.
const KV_MIN_TTL_SECONDS = 60

/**
 * Verdicts in a Workers KV namespace: global, eventually consistent. What comes back is
 * validated like anything else read from outside; a bad entry is a miss.
 */
export function createKvVerdictCache(kv: KvStore, ttlSeconds: number): VerdictCache {
  return {
    async get(key) {
      const parsed = judgementSchema.safeParse(await kv.get(key, 'json'))
      return parsed.success ? parsed.data : undefined
    },
    async set(key, judgement) {
      await kv.put(key, JSON.stringify(judgement), { expirationTtl: Math.max(KV_MIN_TTL_SECONDS, ttlSeconds) })
    },
  }
}

/**
 * Verdicts in the Cache API (`caches.default`): shared by every isolate in a data centre, free,
 * expired by Cache-Control. Keys become URLs on a host that is never fetched.
 */
export function createCacheApiVerdictCache(cache: HttpCache, ttlSeconds: number): VerdictCache {
  const url = (key: string) => new Request(`https://verdict-cache.internal/${encodeURIComponent(key)}`)
  return {
    async get(key) {
      const hit = await cache.match(url(key))
      if (!hit) return undefined
      const parsed = judgementSchema.safeParse(await hit.json().catch(() => undefined))
      return parsed.success ? parsed.data : undefined
    },
    async set(key, judgement) {
      const response = Response.json(judgement, { headers: { 'cache-control': `max-age=${ttlSeconds}` } })
      await cache.put(url(key), response)
    },
  }
}
