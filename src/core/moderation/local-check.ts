import { matchLists, readForRules, type LocalResult } from '../local/local-rules.js'
import { nfkcBounded, type Normalized } from '../local/nfkc-bounded.js'
import type { Policy, PolicyRegistry } from './policy.js'
import type { CategoryThresholds, TextClassifier } from '../local/text-classifier.js'
import { sampleText } from '../local/text-parts.js'

export interface LocalCheck extends LocalResult {
  /** Classifier scores for the categories both it and the policy know; absent when it did not run. */
  scores?: Record<string, number>
  /** Categories the classifier scored at or above block_at: clear hits. */
  clear: string[]
  /** Categories scored at or above review_at but under block_at: suspicions. */
  suspect: string[]
  /** The classifier ran, nothing matched or was suspected, and every score is under its pass_below. */
  pass: boolean
  /** Whether the classifier is on for this policy (whether or not there was text to score). */
  classifierOn: boolean
  /**
   * The text was read in part: too long for the classifier's CPU cap (it read a sample), or
   * longer than MAX_NORMALIZED_CHARS once normalised (the lists read its start).
   */
  partial: boolean
}

const merged = new WeakMap<TextClassifier, WeakMap<Policy, Record<string, CategoryThresholds>>>()

/** Per category the policy and the classifier share: the shipped thresholds with the policy's overrides. */
export function classifierThresholds(policy: Policy, classifier: TextClassifier): Record<string, CategoryThresholds> {
  let byPolicy = merged.get(classifier)
  if (!byPolicy) merged.set(classifier, (byPolicy = new WeakMap()))
  let thresholds = byPolicy.get(policy)
  if (!thresholds) byPolicy.set(policy, (thresholds = mergeThresholds(policy, classifier)))
  return thresholds
}

function mergeThresholds(policy: Policy, classifier: TextClassifier): Record<string, CategoryThresholds> {
  const { header } = classifier
  const merged: Record<string, CategoryThresholds> = {}
  for (const category of header.categories) {
    const shipped = header.thresholds[category]
    if (policy.categories[category] && shipped) merged[category] = { ...shipped, ...policy.local.classifier.thresholds[category] }
  }
  return merged
}

/**
 * Checks, at start, that every policy's overrides leave pass_below <= review_at <= block_at:
 * otherwise a suspicion could count as a confident pass.
 */
export function checkClassifierThresholds(policies: PolicyRegistry, classifier: TextClassifier): string[] {
  const problems: string[] = []
  for (const policy of policies.list()) {
    for (const category of Object.keys(policy.local.classifier.thresholds)) {
      if (!classifier.header.thresholds[category]) {
        problems.push(`policy ${policy.name}: local.classifier_thresholds.${category}: the classifier does not score ${category} (it scores ${classifier.header.categories.join(', ')})`)
      }
    }
    for (const [category, t] of Object.entries(classifierThresholds(policy, classifier))) {
      if (!(t.pass_below <= t.review_at && t.review_at <= t.block_at)) {
        problems.push(
          `policy ${policy.name}: local.classifier_thresholds.${category}: with the shipped values this gives pass_below ${t.pass_below}, review_at ${t.review_at}, block_at ${t.block_at}; they must not decrease`,
        )
      }
    }
  }
  return problems
}

/**
 * The local pre-check: the policy's word lists and patterns, then the embedded classifier (on the
 * text without the policy's allowed phrases) with the shipped thresholds as the policy overrides them.
 *
 * @example
 * checkLocally(policy, classifier, 'you people are vermin') // { clear: ['hate'], scores: { hate: 0.97, ... }, ... }
 */
export function checkLocally(policy: Policy, classifier: TextClassifier | undefined, text: string | Normalized | undefined): LocalCheck {
  const classifierOn = classifier !== undefined && policy.local.classifier.enabled
  const nfkc = typeof text === 'string' ? nfkcBounded(text) : text
  if (!nfkc?.text) return { block: [], review: [], clear: [], suspect: [], pass: false, classifierOn, partial: false }
  // Read once: the lists and the classifier both see it without the policy's allowed phrases.
  const prepared = readForRules(policy.local, nfkc)
  const lists = matchLists(policy.local, prepared.text)
  if (!classifier || !classifierOn) return { ...lists, clear: [], suspect: [], pass: false, classifierOn, partial: !prepared.complete }

  const thresholds = classifierThresholds(policy, classifier)
  // Bounded CPU: a long text is scored on a sample, and says so.
  const sample = sampleText(prepared.text)
  const partial = sample.partial || !prepared.complete
  const raw = classifier.score(sample.text)
  const scores: Record<string, number> = {}
  const clear: string[] = []
  const suspect: string[] = []
  // Under every pass line (so no suspicion or clear hit either).
  let below = true
  for (const [category, t] of Object.entries(thresholds)) {
    const score = raw[category] ?? 0
    scores[category] = score
    if (score >= t.block_at) clear.push(category)
    else if (score >= t.review_at) suspect.push(category)
    if (score >= Math.min(t.pass_below, t.review_at)) below = false
  }
  const listed = lists.block.length > 0 || lists.review.length > 0
  // What was not read cannot pass.
  const pass = below && !listed && !partial && Object.keys(scores).length > 0
  return { ...lists, scores, clear, suspect, pass, classifierOn, partial }
}
