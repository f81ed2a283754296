import type { Policy } from './policy.js'
import { strictestAction, type Action } from './verdict.js'

export interface Decision {
  safe: boolean
  action: Action
  /** The categories that reached at least their review threshold. */
  categories: string[]
}

/**
 * Turns flagged categories and a confidence into an action through the policy's per-category
 * thresholds: the model's `safe` alone decides nothing.
 *
 * @example
 * decide(policy, ['hate'], 0.93) // { safe: false, action: 'block', categories: ['hate'] }
 */
export function decide(policy: Policy, categories: string[], confidence: number): Decision {
  let action: Action = 'allow'
  const reached: string[] = []
  for (const category of categories) {
    const thresholds = policy.categories[category]
    if (!thresholds) continue
    const categoryAction: Action =
      confidence >= thresholds.block_at ? 'block' : confidence >= thresholds.review_at ? 'review' : 'allow'
    if (categoryAction !== 'allow') reached.push(category)
    action = strictestAction(action, categoryAction)
  }
  return { safe: action === 'allow', action, categories: reached }
}
