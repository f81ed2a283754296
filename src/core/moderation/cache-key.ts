import { sha256Hex, sha256HexSync } from '../shared/hash.js'

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
  return `v1:${await sha256Hex(keyInput(parts))}`
}

/** The same key, now, where the runtime hashes synchronously (Node); undefined elsewhere. */
export function verdictCacheKeySync(parts: CacheKeyParts): string | undefined {
  const digest = sha256HexSync(keyInput(parts))
  return digest === undefined ? undefined : `v1:${digest}`
}

const keyInput = ({ textSha256, imageSha256, policyVersion, system, model }: CacheKeyParts) =>
  JSON.stringify([textSha256 ?? null, imageSha256, policyVersion, system, model])
