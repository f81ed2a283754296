import { z } from 'zod'
import type { KeptOrder } from '../core/webhooks/delivery-queue.js'
import type { RequestContext } from '../core/moderation/moderation-request.js'
import { excerpt } from '../core/shared/problem.js'
import type { Verdict } from '../core/shared/verdict.js'
import { judgePrepared, type JudgeDeps, type Limits, type PreparedItem } from './judge-item.js'

const frameRangeSchema = z
  .object({ first: z.number().int().min(0), last: z.number().int().min(0) })
  .refine((range) => range.last >= range.first, 'a frame range ends before it starts')

/**
 * Frame ranges an image can leave unjudged: an animation's sheet shows at most MAX_SHEET_CELLS (25,
 * src/images/frame-sheet.ts) runs of frames, so at most 26 gaps lie around them. Not imported: that
 * file needs sharp, and this one runs on Workers too.
 */
const MAX_UNJUDGED_RANGES = 26

/** What bounds an order: the limits a request is held to (config.ts). */
export type JudgingOrderLimits = Pick<Limits, 'maxBudgetMs' | 'maxTextChars' | 'maxImages'>

/**
 * What judging an asynchronous job takes, as JSON: kept in Redis from before the 202 until the job
 * is judged, so that another process can judge it if this one dies. Image bytes are kept beside it
 * as binary parts (KeptOrder.parts), named here by index. The callback URL and the webhook-id are
 * in the job record. Bounded as a request is: the store is shared, and what it hands back is
 * read as untrusted input.
 */
export const judgingOrderSchema = ({ maxTextChars, maxImages }: Pick<JudgingOrderLimits, 'maxTextChars' | 'maxImages'>) =>
  z.object({
    policy: z.string().max(200),
    budget_ms: z.number().int().positive(),
    // Hono's request-id middleware takes X-Request-Id values of at most 255 characters.
    request_id: z.string().max(255),
    /** The budget ran out while its images were prepared: the timeout verdict, from the text alone. */
    late: z.boolean(),
    text: z.string().max(maxTextChars).optional(),
    text_sha256: z.string().max(64).optional(),
    images: z
      .array(
        z.object({
          mime_type: z.string().max(100),
          /** Which part holds the prepared bytes (downscaled for the model). */
          part: z.number().int().min(0).max(maxImages - 1),
          sha256: z.string().max(64),
          first_frame_only: z.boolean().optional(),
          unjudged_frames: z.array(frameRangeSchema).max(MAX_UNJUDGED_RANGES).optional(),
        }),
      )
      .max(maxImages),
  })
export type JudgingOrder = z.infer<ReturnType<typeof judgingOrderSchema>>

/** The order for a prepared item (or one whose images ran out of time) under `context`. */
export function judgingOrderOf(prepared: PreparedItem | 'late', context: RequestContext, text?: string): KeptOrder {
  const common = { policy: context.policy.name, budget_ms: context.budgetMs, request_id: context.requestId }
  if (prepared === 'late') return { json: { ...common, late: true, text, images: [] } satisfies JudgingOrder, parts: [] }
  const json: JudgingOrder = {
    ...common,
    late: false,
    text: prepared.text,
    text_sha256: prepared.textSha256,
    images: prepared.images.map((image, part) => ({
      mime_type: image.mimeType,
      part,
      sha256: image.sha256,
      ...(image.firstFrameOnly ? { first_frame_only: true } : {}),
      ...(image.unjudgedFrames ? { unjudged_frames: image.unjudgedFrames } : {}),
    })),
  }
  return { json, parts: prepared.images.map((image) => image.data) }
}

/**
 * The judging of a kept order, as a request is judged: under its policy as this process has it,
 * and a budget capped again by that policy and the server maximum, counted from when judging
 * starts. An order whose policy is gone fails its job, as a request naming an unknown policy is
 * refused: it is never judged under another (more lenient) one. So does an order that does not
 * parse or exceeds a request's limits (a stale or hostile record in a shared store), or misses an
 * image; the job's record and log say why, and its content is deleted.
 */
export function judgeOrder(deps: Pick<JudgeDeps, 'policies' | 'moderator' | 'clock'> & { limits: JudgingOrderLimits }, kept: KeptOrder): () => Promise<Verdict> {
  const { limits } = deps
  const parsed = judgingOrderSchema(limits).safeParse(kept.json)
  if (!parsed.success) return refused(`the content kept for judging this job could not be read (${describe(parsed.error)})`)
  if (parsed.data.images.some((image) => !kept.parts[image.part])) return refused('the content kept for judging this job could not be read (an image is missing)')
  const order = parsed.data
  const policy = deps.policies.get(order.policy)
  if (!policy) return refused(`policy "${excerpt(order.policy)}" is no longer loaded; the job is not judged under another`)
  return async () => {
    const budgetMs = Math.min(policy.budgetMs, order.budget_ms, limits.maxBudgetMs)
    const context: RequestContext = { policy, budgetMs, requestId: order.request_id, startedAt: deps.clock.now() }
    const prepared: PreparedItem | 'late' = order.late
      ? 'late'
      : {
          text: order.text,
          textSha256: order.text_sha256,
          images: order.images.map((image) => ({
            mimeType: image.mime_type,
            data: kept.parts[image.part]!,
            sha256: image.sha256,
            ...(image.first_frame_only ? { firstFrameOnly: true } : {}),
            ...(image.unjudged_frames ? { unjudgedFrames: image.unjudged_frames } : {}),
          })),
        }
    return (await judgePrepared(deps, prepared, context, order.text)).verdict
  }
}

const refused = (reason: string) => () => Promise.reject(new Error(reason))

/** Where an order broke its schema, without its content: the first problem's path and zod's words. */
function describe(error: z.ZodError): string {
  const issue = error.issues[0]
  return issue ? `${issue.path.join('.') || 'order'}: ${issue.message}` : 'not an order'
}
