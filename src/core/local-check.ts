import { classifyLocally, type LocalResult } from './local-rules.js'
import type { Policy } from './policy.js'
import type { CategoryThresholds, TextClassifier } from './text-classifier.js'

export interface LocalCheck extends LocalResult {
  /** Classifier scores for the categories both it and the policy know; absent when it did not run. */
  scores?: Record<string, number>
  /** Categories the classifier scored at or above block_at: clear hits. */
  clear: string[]
  /** Categories scored at or above review_at but under block_at: suspicions. */
  suspect: string[]
  /** The classifier ran, no list matched, and every score is under its pass_below. */
  pass: boolean
}

/**
 * The local pre-check: the policy's word lists and patterns, then the embedded classifier with
 * the shipped thresholds as the policy overrides them.
 *
 * @example
 * checkLocally(policy, classifier, 'you people are vermin') // { clear: ['hate'], scores: { hate: 0.97, ... }, ... }
 */
export function checkLocally(policy: Policy, classifier: TextClassifier | undefined, text: string | undefined): LocalCheck {
  const lists = classifyLocally(policy.local, text)
  const settings = policy.local.classifier
  if (!text || !classifier || !settings.enabled) return { ...lists, clear: [], suspect: [], pass: false }

  const raw = classifier.score(text)
  const scores: Record<string, number> = {}
  const clear: string[] = []
  const suspect: string[] = []
  let pass = lists.block.length === 0 && lists.review.length === 0
  for (const [category, score] of Object.entries(raw)) {
    const shipped = classifier.header.thresholds[category]
    if (!policy.categories[category] || !shipped) continue
    const t: CategoryThresholds = { ...shipped, ...settings.thresholds[category] }
    scores[category] = score
    if (score >= t.block_at) clear.push(category)
    else if (score >= t.review_at) suspect.push(category)
    if (score >= t.pass_below) pass = false
  }
  return { ...lists, scores, clear, suspect, pass: pass && Object.keys(scores).length > 0 }
}
