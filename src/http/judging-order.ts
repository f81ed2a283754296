import { z } from 'zod'
import type { KeptOrder } from '../core/delivery-queue.js'
import type { RequestContext } from '../core/moderate.js'
import type { Verdict } from '../core/verdict.js'
import { judgePrepared, type JudgeDeps, type PreparedItem } from './judge-item.js'

const frameRangeSchema = z.object({ first: z.number().int(), last: z.number().int() })

/**
 * What judging an asynchronous job takes, as JSON: kept in Redis from before the 202 until the job
 * is judged, so that another process can judge it if this one dies. Image bytes are kept beside it
 * as binary parts (KeptOrder.parts), named here by index. The callback URL and the webhook-id are
 * in the job record.
 */
export const judgingOrderSchema = z.object({
  policy: z.string(),
  budget_ms: z.number().int().positive(),
  request_id: z.string(),
  /** The budget ran out while its images were prepared: the timeout verdict, from the text alone. */
  late: z.boolean(),
  text: z.string().optional(),
  text_sha256: z.string().optional(),
  images: z.array(
    z.object({
      mime_type: z.string(),
      /** Which part holds the prepared bytes (downscaled for the model). */
      part: z.number().int().min(0),
      sha256: z.string(),
      first_frame_only: z.boolean().optional(),
      unjudged_frames: z.array(frameRangeSchema).optional(),
    }),
  ),
})
export type JudgingOrder = z.infer<typeof judgingOrderSchema>

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
 * The judging of a kept order, under its budget counted from when judging starts, and its policy
 * as this process has it (a policy since removed: the default one; the verdict names which). An
 * order that does not parse, or misses an image, fails its job.
 */
export function judgeOrder(deps: Pick<JudgeDeps, 'policies' | 'moderator' | 'clock'>, kept: KeptOrder): () => Promise<Verdict> {
  const parsed = judgingOrderSchema.safeParse(kept.json)
  if (!parsed.success || parsed.data.images.some((image) => !kept.parts[image.part])) {
    return () => Promise.reject(new Error('the content kept for judging this job could not be read'))
  }
  const order = parsed.data
  return async () => {
    const policy = deps.policies.get(order.policy) ?? deps.policies.get(deps.policies.defaultName)
    if (!policy) throw new Error(`policy ${order.policy} is not loaded`)
    const context: RequestContext = { policy, budgetMs: order.budget_ms, requestId: order.request_id, startedAt: deps.clock.now() }
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
