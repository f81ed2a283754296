/**
 * app/: The service put together: compose.ts (this file) builds the parts from settings and
 * adapters; app.ts mounts middleware and routes on Hono.
 *
 * May import: every folder below it; nothing of a runtime (entry/ passes adapters in).
 */
import { createApp } from './app.js'
import { createClientPlaces, createInFlightPlaces } from '../http/load-shed.js'
import type { ReplayGuard } from '../http/replay-guard.js'
import { configuredLruVerdictCache } from '../cache/lru-verdict-cache.js'
import { ConfigError, webhookMaxPendingPerClient, type Config } from '../config/config.js'
import type { ImageFetcher, ImageProcessor } from '../core/images/image-types.js'
import { createDeliveryQueue, type DeliveryQueue, type KeptOrder } from '../core/webhooks/delivery-queue.js'
import type { AttemptResult, Job, WebhookTransport } from '../core/webhooks/delivery-job.js'
import { createAdmission } from '../core/resilience/admission.js'
import { createBackgroundQueue } from '../core/resilience/background-queue.js'
import { createCallLimiter } from '../core/resilience/call-limiter.js'
import { createCircuitBreaker } from '../core/resilience/circuit-breaker.js'
import { checkClassifierThresholds } from '../core/moderation/local-check.js'
import { createModerator } from '../core/moderation/moderate.js'
import type { ModelRoute } from '../core/moderation/model-route.js'
import type { TextClassifier } from '../core/local/text-classifier.js'
import type { InjectionModel } from '../core/local/injection-model.js'
import { LOCAL_MODEL, LOCAL_RULES_MODEL } from '../core/moderation/verdicts.js'
import { importWebhookSecrets, type WebhookKeys } from '../core/webhooks/webhook-signature.js'
import type { PolicyRegistry } from '../core/moderation/policy.js'
import type { Verdict } from '../core/shared/verdict.js'
import { judgeOrder } from '../http/judging-order.js'
import { systemClock, type Clock, type Logger, type VerdictCache } from '../core/shared/ports.js'
import { createModelClients, type ProviderOptions } from '../model/providers.js'
import { alwaysReady, type Readiness, type StoreStatus } from '../routes/health.js'
import { createTelemetry, type Telemetry, type TelemetryOptions } from '../core/telemetry/telemetry.js'

export interface ComposeOptions {
  config: Config
  policies: PolicyRegistry
  images: ImageProcessor
  logger: Logger
  /** The embedded text classifier, loaded by the entry (absent: word lists only). */
  classifier?: TextClassifier
  /** The learned prompt-injection model, loaded by the entry (absent: written patterns only). */
  injectionModel?: InjectionModel
  /** What the runtime allows model providers (Workers: no application-default credentials). */
  providerOptions?: Partial<ProviderOptions>
  clock?: Clock
  telemetry?: TelemetryOptions
  readiness?: Readiness
  cache?: VerdictCache
  /** Share one model call among concurrent identical requests (not on Workers). */
  shareModelCalls?: boolean
  /** The runtime's URL fetcher, used when MODERATION_FETCH_IMAGE_URLS is on. */
  createImageFetcher?: (allowedHosts: string[]) => ImageFetcher
  /** The runtime's webhook transport, used when WEBHOOK_SECRET is set. */
  createWebhookTransport?: (allowedHosts: string[]) => WebhookTransport
  /** Told of every finished delivery (the Node entry's shutdown report, metrics). */
  onDeliveryFinished?: (job: Job) => void
  /**
   * A runtime's own job queue (Workers: Cloudflare Queue + KV; Node: Redis), instead of the
   * in-process one. `judgeOrder` judges a job from the order a submission left (Submission.order);
   * `telemetry` gives each delivery attempt its span.
   */
  createDeliveries?: (
    keys: Promise<WebhookKeys>,
    onFinished: (job: Job) => void,
    onAttempt: (result: AttemptResult) => void,
    judgeOrder: (order: KeptOrder) => () => Promise<Verdict>,
    telemetry: Telemetry,
  ) => DeliveryQueue | undefined
  /**
   * Runs a callback on the event loop's next turn (Node: setImmediate): pipelines are then
   * admitted a slice of CPU at a time (see core/resilience/admission.ts). Absent on Workers, where each
   * request has its own CPU limit.
   */
  nextTurn?: (callback: () => void) => void
  /** Where shared state lives, for /readyz (Node: memory or Redis). */
  store?: () => StoreStatus
  /** Ids of signed requests already used, when shared beyond the process (Node: Redis). */
  replays?: ReplayGuard
  /** When the request reached the process, estimated from the event loop (Node): budgets count from it. */
  arrivedAt?: (env: unknown) => number
}

