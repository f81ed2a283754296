import { Hono } from 'hono'
import { requestId } from 'hono/request-id'
import { secureHeaders } from 'hono/secure-headers'
import type { DeliveryQueue } from '../core/webhooks/delivery-queue.js'
import type { WebhookKeys } from '../core/webhooks/webhook-signature.js'
import type { ImageFetcher, ImageProcessor } from '../core/images/image-types.js'
import type { Moderator } from '../core/moderation/moderate.js'
import type { Policy, PolicyRegistry } from '../core/moderation/policy.js'
import type { Clock, Logger } from '../core/shared/ports.js'
import { accessLog } from '../http/access-log.js'
import { traceRequests } from '../http/trace-requests.js'
import type { Telemetry } from '../core/telemetry/telemetry.js'
import type { AppEnv } from '../http/app-env.js'
import { bearerAuth, trustsTraceparent, type TraceparentTrust } from '../http/auth.js'
import type { ReplayGuard } from '../http/replay-guard.js'
import { createErrorHandler, notFound } from '../http/errors.js'
import { createInFlightPlaces, shareByClient, shedLoad, type ClientPlaces, type InFlightPlaces } from '../http/load-shed.js'
import { docsRoutes } from '../openapi/docs-routes.js'
import { healthRoutes, type Readiness, type StoreStatus } from '../routes/health.js'
import type { Limits } from '../http/judge-item.js'
import { moderateRoutes } from '../routes/moderate.js'
import { openAiModerationRoutes } from '../routes/openai-moderations.js'
import { perspectiveRoutes } from '../routes/perspective.js'
import { perspectiveDiscoveryRoutes } from '../routes/perspective-discovery.js'
import { playgroundRoutes } from '../routes/playground.js'
import { policyRoutes } from '../routes/policies.js'
import type { TextClassifier } from '../core/local/text-classifier.js'

export interface AppDeps {
  policies: PolicyRegistry
  moderator: Moderator
  images: ImageProcessor
  imageFetcher?: ImageFetcher
  /** Asynchronous moderation (callback_url); absent without WEBHOOK_SECRET. */
  deliveries?: DeliveryQueue
  /** WEBHOOK_SECRET's keys: requests may be signed with them instead of carrying a bearer key. */
  webhookKeys?: Promise<WebhookKeys>
  /** Ids of signed requests already used (default: this process's own memory). */
  replays?: ReplayGuard
  asyncUnavailable?: string
  callbackAllowedHosts: string[]
  logger: Logger
  clock: Clock
  /** When a request reached the process, from its runtime env (Node: estimated from the event loop); `clock.now()` otherwise. */
  arrivedAt?: (env: unknown) => number
  limits: Limits
  /** Bearer keys for /v1/*; empty means no authentication. */
  apiKeys: string[]
  /** MODERATION_TRUST_TRACEPARENT: whose incoming trace context request spans continue; `authenticated` by default. */
  trustTraceparent?: TraceparentTrust
  readiness: Readiness
  /** The model circuit's state, for /readyz. */
  circuit: () => string
  /** Where shared state lives, for /readyz (Node). */
  store?: () => StoreStatus
  /** Requests in flight beyond which /v1 answers 503. */
  maxInFlight: number
  /** The count of requests in flight, when another door (Node's cache-hit path) shares it. */
  inFlight?: InFlightPlaces
  /** Each client's share of them (MODERATION_MAX_IN_FLIGHT_PER_CLIENT), shared with Node's cache-hit path; none when absent. */
  clientPlaces?: ClientPlaces
  /** "gemini" or "local": what answers when the model is asked. */
  mode: string
  /** Which provider and model judge a policy's content ('local' and the local model when none). */
  judgeOf: (policy: Policy) => { provider: string; model: string }
  /** The embedded text classifier, for what /v1/policies says about it. */
  classifier?: TextClassifier
  /** Request spans (a child of the caller's traceparent) and the HTTP duration metric by status. */
  telemetry?: Telemetry
  /** MODERATION_PUBLIC_URL: the service's URL as its clients reach it (the discovery document's rootUrl). */
  publicUrl?: string
}

/** Hono's secure headers, as every answer carries them (Node's cache-hit path sets the same). */
export const SECURE_HEADERS = { crossOriginResourcePolicy: 'same-origin' } as const

/**
 * The whole HTTP service, built from its dependencies. Nothing here knows the runtime.
 *
 * @example
 * const app = createApp(deps)
 * const res = await app.request('/v1/moderate', { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } })
 */
export function createApp(deps: AppDeps) {
  const app = new Hono<AppEnv>()
  app.use(requestId({ headerName: 'X-Request-Id' }))
  app.use(accessLog({ logger: deps.logger, clock: deps.clock, arrivedAt: deps.arrivedAt }))
  if (deps.telemetry) app.use(traceRequests({ telemetry: deps.telemetry, clock: deps.clock, trustParent: trustsTraceparent(deps.trustTraceparent ?? 'authenticated', deps.apiKeys) }))
  app.use(secureHeaders(SECURE_HEADERS))
  app.onError(createErrorHandler({ logger: deps.logger }))
  app.notFound(notFound)

  app.route('/', docsRoutes())
  app.route('/', playgroundRoutes())
  app.route('/', perspectiveDiscoveryRoutes({ publicUrl: deps.publicUrl }))
  app.route('/', healthRoutes({ readiness: deps.readiness, mode: deps.mode, policyCount: deps.policies.list().length, circuit: deps.circuit, store: deps.store }))
  const shed = shedLoad({ places: deps.inFlight ?? createInFlightPlaces(deps.maxInFlight) })
  app.use('/v1/*', shed)
  app.use('/v1alpha1/*', shed)
  // A quarter of the places at most for signed bodies not yet verified: forged signatures cannot fill the house.
  const signed = deps.webhookKeys ? { keys: deps.webhookKeys, maxBodyBytes: deps.limits.maxBodyBytes, replays: deps.replays, maxUnverified: Math.max(1, Math.floor(deps.maxInFlight / 4)) } : undefined
  app.use('/v1/*', bearerAuth({ keys: deps.apiKeys, signed }))
  if (deps.clientPlaces) app.use('/v1/*', shareByClient({ places: deps.clientPlaces }))
  app.route('/v1', moderateRoutes(deps))
  app.route('/v1', openAiModerationRoutes(deps))
  app.route('/v1alpha1', perspectiveRoutes(deps))
  app.route('/v1', policyRoutes(deps))
  return app
}

export type App = ReturnType<typeof createApp>
