import { LRUCache } from 'lru-cache'
import { detectPromptInjection } from '../local/injection-detector.js'
import type { InjectionModel } from '../local/injection-model.js'
import { nfkcBounded } from '../local/nfkc-bounded.js'
import type { TextClassifier } from '../local/text-classifier.js'
import type { Verdict } from '../shared/verdict.js'
import { checkLocally, type LocalCheck } from './local-check.js'
import { PARTLY_SCANNED, withLocalBlock, withLocalEvidence } from './local-verdict.js'
import type { ModerationRequest } from './moderation-request.js'
import type { Policy } from './policy.js'
import { withInjectionFloor, withUnjudgedFrames } from './verdicts.js'

/** The local checks' findings on one text: shared between requests, so never changed. */
export interface LocalFacts {
  readonly local: LocalCheck
  readonly injected: boolean
}

export interface LocalFactsStep {
  /** The lists, the classifier and the injection detector on a text, each run once per text and policy version. */
  of(policy: Policy, text: string | undefined, textSha256: string | undefined): LocalFacts
  /** What the checks already found in this text, without running them. */
  known(policy: Policy, textSha256: string | undefined): LocalFacts | undefined
}

/**
 * Step 1, local facts: what the local checks find in a text under a policy version, remembered
 * for repeated content (the cache-hit path).
 */
export function createLocalFacts(classifier: TextClassifier | undefined, injectionModel: InjectionModel | undefined): LocalFactsStep {
  const remembered = new LRUCache<string, LocalFacts>({ max: 10_000 })
  const compute = (policy: Policy, text: string | undefined): LocalFacts => {
    // Normalised once, for the lists, the classifier and the injection detector.
    const nfkc = text === undefined ? undefined : nfkcBounded(text)
    return { local: checkLocally(policy, classifier, nfkc), injected: detectPromptInjection(nfkc, injectionModel) }
  }
  return {
    of(policy, text, textSha256) {
      if (!text || !textSha256) return compute(policy, text)
      const key = `${policy.version}:${textSha256}`
      let facts = remembered.get(key)
      if (!facts) {
        facts = compute(policy, text)
        remembered.set(key, facts)
      }
      return facts
    },
    known: (policy, textSha256) => (textSha256 ? remembered.get(`${policy.version}:${textSha256}`) : undefined),
  }
}

/** Whether the local checks settle the verdict alone, with a model configured for the policy. */
export function localDecides(policy: Policy, local: LocalCheck, hasImages: boolean): boolean {
  const { classifier: settings } = policy.local
  return (
    (local.block.length > 0 && policy.local.blockWithoutModel) ||
    (local.clear.length > 0 && settings.blockWithoutModel) ||
    (local.pass && settings.skipModelWhenClean && !hasImages)
  )
}

/** What the local checks add to a verdict from the model, the cache or a fallback. */
export function withLocalFindings(decided: Verdict, { policy, item }: Pick<ModerationRequest, 'policy' | 'item'>, local: LocalCheck): Verdict {
  let verdict = decided
  if (verdict.source === 'fallback' && policy.local.classifier.enrichFallback) verdict = withLocalEvidence(verdict, local)
  verdict = withUnjudgedFrames(verdict, policy, item.images)
  return local.block.length > 0 ? withLocalBlock(verdict, local.block) : verdict
}

/** What every verdict on text carries from the local checks, whichever path decided it. */
export function withFacts(decided: Verdict, facts: LocalFacts): Verdict {
  let verdict = facts.local.scores ? { ...decided, local_scores: facts.local.scores } : decided
  // The model reads the whole text; the local scores and lists read part of it, and say so.
  if (facts.local.partial) verdict = { ...verdict, signals: [...new Set([...(verdict.signals ?? []), PARTLY_SCANNED])] }
  // Content that addresses the moderator is never allowed on the model's word alone.
  return facts.injected ? withInjectionFloor(verdict) : verdict
}