/**
 * The composition root: every long-lived object (Gemini client, LRU, compiled policies) is made
 * here once and handed to the app. Entries differ only in what they pass in.
 *
 * @example
 * const { app, deliveries } = composeApp({ config, policies, images: createSharpImageProcessor(), logger })
 */
export function composeApp({
  config,
  policies,
  images,
  logger,
  classifier,
  injectionModel,
  providerOptions,
  clock = systemClock,
  telemetry: telemetryOptions,
  readiness = alwaysReady,
  shareModelCalls = true,
  createImageFetcher,
  createWebhookTransport,
  onDeliveryFinished,
  createDeliveries,
  nextTurn,
  arrivedAt,
  store,
  replays,
  cache = configuredLruVerdictCache(config, clock),
}: ComposeOptions) {
  const thresholdProblems = classifier ? checkClassifierThresholds(policies, classifier) : []
  if (thresholdProblems.length > 0) throw new ConfigError(thresholdProblems.join('\n'))
  const { defaultProvider, clients } = createModelClients(config, { vertexCredentials: true, ...providerOptions })
  const unconfigured = policies.list().filter((policy) => policy.provider && !clients[policy.provider])
  if (unconfigured.length > 0) {
    throw new ConfigError(unconfigured.map((policy) => `policy ${policy.name} uses provider ${policy.provider}, whose settings are missing`).join('\n'))
  }
  // A policy's model id is its provider's: Runware's and the gateways' ids differ from Google's.
  for (const policy of policies.list()) {
    const provider = policy.provider ?? defaultProvider
    if (policy.model && (provider === 'runware' || provider === 'openai-compatible')) {
      logger.warn('a policy names a model for a provider with its own model ids: check it is one of them', {
        policy: policy.name,
        model: policy.model,
        provider,
        example: provider === 'runware' ? 'google:gemini@3-flash' : 'google/gemini-3-flash-preview (OpenRouter), gemini-3-flash-preview (Google)',
      })
    }
  }
  if (config.MODERATION_BREAKER_FAILURES !== undefined) {
    logger.warn('MODERATION_BREAKER_FAILURES is no longer read: the circuit opens on a failure rate; set MODERATION_BREAKER_MIN_CALLS and MODERATION_BREAKER_FAILURE_RATE instead')
  }
  const telemetry = createTelemetry(telemetryOptions)
  // One breaker per provider: one failing API does not pause the others.
  const providers: Record<string, ModelRoute> = {}
  for (const [provider, client] of Object.entries(clients)) {
    const breaker = createCircuitBreaker({
      clock,
      failureRate: config.MODERATION_BREAKER_FAILURE_RATE,
      minCalls: config.MODERATION_BREAKER_MIN_CALLS,
      windowMs: config.MODERATION_BREAKER_WINDOW_MS,
      cooldownMs: config.MODERATION_BREAKER_COOLDOWN_MS,
      onChange: (state) => {
        telemetry.recordCircuit(state, provider)
        const log = state === 'open' ? logger.error : logger.info
        log('circuit breaker', { state, provider })
      },
    })
    providers[provider] = { client, breaker }
  }
  const route = defaultProvider ? providers[defaultProvider] : undefined
  const anyModel = Object.keys(providers).length > 0
  const limiter = anyModel ? createCallLimiter({ maxConcurrent: config.MODERATION_MAX_MODEL_CALLS }) : undefined
  const moderator = createModerator({
    model: route?.client,
    breaker: route?.breaker,
    providers,
    classifier,
    injectionModel,
    cache,
    clock,
    telemetry,
    logger,
    shareModelCalls,
    limiter,
    hedgeAfterMs: config.MODERATION_HEDGE_AFTER_MS,
    admission: nextTurn ? createAdmission({ clock, defer: nextTurn }) : undefined,
    abortLater: nextTurn ? createBackgroundQueue({ clock, defer: nextTurn }) : undefined,
  })
  if (config.MODERATION_FETCH_IMAGE_URLS && !createImageFetcher) throw new ConfigError('MODERATION_FETCH_IMAGE_URLS is not supported on this runtime')
  const imageFetcher = config.MODERATION_FETCH_IMAGE_URLS ? createImageFetcher?.(config.MODERATION_FETCH_ALLOWED_HOSTS) : undefined
  const webhookKeys = config.WEBHOOK_SECRET.length > 0 ? importWebhookSecrets(config.WEBHOOK_SECRET) : undefined
  if (webhookKeys && config.MODERATION_API_KEYS.length > 0 && config.WEBHOOK_INBOUND_SECRET.length === 0) {
    logger.warn('signed requests are verified with WEBHOOK_SECRET: whoever can verify deliveries can also call the API; set WEBHOOK_INBOUND_SECRET to separate them')
  }
  const deliveryAttempted = (result: AttemptResult) => telemetry.recordDeliveryAttempt(result.kind)
  const deliveryFinished = (job: Job) => {
    telemetry.recordDelivery(job.status)
    onDeliveryFinished?.(job)
  }
  function inProcessDeliveries(keys: Promise<WebhookKeys>, transport: WebhookTransport) {
    return createDeliveryQueue({
      clock,
      logger,
      keys,
      transport,
      maxPending: config.WEBHOOK_MAX_PENDING,
      maxPendingPerOwner: webhookMaxPendingPerClient(config),
      maxJudging: config.WEBHOOK_MAX_JUDGING,
      retryWindowMs: config.WEBHOOK_RETRY_WINDOW_SECONDS * 1000,
      onFinished: deliveryFinished,
      onAttempt: deliveryAttempted,
      telemetry,
    })
  }
  // A recovered order is held to the limits a request is.
  const orderLimits = { maxBudgetMs: config.MODERATION_MAX_BUDGET_MS, maxTextChars: config.MODERATION_MAX_TEXT_CHARS, maxImages: config.MODERATION_MAX_IMAGES }
  // Deliveries are always signed: no secret, no asynchronous moderation.
  let deliveries: DeliveryQueue | undefined
  if (webhookKeys && createDeliveries) deliveries = createDeliveries(webhookKeys, deliveryFinished, deliveryAttempted, (order) => judgeOrder({ policies, moderator, clock, limits: orderLimits }, order), telemetry)
  else if (webhookKeys && createWebhookTransport) deliveries = inProcessDeliveries(webhookKeys, createWebhookTransport(config.WEBHOOK_ALLOWED_HOSTS))
  if (deliveries) telemetry.observePendingDeliveries(() => deliveries!.pending())
  // One count of requests in flight for every door in (Node answers cache hits before the app).
  const inFlight = createInFlightPlaces(config.MODERATION_MAX_IN_FLIGHT)
  const clientPlaces = config.MODERATION_MAX_IN_FLIGHT_PER_CLIENT === undefined ? undefined : createClientPlaces(config.MODERATION_MAX_IN_FLIGHT_PER_CLIENT)
  const app = createApp({
    policies,
    imageFetcher,
    deliveries,
    webhookKeys: config.WEBHOOK_INBOUND_SECRET.length > 0 ? importWebhookSecrets(config.WEBHOOK_INBOUND_SECRET) : webhookKeys,
    asyncUnavailable:
      config.WEBHOOK_SECRET.length === 0
        ? 'WEBHOOK_SECRET is not set on the service, and deliveries are always signed'
        : 'this deployment has no delivery queue (on Workers: bind the JOBS KV namespace and the DELIVERIES queue)',
    callbackAllowedHosts: config.WEBHOOK_ALLOWED_HOSTS,
    moderator,
    images,
    logger,
    clock,
    arrivedAt,
    readiness,
    circuit: () => route?.breaker?.state() ?? 'none',
    store,
    replays,
    maxInFlight: config.MODERATION_MAX_IN_FLIGHT,
    inFlight,
    clientPlaces,
    apiKeys: config.MODERATION_API_KEYS,
    trustTraceparent: config.MODERATION_TRUST_TRACEPARENT,
    publicUrl: config.MODERATION_PUBLIC_URL,
    mode: defaultProvider ?? 'local',
    judgeOf: (policy) => {
      const provider = policy.provider ?? defaultProvider
      const client = provider ? providers[provider]?.client : undefined
      if (client && provider) return { provider, model: policy.model ?? client.defaultModel }
      return { provider: 'local', model: classifier && policy.local.classifier.enabled ? LOCAL_MODEL : LOCAL_RULES_MODEL }
    },
    classifier,
    telemetry,
    limits: {
      maxBodyBytes: config.MODERATION_MAX_BODY_BYTES,
      maxBudgetMs: config.MODERATION_MAX_BUDGET_MS,
      maxTextChars: config.MODERATION_MAX_TEXT_CHARS,
      maxImages: config.MODERATION_MAX_IMAGES,
      maxImageBytes: config.MODERATION_MAX_IMAGE_BYTES,
      maxImagePixels: config.MODERATION_MAX_IMAGE_PIXELS,
      imageMaxSide: config.MODERATION_IMAGE_MAX_SIDE,
      maxBatchItems: config.MODERATION_MAX_BATCH_ITEMS,
    },
  })
  return { app, deliveries, moderator, inFlight, clientPlaces, telemetry }
}
