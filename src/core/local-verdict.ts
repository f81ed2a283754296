import { decide } from './decide.js'
import type { LocalResult } from './local-rules.js'
import type { Policy } from './policy.js'
import { strictestAction, type Action, type Judgement, type Verdict } from './verdict.js'
import { LOCAL_MODEL, toVerdict, type VerdictContext } from './verdicts.js'

// Word lists are precise on what they list and blind to the rest: a clear hit is near certain,
// a pattern hit is a suspicion, a clean pass says little.
const BLOCK_LIST_CONFIDENCE = 0.95
const REVIEW_LIST_CONFIDENCE = 0.6
const CLEAN_PASS_CONFIDENCE = 0.5

/**
 * The verdict of the local classifier alone: for a clear block-list hit, and for every request
 * when no model is configured. Images it cannot judge get the policy's failure action.
 */
export function localVerdict(policy: Policy, local: LocalResult, hasImages: boolean, ctx: VerdictContext): Verdict {
  const signals: string[] = []
  let judgement: Judgement
  if (local.block.length > 0) {
    signals.push('local_block_list')
    judgement = { safe: false, action: 'block', categories: local.block, confidence: BLOCK_LIST_CONFIDENCE, model: LOCAL_MODEL }
  } else if (local.review.length > 0) {
    signals.push('local_review_list')
    judgement = { safe: false, action: 'review', categories: local.review, confidence: REVIEW_LIST_CONFIDENCE, model: LOCAL_MODEL }
  } else {
    // The same rule as for the model: a clean pass counts as safe only if sure enough for the policy.
    const { signals: clean = [], ...decision } = decide(policy, [], CLEAN_PASS_CONFIDENCE)
    signals.push(...clean)
    judgement = { ...decision, confidence: CLEAN_PASS_CONFIDENCE, model: LOCAL_MODEL }
  }
  if (hasImages && judgement.action !== 'block') {
    // There is no local image model: images are not judged, and the verdict says so.
    const action: Action = strictestAction(judgement.action, policy.onFailure)
    signals.push('image_not_judged')
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
