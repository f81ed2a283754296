import { context as otelContext, type Span, trace } from '@opentelemetry/api'
import { createCallBlame } from '../resilience/call-blame.js'
import type { CallLimiter } from '../resilience/call-limiter.js'
import { beforeDeadline } from '../resilience/deadline.js'
import { hedged } from '../resilience/hedge.js'
import { createSharedCalls, createUnsharedCalls } from '../resilience/shared-calls.js'
import type { ModelClient, ModelOutcome } from '../shared/model.js'
import type { Verdict } from '../shared/verdict.js'
import { cacheKeyOf, readCachedJudgement, writeJudgement, type CacheStepDeps } from './cached-judgement.js'
import { OVERLOADED, TIMEOUT, TIMEOUT_BEFORE_MODEL, type Fail } from './fallback.js'
import { judgeWithModel } from './judge-with-model.js'
import { modelIdOf, type ModelRoute } from './model-route.js'
import type { ModerationRequest } from './moderation-request.js'
import { toVerdict, type VerdictContext } from './verdicts.js'

export interface BudgetedJudgeDeps extends CacheStepDeps {
  /** Whether concurrent identical requests share one model call. */
  shareModelCalls: boolean
  /** Where aborts of calls past their deadline run. */
  abortLater?: (abort: () => void) => void
  limiter?: CallLimiter
  hedgeAfterMs?: number
  fail: Fail
}

export type BudgetedJudge = (route: ModelRoute, request: ModerationRequest, span: Span, context: () => VerdictContext) => Promise<Verdict>

/**
 * Step 4, the judge: the cache first, then one model call under the request's budget, unless the
 * budget cannot cover one or the breaker is open. Concurrent identical requests share the call;
 * it waits for a model-call slot, may be hedged, and is blamed on the model only when the model
 * was at fault. The verdict is the model's, the cache's, or the fallback's.
 */
export function createBudgetedJudge(deps: BudgetedJudgeDeps): BudgetedJudge {
  const { clock, telemetry, shareModelCalls, abortLater, limiter, hedgeAfterMs, fail, logger } = deps
  // Concurrent identical requests share one model call (keyed like the cache).
  const sharedCalls = shareModelCalls ? createSharedCalls<ModelOutcome>(clock, { abortLater }) : createUnsharedCalls<ModelOutcome>(clock, { abortLater })
  // Whether each call in flight is still queued for a model-call slot.
  const callPhases = new WeakMap<Promise<ModelOutcome>, { waitingForSlot: boolean }>()
  const callTimes = createCallTimes()
  // Which failed calls were the model's fault, for the breakers.
  const blame = createCallBlame({ clock })

  return async function judgeByModel(route, request, span, context) {
    const { client, breaker } = route
    // Explicit parent: workerd has no async context manager by default.
    const parent = trace.setSpan(otelContext.active(), span)
    const { item, policy } = request
    const deadline = request.startedAt + request.budgetMs

    const modelId = modelIdOf(policy, route)
    const key = await cacheKeyOf(request, client, modelId)
    const cached = await readCachedJudgement(deps, key, { requestId: request.requestId, deadline, parent })
    if (cached) return toVerdict(cached, 'cache', context())
    // Reading the body and preparing images may have spent the budget: then no call is started,
    // nor one that could not finish (less time left than the model's fastest recent answer).
    const fastest = callTimes.fastest(client)
    if (deadline - clock.now() <= fastest) {
      const detail = fastest > 0 ? `less than the fastest recent model call (${Math.round(fastest)} ms) left of the budget` : TIMEOUT_BEFORE_MODEL.detail
      return fail(request, { kind: 'failed', reason: 'timeout', detail }, modelId, context)
    }

    if (breaker && !breaker.allow()) {
      return fail(request, { kind: 'failed', reason: 'circuit_open', detail: 'the model failed repeatedly; calls are paused' }, modelId, context)
    }
    const call = sharedCalls.join(key, deadline, (signal, callDeadline) => {
      const phase = { waitingForSlot: limiter !== undefined }
      const started = callModel(signal, callDeadline, phase)
      callPhases.set(started, phase)
      return started
    })
    // A caller whose budget ends while its (shared) call still waits for a slot was overloaded,
    // even though the call may go on for a caller with more budget.
    const phase = callPhases.get(call)
    const outcome = await withinBudget(call, deadline, () => (phase?.waitingForSlot ? OVERLOADED : TIMEOUT))
    if (outcome.kind === 'judged') return toVerdict(outcome.judgement, 'model', context())
    return fail(request, outcome, modelId, context)

    async function callModel(signal: AbortSignal, callDeadline: () => number, phase: { waitingForSlot: boolean }): Promise<ModelOutcome> {
      const slot = limiter ? await limiter.acquire(signal) : undefined
      phase.waitingForSlot = false
      // A slot that frees up too late to finish a call is passed on, not spent.
      if (slot === 'overloaded' || (slot && callDeadline() - clock.now() <= callTimes.fastest(client))) {
        if (slot !== 'overloaded') slot?.()
        breaker?.cancel()
        return OVERLOADED
      }
      // Timed from here: the wait for a slot is not the model's time.
      const began = clock.now()
      const timing = blame.start(signal)
      const attempt = (attemptSignal: AbortSignal) =>
        judgeWithModel(client, telemetry, clock, parent, { policy, model: modelId, text: item.text, images: item.images, signal: attemptSignal })
      let outcome: ModelOutcome
      try {
        outcome = hedgeAfterMs
          ? await hedged(attempt, signal, callDeadline(), { afterMs: hedgeAfterMs, clock, trySlot: limiter ? () => limiter.tryAcquire() : undefined })
          : await attempt(signal)
      } catch (error) {
        // A throw is a bug in an adapter; it still counts for the breaker, or a probe would never finish.
        outcome = { kind: 'failed', reason: 'upstream_error', detail: String(error) }
      } finally {
        slot?.()
      }
      if (outcome.kind === 'judged') callTimes.record(client, clock.now() - began)
      breaker?.record(timing.outcomeOf(outcome))
      // Only model judgements are cached; a fallback never is.
      if (outcome.kind === 'judged') writeJudgement(deps, key, outcome.judgement, request)
      return outcome
    }
  }

  async function withinBudget(call: Promise<ModelOutcome>, deadline: number, late: () => ModelOutcome): Promise<ModelOutcome> {
    const guarded = call.catch((error: unknown): ModelOutcome => {
      // A throw here is a bug in an adapter, still answered conservatively.
      logger.error('model call threw', { error: String(error) })
      return { kind: 'failed', reason: 'upstream_error', detail: String(error) }
    })
    const outcome = await beforeDeadline(guarded, deadline, clock, undefined)
    return outcome ?? late()
  }
}

/** The fastest of each model's last 16 judged calls (once it has 4): a call with less time left cannot finish. */
function createCallTimes() {
  const recent = new Map<ModelClient, number[]>()
  return {
    record(client: ModelClient, ms: number) {
      const times = recent.get(client) ?? []
      times.push(ms)
      if (times.length > 16) times.shift()
      recent.set(client, times)
    },
    // A few calls first: the very first (a cold connection) says little about the next.
    fastest: (client: ModelClient) => {
      const times = recent.get(client)
      return times && times.length >= 4 ? Math.min(...times) : 0
    },
  }
}
