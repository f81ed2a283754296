import { describe, expect, it } from 'vitest'
import { createCacheApiVerdictCache, createKvVerdictCache, type HttpCache, type KvStore } from '../../src/cache/edge-verdict-caches.js'
import { createLruVerdictCache } from '../../src/cache/lru-verdict-cache.js'
import { createTieredVerdictCache } from '../../src/cache/tiered-verdict-cache.js'
import type { Judgement } from '../../src/core/verdict.js'

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
  it('KV: stores with the TTL (at least the 60 s KV allows) and reads back', async () => {
    const { kv, ttls } = memoryKv()
    const cache = createKvVerdictCache(kv, 30)
    await cache.set('k', judgement)
    expect(await cache.get('k')).toEqual(judgement)
    expect(ttls.get('k')).toBe(60)
  })

  it('KV: treats a tampered or foreign entry as a miss, never as a verdict', async () => {
    const { kv, values } = memoryKv()
    values.set('k', JSON.stringify({ safe: true }))
    expect(await createKvVerdictCache(kv, 3600).get('k')).toBeUndefined()
  })

  it('Cache API: keys become URLs, entries carry max-age', async () => {
    const stored = new Map<string, Response>()
    const http: HttpCache = {
      match: async (request) => stored.get(request.url)?.clone(),
      put: async (request, response) => void stored.set(request.url, response),
    }
    const cache = createCacheApiVerdictCache(http, 120)
    await cache.set('v1:abc', judgement)
    const [url, response] = [...stored.entries()][0]!
    expect(url).toBe('https://verdict-cache.internal/v1%3Aabc')
    expect(response.headers.get('cache-control')).toBe('max-age=120')
    expect(await cache.get('v1:abc')).toEqual(judgement)
    expect(await cache.get('v1:other')).toBeUndefined()
  })

  it('tiered: a shared hit fills the local level', async () => {
    const local = createLruVerdictCache()
    const { kv } = memoryKv()
    const shared = createKvVerdictCache(kv, 3600)
    await shared.set('k', judgement)
    const tiered = createTieredVerdictCache(local, shared)
    expect(await tiered.get('k')).toEqual(judgement)
    expect(await local.get('k')).toEqual(judgement)
  })
})
