import { sha256Hex } from './hash.js'

export interface ContentDigest {
  /** SHA-256 of the text (UTF-8), or undefined without text. */
  textSha256?: string
  /** SHA-256 of each image's original bytes, in request order. */
  imageSha256: string[]
}

/** A digest of the content alone: what logs show instead of the content. */
export async function contentSha256(digest: ContentDigest): Promise<string> {
  return sha256Hex(JSON.stringify([digest.textSha256 ?? null, digest.imageSha256]))
}

/**
 * The verdict cache key: content, policy version, provider and model. A policy edit or a model
 * change never serves an old judgement.
 */
export async function verdictCacheKey(content: string, policyVersion: string, system: string, model: string) {
  return `v1:${await sha256Hex(JSON.stringify([content, policyVersion, system, model]))}`
}
