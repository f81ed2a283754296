/**
 * core/moderation/: The moderation pipeline: createModerator (this file) runs its steps (admission,
 * local facts, decide: the model route, then locally or by the judge, which reads the cache before
 * it calls the model; the fallback for every failure); the policy, the prompt, the model's output
 * schema and the verdicts it builds.
 *
 * May import: core/local, core/images, core/resilience, core/telemetry, core/shared. No Hono, no
 * runtime: the core is the same on Node and in workerd.
 */
import { type Context, context as otelContext, type Span, trace } from '@opentelemetry/api'
import type { InjectionModel } from '../local/injection-model.js'
import type { TextClassifier } from '../local/text-classifier.js'
import type { Admission } from '../resilience/admission.js'
import type { CallLimiter } from '../resilience/call-limiter.js'
import type { CircuitBreaker } from '../resilience/circuit-breaker.js'
import { sha256HexSync } from '../shared/hash.js'
import type { ModelClient } from '../shared/model.js'
import type { Clock, Logger, VerdictCache } from '../shared/ports.js'
import type { Verdict } from '../shared/verdict.js'
import type { Telemetry } from '../telemetry/telemetry.js'
import { createTextCacheKeys } from './cached-judgement.js'
import { busyVerdict, createFail, TIMEOUT_BEFORE_MODEL } from './fallback.js'
import { createBudgetedJudge } from './judge-within-budget.js'
import type { LocalCheck } from './local-check.js'
import { createLocalFacts, localDecides, withFacts, withLocalFindings } from './local-facts.js'
import { localVerdict } from './local-verdict.js'
import { createRouteFor, modelIdOf, type ModelRoute } from './model-route.js'
import type { ModerationRequest, RequestContext } from './moderation-request.js'
import { describeLocalScores, describeRequest, inChildSpan, recordVerdict, traced } from './moderation-spans.js'
import { LOCAL_MODEL, LOCAL_RULES_MODEL, toVerdict, type VerdictContext } from './verdicts.js'

export interface ModeratorDeps {
  /** Absent: the local classifier serves alone. */
  model?: ModelClient
  /** The embedded text classifier (models/text-classifier.bin); absent: word lists only. */
  classifier?: TextClassifier
  /** The learned injection model (models/injection-detector.bin); absent: the written patterns only. */
  injectionModel?: InjectionModel
  cache: VerdictCache
  clock: Clock
  telemetry: Telemetry
  logger: Logger
  newId?: () => string
  /**
   * Whether concurrent identical requests share one model call (default). Off on Workers: there
   * one request may not use another's I/O, and the cache shares judgements instead.
   */
  shareModelCalls?: boolean
  /** Opens when too many of the model's recent calls failed: calls are refused at once (`circuit_open`). */
  breaker?: CircuitBreaker
  /**
   * Every configured provider's client and breaker, by name, for policies that pick one
   * (`provider:`); the others use `model` and `breaker`.
   */
  providers?: Record<string, ModelRoute>
  /** Bounds concurrent model calls: no slot before the budget ends means `overloaded`. */
  limiter?: CallLimiter
  /** When set, a second call starts if the first has not answered after this long. */
  hedgeAfterMs?: number
  /** Runs pipelines a slice of CPU at a time so deadlines fire on time in a burst (Node). */
  admission?: Admission
  /** Where aborts of calls past their deadline run: after the answers (Node: a background queue). */
  abortLater?: (abort: () => void) => void
}

export interface Moderator {
  moderate(request: ModerationRequest): Promise<Verdict>
  /**
   * The verdict for a request whose budget ran out before the model could be asked (image work):
   * conservative, shaped by the local check of its text like any other fallback.
   */
  outOfTime(request: RequestContext, text?: string): Promise<Verdict>
  /**
   * The cache-hit verdict for a text, now, or undefined when answering needs anything more than
   * the in-process cache (then call `moderate`). Skips the admission queue: it costs less than
   * queueing would. `parent`, called on a hit only, gives the context its span starts in (the
   * caller's request span, made only for the requests it answers); the active one otherwise.
   */
  fromCache(request: ModerationRequest, parent?: () => Context): Verdict | undefined
}

/**
 * The moderation pipeline: local check, cache, model under the budget, validation, decision,
 * and the conservative verdict for every failure on the way. Its steps, each a function of its
 * own, in the order a request meets them:
 *
 * 1. admission (core/resilience/admission.ts, Node): a request whose budget ends before its turn
 *    gets the fallback at once (`busy`), shaped by what is already known of its text;
 * 2. local facts (local-facts.ts): the lists, the classifier and the injection detector;
 * 3. decide (`decideVerdict` below): the model route (model-route.ts) picks the policy's model, if
 *    any; with none, or when the local checks settle it alone, the verdict is local; otherwise
 * 4. the judge (judge-within-budget.ts) reads the cache (cached-judgement.ts) and, on a miss,
 *    makes one model call under the budget (shared, limited, hedged) and caches its judgement;
 * 5. the fallback (fallback.ts): the conservative verdict for every failure on the way, logged;
 * 6. what the local checks add (local-facts.ts: `withLocalFindings`, `withFacts`) to whichever
 *    verdict came back.
 *
 * @example
 * const moderate = createModerator({ model, cache, clock: systemClock, telemetry, logger })
 * const verdict = await moderate({ item: { text: 'hi', images: [] }, policy, budgetMs: 800, startedAt: clock.now(), requestId })
 */
