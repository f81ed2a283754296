import type { ExecutionContext } from 'hono'
import { configuredLruVerdictCache } from '../cache/lru-verdict-cache.js'
import { composeApp } from '../app/compose.js'
import { ConfigError, parseConfig, unknownSettings, type Config } from '../config/config.js'
import { systemClock, type VerdictCache } from '../core/shared/ports.js'
import { createCacheApiVerdictCache, createKvVerdictCache, type HttpCache, type KvStore } from '../cache/edge-verdict-caches.js'
import { createTieredVerdictCache } from '../cache/tiered-verdict-cache.js'
import { loadPolicies } from '../core/moderation/policy.js'
import { policyFiles } from '../generated/policies.js'
import { textClassifierBase64 } from '../generated/text-classifier.js'
import { injectionModelBase64 } from '../generated/injection-detector.js'
import { loadInjectionModel, type InjectionModel } from '../core/local/injection-model.js'
import { decodeBase64 } from '../core/shared/base64.js'
import { loadTextClassifier, type TextClassifier } from '../core/local/text-classifier.js'
import { createHeaderImageProcessor } from '../images/header-image-processor.js'
import { createPhotonImageProcessor } from '../images/photon-image-processor.js'
import { createFetchWebhookTransport } from '../net/fetch-webhook-transport.js'
import { createWorkerDeliveryQueue, type JobStore, type QueueMessage, type QueueProducer } from '../core/webhooks/worker-delivery-queue.js'
import { createJsonLogger } from '../logging/json-logger.js'

interface Built {
  app: ReturnType<typeof composeApp>['app']
  deliveries?: ReturnType<typeof createWorkerDeliveryQueue>
}

export interface WorkerHandler {
  // Hono's ExecutionContext mirrors the Workers one, without global Workers types in a Node build.
  fetch(request: Request, env: Record<string, unknown>, ctx: ExecutionContext): Promise<Response>
  /** The Cloudflare Queue consumer: one signed delivery attempt per message. */
  queue(batch: { messages: readonly QueueMessage[] }, env: Record<string, unknown>, ctx: ExecutionContext): Promise<void>
}

/**
 * The Worker's fetch handler. Config is parsed from the bindings and the app built on the first
 * request, then kept for the life of the isolate ("once" on Workers means once per isolate). A
 * bad config answers every request with a 500 in the error envelope instead of crashing.
 *
 * @example
 * export default createWorkerHandler()
 */
export function createWorkerHandler(): WorkerHandler {
  let built: Promise<Built> | undefined

  async function build(env: Record<string, unknown>, hostname: string): Promise<Built> {
    try {
      return await buildApp(env, hostname)
    } catch (error) {
      // Logged once per isolate; every request then gets the 500 envelope below.
      console.error(JSON.stringify({ level: 'error', msg: 'cannot start', error: (error as Error).message }))
      throw error
    }
  }

  async function buildApp(env: Record<string, unknown>, hostname: string): Promise<Built> {
    const config = parseConfig(stringBindings(env))
    const logger = createJsonLogger({ level: config.LOG_LEVEL })
    for (const { name, closest } of unknownSettings(stringBindings(env))) {
      logger.warn(`${name} is not a setting of this service and is ignored${closest ? `: did you mean ${closest}?` : ''}`, { setting: name, closest })
    }
    // Their patterns' speed was checked when they were bundled (scripts/bundle-policies.ts).
    const policies = await loadPolicies(policyFiles, config.MODERATION_DEFAULT_POLICY)
    if (config.MODERATION_EDGE_CACHE === 'cache-api' && hostname.endsWith('.workers.dev')) {
      logger.warn('the Cache API does nothing on workers.dev: verdicts are shared across isolates only on a route of your zone, or with MODERATION_EDGE_CACHE=kv')
    }
    if (config.MODERATION_PROVIDER === 'gemini' && !config.GEMINI_API_KEY) logger.warn('GEMINI_API_KEY is unset: the local classifier answers alone (text: hate and harassment scores plus the policy word lists; images: not judged)')
    let deliveries: Built['deliveries']
    const { app } = composeApp({
      config,
      policies,
      images:
        config.MODERATION_EDGE_IMAGES === 'wasm'
          ? createPhotonImageProcessor({ maxDecodePixels: config.MODERATION_EDGE_DECODE_MAX_PIXELS })
          : createHeaderImageProcessor(),
      logger,
      classifier: bundledClassifier(config.MODERATION_LOCAL_CLASSIFIER),
      injectionModel: bundledInjectionModel(),
      // No application-default credentials at the edge: Vertex AI takes an express-mode key.
      providerOptions: { vertexCredentials: false },
      cache: verdictCache(config, env),
      // workerd forbids one request to touch another's timers or fetches.
      shareModelCalls: false,
      // Asynchronous jobs: KV for their state, a Cloudflare Queue for the delivery attempts.
      createDeliveries: (keys, onFinished, onAttempt, _judgeOrder, telemetry) => {
        const jobs = env.JOBS as JobStore | undefined
        const producer = env.DELIVERIES as QueueProducer | undefined
        if (!jobs || !producer) return undefined
        deliveries = createWorkerDeliveryQueue({
          jobs,
          producer,
          keys,
          transport: createFetchWebhookTransport(),
          clock: systemClock,
          logger,
          retryWindowMs: config.WEBHOOK_RETRY_WINDOW_SECONDS * 1000,
          onFinished,
          onAttempt,
          telemetry,
        })
        return deliveries
      },
    })
    return { app, deliveries }
  }

  return {
    async fetch(request, env, ctx) {
      built ??= build(env, new URL(request.url).hostname)
      let app: Built['app']
      try {
        app = (await built).app
      } catch (error) {
        const request_id = request.headers.get('x-request-id') ?? crypto.randomUUID()
        // The details (which setting) go to the Worker's log, not to whoever sent the request.
        const body = { error: { code: 'internal_error', message: 'service misconfigured; the Worker log names the setting', request_id } }
        return Response.json(body, { status: 500, headers: { 'x-request-id': request_id } })
      }
      return app.fetch(request, env, ctx)
    },
    async queue(batch, env) {
      built ??= build(env, 'queue')
      const { deliveries } = await built
      if (!deliveries) {
        // Without WEBHOOK_SECRET or the JOBS binding the messages cannot be sent: keep them for later.
        for (const message of batch.messages) message.retry({ delaySeconds: 60 })
        return
      }
      await deliveries.consume(batch.messages)
    },
  }
}

