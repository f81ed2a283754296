import { composeApp } from '../../src/app/compose.js'
import type { Provider, ProviderOptions } from '../../src/model/providers.js'
import { readTextClassifier } from '../../src/entry/read-text-classifier.js'
import { readInjectionModel } from '../../src/entry/read-injection-model.js'
import { parseConfig } from '../../src/config/config.js'
import type { ImageProcessor } from '../../src/core/images/image-types.js'
import { loadPolicies, type PolicyRegistry } from '../../src/core/moderation/policy.js'
import type { Clock, VerdictCache } from '../../src/core/shared/ports.js'
import { readPolicyFiles } from '../../src/entry/read-policy-files.js'
import { createNodeImageFetcher } from '../../src/images/node-image-fetcher.js'
import { createDecodePool } from '../../src/images/decode-pool.js'
import { createSharpImageProcessor, decodePoolOptions } from '../../src/images/sharp-image-processor.js'
import { createNodeWebhookTransport } from '../../src/net/node-webhook-transport.js'
import { createKeepAliveFetch } from '../../src/net/keep-alive-fetch.js'
import { createJsonLogger } from '../../src/logging/json-logger.js'
import type { Readiness, StoreStatus } from '../../src/routes/health.js'
import type { ReplayGuard } from '../../src/http/replay-guard.js'
import type { TelemetryOptions } from '../../src/core/telemetry/telemetry.js'
import type { FakeGemini } from './fake-gemini.js'

const keepAliveFetch = createKeepAliveFetch()

let shipped: Promise<PolicyRegistry> | undefined
/** The policies in policies/, compiled once per test file. */
export const shippedPolicies = () => (shipped ??= readPolicyFiles('policies').then((files) => loadPolicies(files, 'default')))
let roomy: Promise<PolicyRegistry> | undefined
/**
 * The shipped policies with the default one's budget raised to 10 s, for tests about what happens
 * rather than about time on a busy CPU: a request's budget_ms is capped by its policy's (800 ms
 * for default).
 */
export const roomyPolicies = () =>
  (roomy ??= readPolicyFiles('policies').then((files) => loadPolicies({ ...files, 'default.yaml': files['default.yaml']!.replace(/^budget_ms: \d+$/m, 'budget_ms: 10000') }, 'default')))

export interface TestServiceOptions {
  gemini?: FakeGemini
  env?: Record<string, string>
  /** Which provider reaches the fake (it speaks every wire); the Gemini API unless set. */
  provider?: Provider
  providerOptions?: Partial<ProviderOptions>
  telemetry?: TelemetryOptions
  clock?: Clock
  cache?: VerdictCache
  policies?: PolicyRegistry
  readiness?: Readiness
  /** What /readyz says of the store (Node: memory or Redis). */
  store?: () => StoreStatus
  /** The signed-request replay guard (default: the process's own). */
  replays?: ReplayGuard
  images?: ImageProcessor
  /** As the Node entry runs: pipelines admitted a slice of CPU at a time (setImmediate). */
  admission?: boolean
  /** As the Node entry runs: budgets count from the event loop's estimate of arrival. */
  arrivedAt?: (env: unknown) => number
}

export type LogLine = { level: string; msg: string } & Record<string, unknown>

/**
 * The service as the Node entry builds it (same composition root), pointed at a fake Gemini,
 * with logs captured as parsed JSON lines.
 */
export async function buildService({ gemini, provider = 'gemini', env = {}, telemetry, clock, cache, policies, readiness, images, providerOptions, admission, arrivedAt, store, replays }: TestServiceOptions = {}) {
  const config = parseConfig({ ...(gemini ? providerEnv(provider, gemini.url) : {}), ...env })
  const logs: LogLine[] = []
  const logger = createJsonLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line) as LogLine) })
  const composed = composeApp({
    config,
    policies: policies ?? (await shippedPolicies()),
    images: images ?? createSharpImageProcessor({ pool: createDecodePool(decodePoolOptions(config)) }),
    classifier: readTextClassifier(config.MODERATION_LOCAL_CLASSIFIER),
    injectionModel: readInjectionModel(),
    // The Node entry's transport: the SDK over keep-alive node:http, not undici's fetch.
    providerOptions: { fetch: keepAliveFetch, ...providerOptions },
    createImageFetcher: (allowedHosts) => createNodeImageFetcher({ allowedHosts }),
    createWebhookTransport: (allowedHosts) => createNodeWebhookTransport({ allowedHosts }),
    logger,
    telemetry,
    clock,
    cache,
    readiness,
    nextTurn: admission ? setImmediate : undefined,
    arrivedAt,
    store,
    replays,
  })
  const { app, deliveries, moderator, inFlight, clientPlaces } = composed
  const moderate = async (body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    app.request('/v1/moderate', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    })
  return { app, deliveries, config, logs, moderate, moderator, inFlight, clientPlaces, logger, telemetry: composed.telemetry }
}

/** The settings that point `provider` at the fake model server at `url`. */
export function providerEnv(provider: Provider, url: string): Record<string, string> {
  switch (provider) {
    case 'gemini':
      return { GEMINI_API_KEY: 'test-key-not-secret', GEMINI_BASE_URL: url }
    case 'vertex':
      return { MODERATION_PROVIDER: 'vertex', VERTEX_API_KEY: 'test-vertex-key', VERTEX_BASE_URL: url }
    case 'openai-compatible':
      return { MODERATION_PROVIDER: 'openai-compatible', OPENAI_COMPATIBLE_BASE_URL: `${url}/v1beta/openai`, OPENAI_COMPATIBLE_API_KEY: 'test-openai-key' }
    case 'runware':
      return { MODERATION_PROVIDER: 'runware', RUNWARE_API_KEY: 'test-runware-key', RUNWARE_BASE_URL: `${url}/v1` }
  }
}
