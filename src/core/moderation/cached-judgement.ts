import type { Context } from '@opentelemetry/api'
import { LRUCache } from 'lru-cache'
import { beforeDeadline } from '../resilience/deadline.js'
import { sha256Hex } from '../shared/hash.js'
import type { ModelClient } from '../shared/model.js'
import type { Clock, Logger, VerdictCache } from '../shared/ports.js'
import type { Judgement } from '../shared/verdict.js'
import type { Telemetry } from '../telemetry/telemetry.js'
import { verdictCacheKey, verdictCacheKeySync } from './cache-key.js'
import { modelIdOf } from './model-route.js'
import type { ModerationRequest } from './moderation-request.js'
import { inChildSpanAsync } from './moderation-spans.js'
import type { Policy } from './policy.js'

// Step 3, the cache: a model's judgement of the same content under the same policy version and
// model, read before the model is asked and written after it judged. A fallback is never cached.

/** The verdict cache key of an item under a policy and model. */
export async function cacheKeyOf({ item, policy }: Pick<ModerationRequest, 'item' | 'policy'>, client: ModelClient, modelId: string): Promise<string> {
  return verdictCacheKey({
    // Never key on a missing digest: two different texts would share a verdict.
    textSha256: item.text === undefined ? undefined : (item.textSha256 ?? (await sha256Hex(item.text))),
    imageSha256: item.images.map((image) => image.sha256),
    policyVersion: policy.version,
    system: client.system,
    model: modelId,
  })
}

/**
 * The cache key of a text alone, computed synchronously and remembered (hashing it again cost a
 * tenth of the fast cache-hit path); undefined on a runtime without a synchronous hash.
 */
export function createTextCacheKeys(): (client: ModelClient, policy: Policy, textSha256: string) => string | undefined {
  const keys = new LRUCache<string, string>({ max: 10_000 })
  return (client, policy, textSha256) => {
    const model = modelIdOf(policy, { client })
    const memo = `${client.system}:${model}:${policy.version}:${textSha256}`
    let key = keys.get(memo)
    if (key === undefined) {
      key = verdictCacheKeySync({ textSha256, imageSha256: [], policyVersion: policy.version, system: client.system, model })
      if (key !== undefined) keys.set(memo, key)
    }
    return key
  }
}

export interface CacheStepDeps {
  cache: VerdictCache
  clock: Clock
  telemetry: Telemetry
  logger: Logger
}

/** The cached judgement, in its own span; a cache that fails is a miss, and one that hangs is given up at the deadline. */
export function readCachedJudgement(
  { cache, clock, telemetry, logger }: CacheStepDeps,
  key: string,
  { requestId, deadline, parent }: { requestId: string; deadline: number; parent: Context },
): Promise<Judgement | undefined> {
  return inChildSpanAsync(telemetry, parent, 'moderation.cache', async (cacheSpan) => {
    // A cache that fails is a miss: the model still judges.
    const read = cache.get(key).catch((error: unknown) => {
      logger.warn('verdict cache read failed', { request_id: requestId, error: String(error) })
      return undefined
    })
    // A shared cache that hangs must not hold the verdict past the budget.
    const hit = await beforeDeadline(read, deadline, clock, undefined)
    cacheSpan.setAttribute('moderation.cache_hit', hit !== undefined)
    return hit
  })
}

/** Writes a model's judgement; not awaited by the verdict (kept alive by `waitUntil` where the runtime needs it). */
export function writeJudgement({ cache, logger }: CacheStepDeps, key: string, judgement: Judgement, request: Pick<ModerationRequest, 'waitUntil'>) {
  const write = cache.set(key, judgement).catch((error: unknown) => logger.warn('verdict cache write failed', { error: String(error) }))
  request.waitUntil?.(write)
}
