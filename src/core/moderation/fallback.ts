import type { ModelOutcome } from '../shared/model.js'
import type { Logger } from '../shared/ports.js'
import type { Verdict } from '../shared/verdict.js'
import { withFacts, type LocalFacts } from './local-facts.js'
import { withLocalBlock, withLocalEvidence } from './local-verdict.js'
import type { ModerationRequest, RequestContext } from './moderation-request.js'
import { conservativeVerdict, type VerdictContext } from './verdicts.js'

export type Failure = Extract<ModelOutcome, { kind: 'failed' }>

export const TIMEOUT: Failure = { kind: 'failed', reason: 'timeout', detail: 'latency budget exhausted' }
export const OVERLOADED: Failure = { kind: 'failed', reason: 'overloaded', detail: 'no model-call slot free before the budget ran out' }
export const TIMEOUT_BEFORE_MODEL = { reason: 'timeout', detail: 'budget spent before the model call' } as const
const BUSY: Failure = { kind: 'failed', reason: 'overloaded', detail: 'the service was busy: the budget ran out before this request could start' }

export type Fail = (request: RequestContext, failure: Failure, modelId: string, context: () => VerdictContext) => Verdict

/** Step 6, the fallback: every failure on the way is logged (never the content) and answered conservatively. */
export function createFail(logger: Logger): Fail {
  return (request, failure, modelId, context) => {
    logger.warn('model failed; conservative verdict', {
      request_id: request.requestId,
      reason: failure.reason,
      detail: failure.detail,
      policy: request.policy.name,
      model: modelId,
    })
    return conservativeVerdict(failure.reason, modelId, context())
  }
}

/**
 * The budget ran out before the request's turn (a burst): the conservative verdict, shaped by
 * what the local checks already know of this text (`known`), and saying so when they never ran.
 */
export function busyVerdict(fail: Fail, request: ModerationRequest, known: LocalFacts | undefined, modelId: string, context: () => VerdictContext): Verdict {
  const { policy, item } = request
  let verdict = fail(request, BUSY, modelId, context)
  if (!item.text) return verdict
  if (!known) return { ...verdict, signals: [...(verdict.signals ?? []), 'local_checks_not_run'] }
  if (policy.local.classifier.enrichFallback) verdict = withLocalEvidence(verdict, known.local)
  if (known.local.block.length > 0) verdict = withLocalBlock(verdict, known.local.block)
  return withFacts(verdict, known)
}
