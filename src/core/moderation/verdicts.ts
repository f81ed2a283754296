import type { ModerationImage } from '../images/image-types.js'
import type { Policy } from './policy.js'
import { strictestAction, type FallbackReason, type Judgement, type Verdict, type VerdictSource } from '../shared/verdict.js'

export interface VerdictContext {
  id: string
  policy: Policy
  budgetMs: number
  latencyMs: number
}

/** The `model` of a local verdict: the classifier and the word lists, or the lists alone (classifier off). */
export const LOCAL_MODEL = 'local-classifier'
export const LOCAL_RULES_MODEL = 'local-rules'

export function toVerdict(judgement: Judgement, source: VerdictSource, ctx: VerdictContext): Verdict {
  return {
    id: ctx.id,
    safe: judgement.safe,
    action: judgement.action,
    categories: judgement.categories,
    confidence: judgement.confidence,
    source,
    ...(judgement.signals?.length ? { signals: judgement.signals } : {}),
    policy: ctx.policy.name,
    policy_version: ctx.policy.version,
    model: judgement.model,
    latency_ms: Math.round(ctx.latencyMs),
    budget_ms: ctx.budgetMs,
  }
}

/**
 * The conservative verdict: never safe, the policy's failure action (review unless the policy
 * says otherwise), zero confidence and the reason. A fail-open policy gets `allow`, still `safe: false`.
 */
export function conservativeVerdict(reason: FallbackReason, model: string, ctx: VerdictContext): Verdict {
  const verdict = toVerdict(
    { safe: false, action: ctx.policy.onFailure, categories: [], confidence: 0, model },
    'fallback',
    ctx,
  )
  return { ...verdict, fallback_reason: reason }
}

/**
 * A verdict on an item with animation frames the model did not see: only the first frame (edge
 * decoders), or more frames than a sheet holds. What was not judged is never safe: at least the
 * policy's failure action, a signal, and for a sheet the frames it left off. Unchanged otherwise.
 */
export function withUnjudgedFrames(verdict: Verdict, policy: Policy, images: readonly ModerationImage[]): Verdict {
  const firstFrameOnly = images.some((image) => image.firstFrameOnly)
  const unjudged = images.flatMap((image, index) => (image.unjudgedFrames ?? []).map((range) => ({ image: index, ...range })))
  if (!firstFrameOnly && unjudged.length === 0) return verdict
  const signals = [...(firstFrameOnly ? ['animation_first_frame_only'] : []), ...(unjudged.length ? ['frames_not_judged'] : [])]
  return {
    ...verdict,
    safe: false,
    action: strictestAction(verdict.action, policy.onFailure),
    signals: [...new Set([...(verdict.signals ?? []), ...signals])],
    ...(unjudged.length ? { unjudged_frames: unjudged } : {}),
  }
}

/**
 * A verdict on content that tries to instruct the moderator: at least `review`, never safe,
 * with the `prompt_injection` signal, whatever the model (which may have obeyed) answered.
 */
export function withInjectionFloor(verdict: Verdict): Verdict {
  return {
    ...verdict,
    safe: false,
    action: strictestAction(verdict.action, 'review'),
    signals: [...new Set([...(verdict.signals ?? []), 'prompt_injection'])],
  }
}
