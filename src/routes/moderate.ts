import { type Context, Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { prepareImage, type ImageProcessor } from '../core/images.js'
import { sha256Hex } from '../core/hash.js'
import { beforeDeadline } from '../core/deadline.js'
import type { Moderator } from '../core/moderate.js'
import type { Clock } from '../core/ports.js'
import type { PolicyRegistry } from '../core/policy.js'
import type { AppEnv } from '../http/app-env.js'
import { ApiError } from '../http/errors.js'
import { readModerationBody } from '../http/read-moderation-body.js'

export interface Limits {
  maxBodyBytes: number
  maxBudgetMs: number
  maxTextChars: number
  maxImages: number
  maxImageBytes: number
  maxImagePixels: number
  imageMaxSide: number
}

export interface ModerateRouteDeps {
  policies: PolicyRegistry
  moderator: Moderator
  images: ImageProcessor
  limits: Limits
  clock: Clock
}

/** POST /v1/moderate: one item, any of the three body forms, a verdict within the budget. */
export function moderateRoutes({ policies, moderator, images, limits, clock }: ModerateRouteDeps) {
  const app = new Hono<AppEnv>()

  app.post(
    '/moderate',
    bodyLimit({
      maxSize: limits.maxBodyBytes,
      onError: () => {
        throw new ApiError('payload_too_large', `body exceeds ${limits.maxBodyBytes} bytes`)
      },
    }),
    async (c) => {
      const read = await readModerationBody(c.req.raw, new URL(c.req.url).searchParams, { maxImages: limits.maxImages })
      if (!read.ok) throw ApiError.from(read.problem)
      const body = read.value

      const policyName = body.policy ?? policies.defaultName
      const policy = policies.get(policyName)
      if (!policy) {
        const known = policies.list().map((p) => p.name).join(', ')
        throw new ApiError('invalid_request', `unknown policy "${policyName}"; available: ${known}`)
      }
      const text = body.text?.trim() ? body.text : undefined
      if (!text && body.images.length === 0) throw new ApiError('invalid_request', 'nothing to moderate: send text and/or images')
      if (text && text.length > limits.maxTextChars) {
        throw new ApiError('payload_too_large', `text is ${text.length} characters; the limit is ${limits.maxTextChars}`)
      }

      const budgetMs = Math.min(policy.budgetMs, body.budgetMs ?? Number.POSITIVE_INFINITY, limits.maxBudgetMs)
      const context = { policy, budgetMs, startedAt: c.get('startedAt'), requestId: c.get('requestId'), waitUntil: waitUntilOf(c) }
      const deadline = context.startedAt + budgetMs
      const imageLimits = {
        maxBytes: limits.maxImageBytes,
        maxPixels: limits.maxImagePixels,
        maxSide: limits.imageMaxSide,
        remainingMs: () => deadline - clock.now(),
      }
      const preparing = Promise.all(body.images.map((image) => prepareImage(image, imageLimits, images)))
      // Image work counts against the budget too: past it, the answer is the timeout verdict.
      const prepared = await beforeDeadline(preparing, deadline, clock, undefined)
      const failed = prepared?.find((result) => !result.ok)
      if (failed && !failed.ok) throw ApiError.from(failed.problem)
      const readyImages = (prepared ?? []).flatMap((result) => (result.ok ? [result.value] : []))

      const textSha256 = text ? await sha256Hex(text) : undefined
      c.set('logFields', {
        text_sha256: textSha256,
        text_chars: text?.length ?? 0,
        images: readyImages.map((image) => ({ sha256: image.sha256, bytes: image.data.length, type: image.mimeType })),
      })

      const verdict = prepared
        ? await moderator.moderate({ ...context, item: { text, textSha256, images: readyImages } })
        : await moderator.outOfTime(context)
      c.set('logFields', {
        ...c.get('logFields'),
        verdict_id: verdict.id,
        action: verdict.action,
        source: verdict.source,
        fallback_reason: verdict.fallback_reason,
        policy: verdict.policy,
        latency_ms: verdict.latency_ms,
      })
      return c.json(verdict)
    },
  )

  return app
}

/** The runtime's waitUntil where there is one (Workers); Hono throws on reading it elsewhere. */
function waitUntilOf(c: Context): ((promise: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx
    return (promise) => ctx.waitUntil(promise)
  } catch {
    return undefined
  }
}
