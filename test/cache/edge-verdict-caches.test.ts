import { describe, expect, it } from 'vitest'
import { createCacheApiVerdictCache, createKvVerdictCache, type HttpCache, type KvStore } from '../../src/cache/edge-verdict-caches.js'
import { createLruVerdictCache } from '../../src/cache/lru-verdict-cache.js'
import { createTieredVerdictCache } from '../../src/cache/tiered-verdict-cache.js'
import type { Judgement } from '../../src/core/shared/verdict.js'
import { createManualClock } from '../helpers/manual-clock.js'

const judgement: Judgement = { safe: false, action: 'block', categories: ['hate'], confidence: 0.9, model: 'm' }

/** An in-memory KV with the Workers KV surface used, recording TTLs. */
function memoryKv() {
  const values = new Map<string, string>()
  const ttls = new Map<string, number | undefined>()
  const kv: KvStore = {
    get: async (key) => (values.has(key) ? JSON.parse(values.get(key)!) : null),
    put: async (key, value, options) => {
      values.set(key, value)
      ttls.set(key, options?.expirationTtl)
    },
  }
  return { kv, values, ttls }
}

describe('edge verdict caches', () => {
  it('KV: scopes keys by deploy, stores with the TTL (at least the 60 s KV allows) and reads back', async () => {
    const { kv, ttls } = memoryKv()
    const cache = createKvVerdictCache(kv, { ttlSeconds: 30, namespace: 'v-1' })
    await cache.set('k', judgement)
    expect(await cache.get('k')).toEqual(judgement)
    expect(ttls.get('v-1:k')).toBe(60)
    // Another deploy does not see it.
    expect(await createKvVerdictCache(kv, { ttlSeconds: 30, namespace: 'v-2' }).get('k')).toBeUndefined()
  })

  it('KV: ends an entry at its own expiry, under the 60 s floor', async () => {
    let now = 1_000_000
    const { kv } = memoryKv()
    const cache = createKvVerdictCache(kv, { ttlSeconds: 30, namespace: 'v', now: () => now })
    await cache.set('k', judgement)
    now += 29_000
    expect(await cache.get('k')).toEqual(judgement)
    now += 2_000
    expect(await cache.get('k')).toBeUndefined()
  })

  it('KV: treats a tampered or foreign entry as a miss, never as a verdict', async () => {
    const { kv, values } = memoryKv()
    values.set('v:k', JSON.stringify({ judgement: { safe: true }, expires_at: Date.now() + 60_000 }))
    values.set('v:j', JSON.stringify(judgement))
    const cache = createKvVerdictCache(kv, { ttlSeconds: 3600, namespace: 'v' })
    expect(await cache.get('k')).toBeUndefined()
    expect(await cache.get('j')).toBeUndefined()
  })

  it('Cache API: keys become URLs, entries carry max-age', async () => {
    const stored = new Map<string, Response>()
    const http: HttpCache = {
      match: async (request) => stored.get(request.url)?.clone(),
      put: async (request, response) => void stored.set(request.url, response),
    }
    const cache = createCacheApiVerdictCache(http, { ttlSeconds: 120, namespace: 'v-1' })
    await cache.set('v1:abc', judgement)
    const [url, response] = [...stored.entries()][0]!
    expect(url).toBe('https://verdict-cache.internal/v-1%3Av1%3Aabc')
    expect(response.headers.get('cache-control')).toBe('max-age=120')
    expect(await cache.get('v1:abc')).toEqual(judgement)
    expect(await cache.get('v1:other')).toBeUndefined()
  })

  it('tiered: a shared hit fills the local level for the time it has left, not a fresh TTL', async () => {
    let wall = 5_000_000
    const clock = createManualClock(1_000) // lru-cache reads a start time of 0 as "no TTL"
    const local = createLruVerdictCache({ ttlMs: 3_600_000, clock })
    const { kv } = memoryKv()
    const shared = createKvVerdictCache(kv, { ttlSeconds: 100, namespace: 'v', now: () => wall })
    await shared.set('k', judgement)
    wall += 90_000 // 10 s left in the shared level
    const tiered = createTieredVerdictCache(local, shared, () => wall)
    expect(await tiered.get('k')).toEqual(judgement)
    await clock.advance(9_000)
    expect(await local.get('k')).toEqual(judgement)
    await clock.advance(2_000)
    expect(await local.get('k')).toBeUndefined()
  })
})
