import type { Context } from 'hono'
import { beforeDeadline } from '../core/resilience/deadline.js'
import { sha256Hex } from '../core/shared/hash.js'
import { prepareImage } from '../core/images/prepare-image.js'
import type { ImageFetcher, ImageProcessor, ModerationImage, UploadedImage } from '../core/images/image-types.js'
import type { Moderator } from '../core/moderation/moderate.js'
import type { RequestContext } from '../core/moderation/moderation-request.js'
import type { PolicyRegistry } from '../core/moderation/policy.js'
import type { Clock, LogFields } from '../core/shared/ports.js'
import { excerpt, problem, type Checked } from '../core/shared/problem.js'
import type { Verdict } from '../core/shared/verdict.js'
import type { AppEnv } from './app-env.js'
import { ApiError } from './errors.js'

export interface Limits {
  maxBodyBytes: number
  maxBudgetMs: number
  maxTextChars: number
  maxImages: number
  maxImageBytes: number
  maxImagePixels: number
  imageMaxSide: number
  /** Items in one batch request (array input). */
  maxBatchItems: number
}

export interface JudgeDeps {
  policies: PolicyRegistry
  moderator: Moderator
  images: ImageProcessor
  /** Fetches http(s) image URLs; absent (the default) means URLs are refused. */
  imageFetcher?: ImageFetcher
  limits: Limits
  clock: Clock
}

export interface Item {
  text?: string
  images: UploadedImage[]
}

/**
 * The policy and budget a request runs under: the named (or default) policy, its budget lowered
 * by the request and capped by the server, counted from the request's arrival.
 */
export function requestContext(c: Context<AppEnv>, { policies, limits }: JudgeDeps, policyName?: string, budgetMs?: number): RequestContext {
  const name = policyName ?? policies.defaultName
  const policy = policies.get(name)
  if (!policy) {
    const known = policies.list().map((p) => p.name).join(', ')
    throw new ApiError('invalid_request', `unknown policy "${excerpt(name)}"; available: ${known}`)
  }
  return {
    policy,
    budgetMs: Math.min(policy.budgetMs, budgetMs ?? Number.POSITIVE_INFINITY, limits.maxBudgetMs),
    startedAt: c.get('startedAt'),
    requestId: c.get('requestId'),
    trace: c.get('traceContext'),
    waitUntil: waitUntilOf(c),
  }
}

/** An item whose checks passed and whose images are ready for the model. */
export interface PreparedItem {
  text?: string
  textSha256?: string
  images: ModerationImage[]
}

/**
 * The checks every endpoint shares (empty, too long, too many images), then image preparation
 * inside the budget. Bad input is a problem, not a verdict; 'late' means the budget ran out.
 */
export async function prepareItem(deps: JudgeDeps, item: Item, context: RequestContext): Promise<Checked<PreparedItem> | 'late'> {
  const { limits } = deps
  const text = item.text?.trim() ? item.text : undefined
  if (!text && item.images.length === 0) return problem('invalid_request', 'nothing to moderate: send text and/or images')
  if (text && text.length > limits.maxTextChars) {
    return problem('payload_too_large', `text is ${text.length} characters; the limit is ${limits.maxTextChars}`)
  }
  if (item.images.length > limits.maxImages) return problem('payload_too_large', `${item.images.length} images; at most ${limits.maxImages} per item`)

  const images = item.images.length === 0 ? { ok: true as const, value: [] } : await prepareImages(deps, item.images, context)
  if (images === 'late' || !images.ok) return images
  return { ok: true, value: { text, textSha256: text ? await sha256Hex(text) : undefined, images: images.value } }
}

/**
 * Images checked and prepared, racing the budget: past it, the answer is the timeout verdict. Once
 * the answer is known (all ready, one refused, or out of time), decodes not yet started never start.
 */
async function prepareImages({ images, limits, clock }: JudgeDeps, uploads: UploadedImage[], context: RequestContext) {
  const deadline = context.startedAt + context.budgetMs
  const answered = new AbortController()
  const imageLimits = {
    maxBytes: limits.maxImageBytes,
    maxPixels: limits.maxImagePixels,
    maxSide: limits.imageMaxSide,
    remainingMs: () => deadline - clock.now(),
    signal: answered.signal,
  }
  try {
    const preparing = allOrFirstRefusal(uploads.map((image) => prepareImage(image, imageLimits, images)))
    return await beforeDeadline(preparing, deadline, clock, 'late' as const)
  } finally {
    answered.abort()
  }
}

/** Every image ready, or the first one refused or given up on, as soon as it is: the rest are not waited for. */
function allOrFirstRefusal(preparing: Promise<Checked<ModerationImage> | 'late'>[]): Promise<Checked<ModerationImage[]> | 'late'> {
  return new Promise((resolve, reject) => {
    for (const one of preparing) one.then((result) => (result === 'late' || !result.ok ? resolve(result) : undefined), reject)
    Promise.all(preparing).then((results) => resolve({ ok: true, value: results.flatMap((result) => (result !== 'late' && result.ok ? [result.value] : [])) }), reject)
  })
}

/**
 * A prepared item through the moderator, with its log fields. 'late' (the budget ran out on its
 * images): the timeout verdict, still shaped by the local check of `text`, the item's text.
 */
export async function judgePrepared({ moderator }: Pick<JudgeDeps, 'moderator'>, prepared: PreparedItem | 'late', context: RequestContext, text?: string) {
  const verdict = prepared === 'late' ? await moderator.outOfTime(context, text) : await moderator.moderate({ ...context, item: prepared })
  const log: LogFields = { ...(prepared === 'late' ? {} : itemLogFields(prepared)), ...verdictLogFields(verdict) }
  return { verdict, log }
}

/** What the access line says of a verdict. */
export const verdictLogFields = (verdict: Verdict): LogFields => ({
  verdict_id: verdict.id,
  action: verdict.action,
  source: verdict.source,
  fallback_reason: verdict.fallback_reason,
  policy: verdict.policy,
  latency_ms: verdict.latency_ms,
})

/** Hashes and sizes of an item's content: what logs carry instead of the content. */
export const itemLogFields = (item: PreparedItem): LogFields => ({
  text_sha256: item.textSha256,
  text_chars: item.text?.length ?? 0,
  images: item.images.map((image) => ({ sha256: image.sha256, bytes: image.data.length, type: image.mimeType })),
})

/**
 * One item through the pipeline: checks, images inside the budget, then the moderator. Bad input
 * is a problem, not a verdict.
 */
export async function judgeItem(deps: JudgeDeps, item: Item, context: RequestContext): Promise<Checked<{ verdict: Verdict; log: LogFields }>> {
  const prepared = await prepareItem(deps, item, context)
  if (prepared !== 'late' && !prepared.ok) return prepared
  return { ok: true, value: await judgePrepared(deps, prepared === 'late' ? 'late' : prepared.value, context, item.text) }
}

// Whether this runtime hands requests an ExecutionContext, learnt on the first request: Hono
// throws (an Error, stack and all) on reading a missing one, which cost ~3% of CPU per request.
let hasExecutionCtx: boolean | undefined

/** The runtime's waitUntil where there is one (Workers); undefined on Node. */
function waitUntilOf(c: Context): ((promise: Promise<unknown>) => void) | undefined {
  if (hasExecutionCtx === false) return undefined
  try {
    const ctx = c.executionCtx
    hasExecutionCtx = true
    return (promise) => ctx.waitUntil(promise)
  } catch {
    hasExecutionCtx = false
    return undefined
  }
}
