import cluster from 'node:cluster'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { composeApp } from '../app/compose.js'
import { parseConfig, unknownSettings, webhookMaxPendingPerClient, type Config } from '../config/config.js'
import { configuredLruVerdictCache } from '../cache/lru-verdict-cache.js'
import type { WebhookKeys } from '../core/webhooks/webhook-signature.js'
import { createRedisDeliveryQueue, type RedisDeliveryQueue, type RedisDeliveryQueueOptions } from '../webhooks/redis-delivery-queue.js'
import { createRedisVerdictCache } from '../cache/redis-verdict-cache.js'
import { createTieredVerdictCache } from '../cache/tiered-verdict-cache.js'
import { connectRedis, redactedUrl } from '../net/redis-connection.js'
import { REPLAY_WINDOW_MS } from '../http/auth.js'
import { createInProcessReplayGuard, createRedisReplayGuard } from '../http/replay-guard.js'
import { useSyncSha256 } from '../core/shared/hash.js'
import { loadPolicies, PolicyError } from '../core/moderation/policy.js'
import { findSlowPatterns } from './check-pattern-speed.js'
import { readPolicyFiles } from './read-policy-files.js'
import { readTextClassifier } from './read-text-classifier.js'
import { readInjectionModel } from './read-injection-model.js'
import { createNodeImageFetcher } from '../images/node-image-fetcher.js'
import { createDecodePool } from '../images/decode-pool.js'
import { createSharpImageProcessor, decodePoolOptions } from '../images/sharp-image-processor.js'
import { createNodeWebhookTransport } from '../net/node-webhook-transport.js'
import { createJsonLogger } from '../logging/json-logger.js'
import { systemClock, type Logger } from '../core/shared/ports.js'
import { watchEventLoop } from './event-loop-clock.js'
import { warmUp } from './warm-up.js'
import { arrivalOf } from './cache-hit-fast-path.js'
import { createNodeListener } from './node-listener.js'
import { createKeepAliveFetch } from '../net/keep-alive-fetch.js'

/**
 * Builds the Node service from an environment: config, policies from disk, sharp, JSON logs.
 * Throws with a readable message on bad config or policies.
 */
export async function compose(env: Record<string, string | undefined>) {
  useSyncSha256((data) => createHash('sha256').update(data).digest('hex'))
  const config = parseConfig(env)
  // In a cluster each line says which worker wrote it.
  const logger = createJsonLogger({ level: config.LOG_LEVEL, base: cluster.isWorker ? { pid: process.pid } : undefined })
  const dir = resolve(config.MODERATION_POLICIES_DIR)
  const policies = await loadPolicies(await readPolicyFiles(dir), config.MODERATION_DEFAULT_POLICY)
  const slow = await findSlowPatterns(policies)
  if (slow.length > 0) throw new PolicyError(slow.join('\n'))
  const classifier = readTextClassifier(config.MODERATION_LOCAL_CLASSIFIER)
  const injectionModel = readInjectionModel()
  for (const { name, closest } of unknownSettings(env)) {
    logger.warn(`${name} is not a setting of this service and is ignored${closest ? `: did you mean ${closest}?` : ''}`, { setting: name, closest })
  }
  if (config.MODERATION_API_KEYS.length === 0) logger.warn('MODERATION_API_KEYS is unset: the API accepts requests without authentication')
  if (config.MODERATION_PROVIDER === 'gemini' && !config.GEMINI_API_KEY) logger.warn('GEMINI_API_KEY is unset: the local classifier answers alone (text: hate and harassment scores plus the policy word lists; images: not judged)')
  let draining = false
  const loop = watchEventLoop({ clock: systemClock })
  // One pool for the process: every request's decodes share libuv's threads.
  const images = createSharpImageProcessor({ pool: createDecodePool(decodePoolOptions(config, Number(env.UV_THREADPOOL_SIZE) || undefined)) })
  // One keep-alive transport for every model call of the process (node:http, not undici's fetch).
  const fetch = createKeepAliveFetch()
  const { redis, cache, store, replays } = sharedState(config, logger)
  let redisDeliveries: RedisDeliveryQueue | undefined
  const composed = composeApp({
    config,
    policies,
    images,
    providerOptions: { fetch },
    classifier,
    injectionModel,
    createImageFetcher: (allowedHosts) => createNodeImageFetcher({ allowedHosts }),
    createWebhookTransport: (allowedHosts) => createNodeWebhookTransport({ allowedHosts }),
    logger,
    readiness: { notReadyReason: () => (draining ? 'shutting down' : undefined) },
    nextTurn: setImmediate,
    arrivedAt: arrivalOf(loop.arrivedAt),
    cache,
    store,
    replays,
    // With Redis, jobs and their deliveries live there (durable, readable from any replica).
    createDeliveries: config.REDIS_URL
      ? (keys, onFinished, onAttempt, judgeOrder, telemetry) => (redisDeliveries = redisDeliveryQueue(config, config.REDIS_URL!, keys, { onFinished, onAttempt, judgeOrder, telemetry }, logger))
      : undefined,
  })
  logger.info('policies loaded', { dir, policies: policies.list().map((p) => ({ name: p.name, version: p.version })) })
  const warmed = await warmUp({ policies, images, classifier, injectionModel, requests: config.MODERATION_WARMUP_REQUESTS, nextTurn: setImmediate, fetch })
  if (warmed.requests > 0) logger.info('warmed up', warmed)
  // Repeated texts are answered before Hono when the cache holds their verdict; all else goes on.
  const listener = await createNodeListener({ composed, policies, config, logger, arrivedAt: loop.arrivedAt })
  const { app, deliveries } = composed
  // Closed at shutdown, after the requests in flight: the connections, then Redis's.
  const close = async () => {
    await redisDeliveries?.close()
    await redis?.close()
  }
  return { app, listener, deliveries, config, logger, close, setDraining: () => (draining = true) }
}

