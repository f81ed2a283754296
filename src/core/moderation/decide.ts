import type { CategoryThresholds, Policy } from './policy.js'
import { strictestAction, type Action } from '../shared/verdict.js'

export interface Decision {
  /** True only when nothing was flagged and the judge was sure enough of it. */
  safe: boolean
  action: Action
  /** What the judge flagged; `action` is what the policy's thresholds make of it. */
  categories: string[]
  signals?: string[]
}

function actionFor(thresholds: CategoryThresholds | undefined, confidence: number): Action {
  if (!thresholds) return 'review'
  return confidence >= thresholds.block_at ? 'block' : confidence >= thresholds.review_at ? 'review' : 'allow'
}

/**
 * Turns flagged categories and a confidence into an action through the policy's per-category
 * thresholds: the model's `safe` alone decides nothing. A flag below every threshold may be
 * allowed, but is never called safe; a clean answer the judge is unsure of goes to review.
 *
 * @example
 * decide(policy, ['hate'], 0.93) // { safe: false, action: 'block', categories: ['hate'] }
 */
export function decide(policy: Policy, flagged: string[], confidence: number): Decision {
  if (flagged.length === 0) {
    if (confidence >= policy.safeMinConfidence) return { safe: true, action: 'allow', categories: [] }
    return { safe: false, action: 'review', categories: [], signals: ['low_confidence'] }
  }
  const action = flagged.reduce<Action>((worst, category) => strictestAction(worst, actionFor(policy.categories[category], confidence)), 'allow')
  return { safe: false, action, categories: flagged }
}
