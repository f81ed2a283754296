import { z } from 'zod'
import type { VerdictCache } from '../core/shared/ports.js'
import { judgementSchema, type Judgement } from '../core/shared/verdict.js'

// Structural types for the two Workers stores, so nothing here needs global Workers types.
export interface KvStore {
  get(key: string, type: 'json'): Promise<unknown>
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>
}
export interface HttpCache {
  match(request: Request): Promise<Response | undefined>
  put(request: Request, response: Response): Promise<void>
}

export interface SharedEntry {
  judgement: Judgement
  /** Wall-clock expiry (ms since the epoch), so a copy in another level never outlives it. */
  expiresAt: number
}

/** A cache level shared across isolates: it also tells when an entry expires. */
export interface SharedVerdictCache extends VerdictCache {
  getEntry(key: string): Promise<SharedEntry | undefined>
}

export interface EdgeCacheOptions {
  ttlSeconds: number
  /**
   * Prefix of every key: the deployed version, so a new deploy (new prompt, new decision code)
   * never serves an older deploy's verdicts, and two Workers on one zone never share entries.
   */
  namespace: string
  now?: () => number
}

const storedSchema = z.object({ judgement: judgementSchema, expires_at: z.number() })
// KV refuses a TTL under 60 s; the entry's own expires_at still ends it on time.
const KV_MIN_TTL_SECONDS = 60

/**
 * A shared cache level over any key-value store: entries carry their wall-clock expiry and are
 * validated when read (Workers' KV and Cache API here, Redis on Node).
 */
export function sharedCache(
  { ttlSeconds, namespace, now = Date.now }: EdgeCacheOptions,
  store: { read(key: string): Promise<unknown>; write(key: string, value: string): Promise<void> },
): SharedVerdictCache {
  const scoped = (key: string) => `${namespace}:${key}`
  async function getEntry(key: string): Promise<SharedEntry | undefined> {
    // Validated like anything read from outside: a foreign, tampered or expired entry is a miss.
    const parsed = storedSchema.safeParse(await store.read(scoped(key)))
    if (!parsed.success || parsed.data.expires_at <= now()) return undefined
    return { judgement: parsed.data.judgement, expiresAt: parsed.data.expires_at }
  }
  return {
    getEntry,
    get: async (key) => (await getEntry(key))?.judgement,
    set: (key, judgement) => store.write(scoped(key), JSON.stringify({ judgement, expires_at: now() + ttlSeconds * 1000 })),
  }
}

/** Verdicts in a Workers KV namespace: global, eventually consistent. */
export function createKvVerdictCache(kv: KvStore, options: EdgeCacheOptions): SharedVerdictCache {
  return sharedCache(options, {
    read: (key) => kv.get(key, 'json'),
    write: (key, value) => kv.put(key, value, { expirationTtl: Math.max(KV_MIN_TTL_SECONDS, options.ttlSeconds) }),
  })
}

/**
 * Verdicts in the Cache API (`caches.default`): shared by every isolate in a data centre, free,
 * expired by Cache-Control. Keys become URLs on a host that is never fetched. The Cache API does
 * nothing on *.workers.dev: it needs the Worker on a route of a zone.
 */
export function createCacheApiVerdictCache(cache: HttpCache, options: EdgeCacheOptions): SharedVerdictCache {
  const url = (key: string) => new Request(`https://verdict-cache.internal/${encodeURIComponent(key)}`)
  return sharedCache(options, {
    read: async (key) => (await cache.match(url(key)))?.json().catch(() => undefined),
    write: (key, value) =>
      cache.put(url(key), new Response(value, { headers: { 'content-type': 'application/json', 'cache-control': `max-age=${options.ttlSeconds}` } })),
  })
}
