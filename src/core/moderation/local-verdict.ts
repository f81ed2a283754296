import { decide } from './decide.js'
import type { LocalCheck } from './local-check.js'
import type { Policy } from './policy.js'
import { strictestAction, type Action, type Judgement, type Verdict } from '../shared/verdict.js'
import { LOCAL_MODEL, LOCAL_RULES_MODEL, toVerdict, type VerdictContext } from './verdicts.js'

// Word lists are precise on what they list and blind to the rest: a clear hit is near certain,
// a pattern hit is a suspicion, a clean pass says little. Classifier hits carry their score.
const BLOCK_LIST_CONFIDENCE = 0.95
const REVIEW_LIST_CONFIDENCE = 0.6
const CLEAN_PASS_CONFIDENCE = 0.5

/** The signal of a verdict whose text the local checks read only in part (CPU cap). */
export const PARTLY_SCANNED = 'text_partly_scanned'

const highest = (scores: Record<string, number> | undefined, categories: string[]) =>
  Math.max(0, ...categories.map((category) => scores?.[category] ?? 0))

/**
 * The verdict of the local check alone: for a hit the policy lets it decide, a confident pass the
 * policy lets skip the model, and every request when no model is configured. Images it cannot
 * judge get the policy's failure action.
 */
export function localVerdict(policy: Policy, local: LocalCheck, hasImages: boolean, ctx: VerdictContext): Verdict {
  const signals: string[] = []
  const model = local.classifierOn ? LOCAL_MODEL : LOCAL_RULES_MODEL
  let judgement: Judgement
  if (local.block.length > 0 || local.clear.length > 0) {
    if (local.block.length > 0) signals.push('local_block_list')
    if (local.clear.length > 0) signals.push('local_classifier')
    const confidence = local.block.length > 0 ? BLOCK_LIST_CONFIDENCE : highest(local.scores, local.clear)
    judgement = { safe: false, action: 'block', categories: [...new Set([...local.block, ...local.clear])], confidence, model }
  } else if (local.review.length > 0 || local.suspect.length > 0) {
    if (local.review.length > 0) signals.push('local_review_list')
    if (local.suspect.length > 0) signals.push('local_classifier')
    const confidence = Math.max(local.review.length > 0 ? REVIEW_LIST_CONFIDENCE : 0, highest(local.scores, local.suspect))
    judgement = { safe: false, action: 'review', categories: [...new Set([...local.review, ...local.suspect])], confidence, model }
  } else {
    // A confident pass the policy trusts is as sure as the classifier's scores say; any other
    // clean pass says little. The same rule as for the model decides whether it is safe.
    const trusted = local.pass && policy.local.classifier.skipModelWhenClean
    const confidence = trusted ? Math.round((1 - highest(local.scores, Object.keys(local.scores ?? {}))) * 1000) / 1000 : CLEAN_PASS_CONFIDENCE
    const { signals: clean = [], ...decision } = decide(policy, [], confidence)
    signals.push(...clean, ...(trusted ? ['local_pass'] : []))
    judgement = { ...decision, confidence, model }
  }
  // There is no local image model, and text past the CPU cap went unread: what was not judged
  // is never safe, and the verdict says so.
  const unjudged = [...(hasImages ? ['image_not_judged'] : []), ...(local.partial ? [PARTLY_SCANNED] : [])]
  if (unjudged.length > 0 && judgement.action !== 'block') {
    const action: Action = strictestAction(judgement.action, policy.onFailure)
    signals.push(...unjudged)
    judgement = { ...judgement, safe: false, action, confidence: 0 }
  }
  return toVerdict({ ...judgement, signals }, 'local', ctx)
}

/**
 * A local block-list hit the policy still sent to the model: whatever the model (or the fallback)
 * says, the hit stands. Nothing turns it into allow.
 */
export function withLocalBlock(verdict: Verdict, blocked: string[]): Verdict {
  return {
    ...verdict,
    safe: false,
    action: 'block',
    categories: [...new Set([...verdict.categories, ...blocked])],
    signals: [...new Set([...(verdict.signals ?? []), 'local_block_list'])],
  }
}

/**
 * The conservative verdict of a failed model call, shaped by what the local check found: a clear
 * hit blocks, a suspicion names its categories and is at least review. Without a hit it is
 * unchanged: nothing here makes a failure `allow`.
 */
export function withLocalEvidence(verdict: Verdict, local: LocalCheck): Verdict {
  const clear = [...local.block, ...local.clear]
  const suspect = [...local.review, ...local.suspect]
  if (clear.length === 0 && suspect.length === 0) return verdict
  const signals = [
    ...(local.block.length > 0 ? ['local_block_list'] : []),
    ...(local.review.length > 0 ? ['local_review_list'] : []),
    ...(local.clear.length > 0 || local.suspect.length > 0 ? ['local_classifier'] : []),
  ]
  return {
    ...verdict,
    safe: false,
    action: strictestAction(verdict.action, clear.length > 0 ? 'block' : 'review'),
    categories: [...new Set([...verdict.categories, ...clear, ...suspect])],
    signals: [...new Set([...(verdict.signals ?? []), ...signals])],
  }
}
