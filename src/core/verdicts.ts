import type { Policy } from './policy.js'
import type { FallbackReason, Judgement, Verdict, VerdictSource } from './verdict.js'

export interface VerdictContext {
  id: string
  policy: Policy
  budgetMs: number
  latencyMs: number
}

export const LOCAL_MODEL = 'local-rules'

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