/** The isolate's LRU, in front of the shared level the config names. */
function verdictCache(config: Config, env: Record<string, unknown>): VerdictCache {
  const ttlSeconds = config.MODERATION_CACHE_TTL_SECONDS
  const local = configuredLruVerdictCache(config)
  // The deployed version scopes shared entries (wrangler.toml binds CF_VERSION_METADATA).
  const version = (env.CF_VERSION_METADATA as { id?: string } | undefined)?.id ?? 'unversioned'
  const options = { ttlSeconds, namespace: `moderation:${version}` }
  switch (config.MODERATION_EDGE_CACHE) {
    case 'none':
      return local
    case 'kv': {
      const kv = env.VERDICT_CACHE as KvStore | undefined
      if (!kv || typeof kv.get !== 'function') throw new ConfigError('MODERATION_EDGE_CACHE is kv but no KV namespace is bound as VERDICT_CACHE')
      return createTieredVerdictCache(local, createKvVerdictCache(kv, options))
    }
    case 'cache-api': {
      const caches = (globalThis as { caches?: { default?: HttpCache } }).caches
      if (!caches?.default) throw new ConfigError('MODERATION_EDGE_CACHE is cache-api but this runtime has no caches.default')
      return createTieredVerdictCache(local, createCacheApiVerdictCache(caches.default, options))
    }
  }
}

/** Vars and secrets as strings: a TOML number (TTL = 60) is a setting too. KV, queues and the like are not config. */
function stringBindings(env: Record<string, unknown>): Record<string, string> {
  const settings: Record<string, string> = {}
  for (const [name, value] of Object.entries(env)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') settings[name] = String(value)
  }
  return settings
}

/** The injection model bundled into the Worker (scripts/bundle-policies.ts), decoded once per isolate. */
function bundledInjectionModel(): InjectionModel {
  const bytes = decodeBase64(injectionModelBase64)
  if (!bytes) throw new ConfigError('the bundled injection model is not valid base64: rebuild')
  return loadInjectionModel(bytes)
}

/** The classifier bundled into the Worker (scripts/bundle-policies.ts), decoded once per isolate. */
function bundledClassifier(setting: string): TextClassifier | undefined {
  if (setting === 'off') return undefined
  if (setting !== 'on') throw new ConfigError('MODERATION_LOCAL_CLASSIFIER: on Workers the classifier is bundled at build time: use on or off')
  const bytes = decodeBase64(textClassifierBase64)
  if (!bytes) throw new ConfigError('the bundled text classifier is not valid base64: rebuild')
  return loadTextClassifier(bytes)
}
