/**
 * core/moderation/: The moderation pipeline: createModerator (this file) runs its steps (local
 * facts, cache, model route, judge, decide, fallback); the policy, the prompt, the model's output
 * schema, the judge and the verdicts it builds.
 *
 * May import: core/local, core/images, core/resilience, core/telemetry, core/shared. No Hono, no
 * runtime: the core is the same on Node and in workerd.
 */
import { LRUCache } from 'lru-cache'
import { type Context, context as otelContext, type Span, SpanStatusCode, trace } from '@opentelemetry/api'
import type { Telemetry } from '../telemetry/telemetry.js'
import { verdictCacheKey, verdictCacheKeySync } from './cache-key.js'
import { hedged } from '../resilience/hedge.js'
import { detectPromptInjection } from '../local/injection-detector.js'
import type { Admission } from '../resilience/admission.js'
import { createCallBlame } from '../resilience/call-blame.js'
import type { CallLimiter } from '../resilience/call-limiter.js'
import type { CircuitBreaker } from '../resilience/circuit-breaker.js'
import { beforeDeadline } from '../resilience/deadline.js'
import { sha256Hex, sha256HexSync } from '../shared/hash.js'
import { judgeWithModel } from './judge-with-model.js'
import { checkLocally, type LocalCheck } from './local-check.js'
import { nfkcBounded } from '../local/nfkc-bounded.js'
import { localVerdict, PARTLY_SCANNED, withLocalBlock, withLocalEvidence } from './local-verdict.js'
import type { ModerationImage } from '../images/image-types.js'
import type { ModelClient, ModelOutcome } from '../shared/model.js'
import type { Policy } from './policy.js'
import type { Clock, Logger, VerdictCache } from '../shared/ports.js'
import { createSharedCalls, createUnsharedCalls } from '../resilience/shared-calls.js'
import type { TextClassifier } from '../local/text-classifier.js'
import type { InjectionModel } from '../local/injection-model.js'
import type { Verdict } from '../shared/verdict.js'
import { conservativeVerdict, LOCAL_MODEL, LOCAL_RULES_MODEL, toVerdict, withInjectionFloor, withUnjudgedFrames, type VerdictContext } from './verdicts.js'

export interface ModerationItem {
  text?: string
  /** SHA-256 of the text when the caller already has it (it logs it); computed otherwise. */
  textSha256?: string
  images: ModerationImage[]
}

export interface ModerationRequest {
  item: ModerationItem
  policy: Policy
  budgetMs: number
  /** Clock time the request arrived; the budget counts from here. */
  startedAt: number
  requestId: string
  /**
   * The request span's context: the moderation span is its child. Explicit, as workerd has no
   * async context manager by default; the active context when absent.
   */
  trace?: Context
  /** Keeps work alive after the response (Workers' ctx.waitUntil); absent on Node, where it lives anyway. */
  waitUntil?: (promise: Promise<unknown>) => void
}

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

/** One way to reach a model: its client, and the breaker that stops calling it when it fails. */
export interface ModelRoute {
  client: ModelClient
  breaker?: CircuitBreaker
}

/** The local checks' findings on one text: shared between requests, so never changed. */
interface LocalFacts {
  readonly local: LocalCheck
  readonly injected: boolean
}

/** What every request carries besides its content. */
export type RequestContext = Omit<ModerationRequest, 'item'>

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

const TIMEOUT: ModelOutcome = { kind: 'failed', reason: 'timeout', detail: 'latency budget exhausted' }
const OVERLOADED: ModelOutcome = { kind: 'failed', reason: 'overloaded', detail: 'no model-call slot free before the budget ran out' }
const TIMEOUT_BEFORE_MODEL = { reason: 'timeout', detail: 'budget spent before the model call' } as const

/**
 * The moderation pipeline: local check, cache, model under the budget, validation, decision,
 * and the conservative verdict for every failure on the way.
 *
 * @example
 * const moderate = createModerator({ model, cache, clock: systemClock, telemetry, logger })
 * const verdict = await moderate({ item: { text: 'hi', images: [] }, policy, budgetMs: 800, startedAt: clock.now(), requestId })
 */