function redisDeliveryQueue(config: Config, url: string, keys: Promise<WebhookKeys>, hooks: Pick<RedisDeliveryQueueOptions, 'onFinished' | 'onAttempt' | 'judgeOrder' | 'telemetry'>, logger: Logger) {
  return createRedisDeliveryQueue({
    url,
    prefix: config.MODERATION_REDIS_PREFIX,
    keys,
    transport: createNodeWebhookTransport({ allowedHosts: config.WEBHOOK_ALLOWED_HOSTS }),
    clock: systemClock,
    logger,
    retryWindowMs: config.WEBHOOK_RETRY_WINDOW_SECONDS * 1000,
    maxPending: config.WEBHOOK_MAX_PENDING,
    maxPendingPerOwner: webhookMaxPendingPerClient(config),
    maxJudging: config.WEBHOOK_MAX_JUDGING,
    leaseMs: config.WEBHOOK_LEASE_MS,
    ...hooks,
  })
}

/**
 * Where state shared between processes lives: Redis when REDIS_URL is set (today the verdict
 * cache's second level), else this process alone; said at start, and shown by /readyz.
 */
function sharedState(config: Config, logger: Logger) {
  const local = configuredLruVerdictCache(config)
  if (!config.REDIS_URL) {
    logger.warn(
      'REDIS_URL is unset: the verdict cache, async jobs with their idempotency keys and pending deliveries, and the signed-request replay guard live in this process: lost on restart, not shared with other instances',
    )
    return { redis: undefined, cache: local, store: () => ({ kind: 'memory' as const }), replays: undefined }
  }
  const redis = connectRedis(config.REDIS_URL, { logger, timeoutMs: config.MODERATION_REDIS_TIMEOUT_MS })
  logger.info('REDIS_URL is set: verdicts, async jobs with their deliveries and idempotency keys, and the ids of signed requests are shared in Redis by every instance and survive restarts', { redis: redactedUrl(config.REDIS_URL) })
  // Scoped to this build's version: another version's prompt or decisions never serve old entries.
  const prefix = config.MODERATION_REDIS_PREFIX
  const shared = createRedisVerdictCache(redis.client, { ttlSeconds: config.MODERATION_CACHE_TTL_SECONDS, namespace: `${prefix}:${packageVersion()}` })
  const replays = createRedisReplayGuard(redis.client, { namespace: prefix, ttlMs: REPLAY_WINDOW_MS, local: createInProcessReplayGuard({ ttlMs: REPLAY_WINDOW_MS }) })
  return { redis, cache: createTieredVerdictCache(local, shared), store: () => ({ kind: 'redis' as const, connected: redis.state() === 'connected' }), replays }
}

const packageVersion = () => (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
