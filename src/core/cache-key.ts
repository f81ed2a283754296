import { sha256Hex } from './hash.js'

export interface CacheKeyParts {
  /** SHA-256 of the text (UTF-8), or undefined without text. */
  textSha256?: string
  /** SHA-256 of each image's original bytes, in request order. */
  imageSha256: string[]
  policyVersion: string
  /** Provider (`gen_ai.system`) and model: a model change never serves an old judgement. */
  system: string
  model: string
}

/**
 * The verdict cache key: the content's digests, the policy version, provider and model, hashed
 * once (digests are the costly part of the cache-hit path).
 */
export async function verdictCacheKey(parts: CacheKeyParts): Promise<string> {
  const { textSha256, imageSha256, policyVersion, system, model } = parts
  return `v1:${await sha256Hex(JSON.stringify([textSha256 ?? null, imageSha256, policyVersion, system, model]))}`
}