export function createModerator(deps: ModeratorDeps): Moderator {
  const { model, classifier, injectionModel, cache, clock, telemetry, logger, newId = () => crypto.randomUUID(), shareModelCalls = true, breaker, providers = {}, limiter, hedgeAfterMs, admission, abortLater } = deps
  const defaultRoute: ModelRoute | undefined = model ? { client: model, breaker } : undefined
  // A policy's own provider (checked at start to be configured), or the default.
  const routeFor = (policy: Policy): ModelRoute | undefined => (policy.provider ? providers[policy.provider] : defaultRoute)
  // Concurrent identical requests share one model call (keyed like the cache).
  const sharedCalls = shareModelCalls ? createSharedCalls<ModelOutcome>(clock, { abortLater }) : createUnsharedCalls<ModelOutcome>(clock, { abortLater })
  // Whether each call in flight is still queued for a model-call slot.
  const callPhases = new WeakMap<Promise<ModelOutcome>, { waitingForSlot: boolean }>()
  const callTimes = createCallTimes()
  // What the local checks found in a text under a policy version, for repeated content (the
  // cache-hit path): the lists, the classifier and the injection detector run once per text.
  const localFacts = new LRUCache<string, LocalFacts>({ max: 10_000 })
  // Which failed calls were the model's fault, for the breakers.
  const blame = createCallBlame({ clock })

  function localFactsFor(policy: Policy, text: string | undefined, textSha256: string | undefined): LocalFacts {
    const compute = (): LocalFacts => {
      // Normalised once, for the lists, the classifier and the injection detector.
      const nfkc = text === undefined ? undefined : nfkcBounded(text)
      return { local: checkLocally(policy, classifier, nfkc), injected: detectPromptInjection(nfkc, injectionModel) }
    }
    if (!text || !textSha256) return compute()
    const key = `${policy.version}:${textSha256}`
    let facts = localFacts.get(key)
    if (!facts) {
      facts = compute()
      localFacts.set(key, facts)
    }
    return facts
  }

  // The verdict cache key of a text alone under a policy, remembered: hashing it again cost a
  // tenth of the fast cache-hit path.
  const textCacheKeys = new LRUCache<string, string>({ max: 10_000 })
  function textCacheKey(client: ModelClient, policy: Policy, textSha256: string): string | undefined {
    const model = policy.model ?? client.defaultModel
    const memo = `${client.system}:${model}:${policy.version}:${textSha256}`
    let key = textCacheKeys.get(memo)
    if (key === undefined) {
      key = verdictCacheKeySync({ textSha256, imageSha256: [], policyVersion: policy.version, system: client.system, model })
      if (key !== undefined) textCacheKeys.set(memo, key)
    }
    return key
  }

  /** `late`: the budget ran out preparing the item's images (they are not in it); the model is not asked. */
  async function run(request: ModerationRequest, span: Span, late = false): Promise<Verdict> {
    if (admission) {
      const entered = admission.enter(request.startedAt + request.budgetMs)
      if (entered !== true && !(await entered)) return busy(request)
    }
    // Explicit parent: workerd has no async context manager by default.
    const facts = inChildSpan(telemetry, trace.setSpan(otelContext.active(), span), 'moderation.local_check', (child) => {
      const found = localFactsFor(request.policy, request.item.text, request.item.textSha256)
      describeLocalScores(child, found.local)
      return found
    })
    const decided = await decideVerdict(request, span, late, facts.local)
    if (facts.injected) span.setAttribute('moderation.prompt_injection', true)
    return withFacts(decided, facts)
  }

  /** What every verdict on text carries from the local checks, whichever path decided it. */
  function withFacts(decided: Verdict, facts: LocalFacts): Verdict {
    let verdict = facts.local.scores ? { ...decided, local_scores: facts.local.scores } : decided
    // The model reads the whole text; the local scores and lists read part of it, and say so.
    if (facts.local.partial) verdict = { ...verdict, signals: [...new Set([...(verdict.signals ?? []), PARTLY_SCANNED])] }
    // Content that addresses the moderator is never allowed on the model's word alone.
    return facts.injected ? withInjectionFloor(verdict) : verdict
  }

  /**
   * The budget ran out before the request's turn (a burst): the conservative verdict, shaped by
   * what the local checks already know of this text, and saying so when they never ran.
   */
  function busy(request: ModerationRequest): Verdict {
    const { policy, item } = request
    const known = item.text && item.textSha256 ? localFacts.get(`${policy.version}:${item.textSha256}`) : undefined
    const route = routeFor(policy)
    const modelId = route ? (policy.model ?? route.client.defaultModel) : classifier && policy.local.classifier.enabled ? LOCAL_MODEL : LOCAL_RULES_MODEL
    const failure = { kind: 'failed', reason: 'overloaded', detail: 'the service was busy: the budget ran out before this request could start' } as const
    let verdict = fail(request, failure, modelId, verdictContext(request))
    if (!item.text) return verdict
    if (!known) return { ...verdict, signals: [...(verdict.signals ?? []), 'local_checks_not_run'] }
    if (policy.local.classifier.enrichFallback) verdict = withLocalEvidence(verdict, known.local)
    if (known.local.block.length > 0) verdict = withLocalBlock(verdict, known.local.block)
    return withFacts(verdict, known)
  }

  async function decideVerdict(request: ModerationRequest, span: Span, late: boolean, local: LocalCheck): Promise<Verdict> {
    const { item, policy } = request
    const context = verdictContext(request)
    const hasImages = late || item.images.length > 0
    const route = routeFor(policy)
    if (!route || localDecides(policy, local, hasImages)) return localVerdict(policy, local, hasImages, context())
    const verdict = late
      ? fail(request, { kind: 'failed', ...TIMEOUT_BEFORE_MODEL }, policy.model ?? route.client.defaultModel, context)
      : await judgeByModel(route, request, span, context)
    return withLocalFindings(verdict, request, local)
  }

  const verdictContext =
    ({ policy, budgetMs, startedAt }: RequestContext) =>
    (): VerdictContext => ({ id: newId(), policy, budgetMs, latencyMs: clock.now() - startedAt })

  /** Whether the local checks settle the verdict alone, with a model configured for the policy. */
  function localDecides(policy: Policy, local: LocalCheck, hasImages: boolean): boolean {
    const { classifier: settings } = policy.local
    return (
      (local.block.length > 0 && policy.local.blockWithoutModel) ||
      (local.clear.length > 0 && settings.blockWithoutModel) ||
      (local.pass && settings.skipModelWhenClean && !hasImages)
    )
  }

  /** What the local checks add to a verdict from the model, the cache or a fallback. */
  function withLocalFindings(decided: Verdict, { policy, item }: ModerationRequest, local: LocalCheck): Verdict {
    let verdict = decided
    if (verdict.source === 'fallback' && policy.local.classifier.enrichFallback) verdict = withLocalEvidence(verdict, local)
    verdict = withUnjudgedFrames(verdict, policy, item.images)
    return local.block.length > 0 ? withLocalBlock(verdict, local.block) : verdict
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
    const facts = localFactsFor(policy, item.text, textSha256)
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
    recordVerdict(span, verdict)
    span.end()
    return verdict
  }

  async function judgeByModel(
    { client, breaker }: ModelRoute,
    request: ModerationRequest,
    span: Span,
    context: () => VerdictContext,
  ): Promise<Verdict> {
    // Explicit parent: workerd has no async context manager by default.
    const parent = trace.setSpan(otelContext.active(), span)
    const { item, policy } = request
    const deadline = request.startedAt + request.budgetMs

    const modelId = policy.model ?? client.defaultModel
    const key = await verdictCacheKey({
      // Never key on a missing digest: two different texts would share a verdict.
      textSha256: item.text === undefined ? undefined : (item.textSha256 ?? (await sha256Hex(item.text))),
      imageSha256: item.images.map((image) => image.sha256),
      policyVersion: policy.version,
      system: client.system,
      model: modelId,
    })
    const cached = await inChildSpanAsync(telemetry, parent, 'moderation.cache', async (cacheSpan) => {
      // A cache that fails is a miss: the model still judges.
      const read = cache.get(key).catch((error: unknown) => {
        logger.warn('verdict cache read failed', { request_id: request.requestId, error: String(error) })
        return undefined
      })
      // A shared cache that hangs must not hold the verdict past the budget.
      const hit = await beforeDeadline(read, deadline, clock, undefined)
      cacheSpan.setAttribute('moderation.cache_hit', hit !== undefined)
      return hit
    })
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
      // Only model judgements are cached; a fallback never is. The write is not awaited: the
      // verdict does not wait for the cache.
      if (outcome.kind === 'judged') {
        const write = cache.set(key, outcome.judgement).catch((error: unknown) => logger.warn('verdict cache write failed', { error: String(error) }))
        request.waitUntil?.(write)
      }
      return outcome
    }
  }

  function fail(
    request: RequestContext,
    failure: Extract<ModelOutcome, { kind: 'failed' }>,
    modelId: string,
    context: () => VerdictContext,
  ): Verdict {
    logger.warn('model failed; conservative verdict', {
      request_id: request.requestId,
      reason: failure.reason,
      detail: failure.detail,
      policy: request.policy.name,
      model: modelId,
    })
    return conservativeVerdict(failure.reason, modelId, context())
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

  /** Every verdict goes through here: one span, the metrics, the same attributes. */
  function traced(request: RequestContext, work: (span: Span) => Promise<Verdict>): Promise<Verdict> {
    return telemetry.tracer.startActiveSpan('moderation', {}, request.trace ?? otelContext.active(), async (span) => {
      describeRequest(span, request)
      try {
        return recordVerdict(span, await work(span))
      } catch (error) {
        span.recordException(error as Error)
        span.setStatus({ code: SpanStatusCode.ERROR })
        throw error
      } finally {
        span.end()
      }
    })
  }

  function describeLocalScores(span: Span, local: LocalCheck) {
    for (const [category, score] of Object.entries(local.scores ?? {})) span.setAttribute(`moderation.local_score.${category}`, score)
  }

  function describeRequest(span: Span, request: RequestContext) {
    span.setAttributes({
      'moderation.policy': request.policy.name,
      'moderation.policy_version': request.policy.version,
      'moderation.budget_ms': request.budgetMs,
      request_id: request.requestId,
    })
  }

  function recordVerdict(span: Span, verdict: Verdict): Verdict {
    span.setAttributes({
      'moderation.action': verdict.action,
      'moderation.source': verdict.source,
      'moderation.latency_ms': verdict.latency_ms,
    })
    if (verdict.fallback_reason) span.setAttribute('moderation.fallback_reason', verdict.fallback_reason)
    telemetry.recordVerdict(verdict)
    return verdict
  }

  return {
    moderate: (request) =>
      traced(request, (span) => {
        span.setAttribute('moderation.image_count', request.item.images.length)
        return run(request, span)
      }),
    outOfTime: (request, text) => traced(request, (span) => run({ ...request, item: { text, images: [] } }, span, true)),
    fromCache,
  }
}
function inChildSpan<T>(telemetry: Telemetry, parent: Context, name: string, work: (span: Span) => T): T {
  const span = telemetry.tracer.startSpan(name, {}, parent)
  try {
    return work(span)
  } finally {
    span.end()
  }
}

async function inChildSpanAsync<T>(
  telemetry: Telemetry,
  parent: Context,
  name: string,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const span = telemetry.tracer.startSpan(name, {}, parent)
  try {
    return await work(span)
  } finally {
    span.end()
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