export function createModerator(deps: ModeratorDeps): Moderator {
  const { model, classifier, injectionModel, cache, clock, telemetry, logger, newId = () => crypto.randomUUID(), shareModelCalls = true, breaker, providers, limiter, hedgeAfterMs, admission, abortLater } = deps
  const localFacts = createLocalFacts(classifier, injectionModel)
  const routeFor = createRouteFor({ model, breaker, providers })
  const textCacheKey = createTextCacheKeys()
  const fail = createFail(logger)
  const judgeByModel = createBudgetedJudge({ cache, clock, telemetry, logger, shareModelCalls, abortLater, limiter, hedgeAfterMs, fail })
  const verdictContext =
    ({ policy, budgetMs, startedAt }: RequestContext) =>
    (): VerdictContext => ({ id: newId(), policy, budgetMs, latencyMs: clock.now() - startedAt })

  /** `late`: the budget ran out preparing the item's images (they are not in it); the model is not asked. */
  async function run(request: ModerationRequest, span: Span, late = false): Promise<Verdict> {
    if (admission) {
      const entered = admission.enter(request.startedAt + request.budgetMs)
      if (entered !== true && !(await entered)) return busy(request)
    }
    // Explicit parent: workerd has no async context manager by default.
    const facts = inChildSpan(telemetry, trace.setSpan(otelContext.active(), span), 'moderation.local_check', (child) => {
      const found = localFacts.of(request.policy, request.item.text, request.item.textSha256)
      describeLocalScores(child, found.local)
      return found
    })
    const decided = await decideVerdict(request, span, late, facts.local)
    if (facts.injected) span.setAttribute('moderation.prompt_injection', true)
    return withFacts(decided, facts)
  }

  /**
   * Step 5: locally when no model serves the policy or the local checks settle it alone;
   * otherwise by the judge (cache, then model), or the fallback when images spent the budget.
   */
  async function decideVerdict(request: ModerationRequest, span: Span, late: boolean, local: LocalCheck): Promise<Verdict> {
    const { item, policy } = request
    const context = verdictContext(request)
    const hasImages = late || item.images.length > 0
    const route = routeFor(policy)
    if (!route || localDecides(policy, local, hasImages)) return localVerdict(policy, local, hasImages, context())
    const verdict = late
      ? fail(request, { kind: 'failed', ...TIMEOUT_BEFORE_MODEL }, modelIdOf(policy, route), context)
      : await judgeByModel(route, request, span, context)
    return withLocalFindings(verdict, request, local)
  }

  /** The budget ran out before the request's turn (a burst): the fallback, with what is known of the text. */
  function busy(request: ModerationRequest): Verdict {
    const { policy, item } = request
    const route = routeFor(policy)
    const modelId = route ? modelIdOf(policy, route) : classifier && policy.local.classifier.enabled ? LOCAL_MODEL : LOCAL_RULES_MODEL
    const known = item.text ? localFacts.known(policy, item.textSha256) : undefined
    return busyVerdict(fail, request, known, modelId, verdictContext(request))
  }

  /**
   * The verdict for a text the in-process cache already holds a judgement of, without awaiting
   * anything: Node answers repeated content before the rest of the pipeline (and its queue) with
   * it. The same verdict the whole pipeline gives on a cache hit; undefined whenever that pipeline
   * would do more than read the cache (images, no model for the policy, the local checks deciding
   * alone, a miss, a runtime without a synchronous hash or an in-process cache level).
   */
  function fromCache(request: ModerationRequest, parentOf?: () => Context): Verdict | undefined {
    const { item, policy } = request
    const route = routeFor(policy)
    if (!route || item.images.length > 0 || item.text === undefined || !cache.getLocal) return undefined
    // Past its budget the pipeline answers the timeout (or, queued, overloaded) verdict instead.
    if (clock.now() >= request.startedAt + request.budgetMs) return undefined
    const textSha256 = item.textSha256 ?? sha256HexSync(item.text)
    if (textSha256 === undefined) return undefined
    const key = textCacheKey(route.client, policy, textSha256)
    const cached = key === undefined ? undefined : cache.getLocal(key)
    if (!cached) return undefined
    const facts = localFacts.of(policy, item.text, textSha256)
    if (localDecides(policy, facts.local, false)) return undefined
    const verdict = withFacts(withLocalFindings(toVerdict(cached, 'cache', verdictContext(request)()), request, facts.local), facts)
    // The spans the pipeline makes on a cache hit, with the same attributes. Children of a span
    // that records nothing (no tracer, or not sampled) are never seen: not made (they cost an
    // eighth of this path).
    const span = telemetry.tracer.startSpan('moderation', {}, parentOf ? parentOf() : otelContext.active())
    describeRequest(span, request)
    span.setAttribute('moderation.image_count', 0)
    if (span.isRecording()) {
      const parent = trace.setSpan(otelContext.active(), span)
      inChildSpan(telemetry, parent, 'moderation.local_check', (child) => describeLocalScores(child, facts.local))
      inChildSpan(telemetry, parent, 'moderation.cache', (child) => child.setAttribute('moderation.cache_hit', true))
    }
    if (facts.injected) span.setAttribute('moderation.prompt_injection', true)
    recordVerdict(telemetry, span, verdict)
    span.end()
    return verdict
  }

  return {
    moderate: (request) =>
      traced(telemetry, request, (span) => {
        span.setAttribute('moderation.image_count', request.item.images.length)
        return run(request, span)
      }),
    outOfTime: (request, text) => traced(telemetry, request, (span) => run({ ...request, item: { text, images: [] } }, span, true)),
    fromCache,
  }
}
