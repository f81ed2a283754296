import { createHash } from 'node:crypto'
import { resolve } from 'node:path'
import { composeApp } from '../compose.js'
import { parseConfig } from '../config.js'
import { useSyncSha256 } from '../core/hash.js'
import { loadPolicies, PolicyError } from '../core/policy.js'
import { findSlowPatterns } from './check-pattern-speed.js'
import { readPolicyFiles } from './read-policy-files.js'
import { readTextClassifier } from './read-text-classifier.js'
import { readInjectionModel } from './read-injection-model.js'
import { createNodeImageFetcher } from '../images/node-image-fetcher.js'
import { createDecodePool } from '../images/decode-pool.js'
import { createSharpImageProcessor, decodePoolOptions } from '../images/sharp-image-processor.js'
import { createNodeWebhookTransport } from '../net/node-webhook-transport.js'
import { createJsonLogger } from '../logging/json-logger.js'
import { systemClock } from '../core/ports.js'
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
  const logger = createJsonLogger({ level: config.LOG_LEVEL })
  const dir = resolve(config.MODERATION_POLICIES_DIR)
  const policies = await loadPolicies(await readPolicyFiles(dir), config.MODERATION_DEFAULT_POLICY)
  const slow = await findSlowPatterns(policies)
  if (slow.length > 0) throw new PolicyError(slow.join('\n'))
  const classifier = readTextClassifier(config.MODERATION_LOCAL_CLASSIFIER)
  const injectionModel = readInjectionModel()
  if (config.MODERATION_API_KEYS.length === 0) logger.warn('MODERATION_API_KEYS is unset: the API accepts requests without authentication')
  if (config.MODERATION_PROVIDER === 'gemini' && !config.GEMINI_API_KEY) logger.warn('GEMINI_API_KEY is unset: the local classifier answers alone (text: hate and harassment scores plus the policy word lists; images: not judged)')
  let draining = false
  const loop = watchEventLoop({ clock: systemClock })
  // One pool for the process: every request's decodes share libuv's threads.
  const images = createSharpImageProcessor({ pool: createDecodePool(decodePoolOptions(config, Number(env.UV_THREADPOOL_SIZE) || undefined)) })
  // One keep-alive transport for every model call of the process (node:http, not undici's fetch).
  const fetch = createKeepAliveFetch()
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
  })
  logger.info('policies loaded', { dir, policies: policies.list().map((p) => ({ name: p.name, version: p.version })) })
  const warmed = await warmUp({ policies, images, classifier, injectionModel, requests: config.MODERATION_WARMUP_REQUESTS, nextTurn: setImmediate, fetch })
  if (warmed.requests > 0) logger.info('warmed up', warmed)
  // Repeated texts are answered before Hono when the cache holds their verdict; all else goes on.
  const listener = await createNodeListener({ composed, policies, config, logger, arrivedAt: loop.arrivedAt })
  const { app, deliveries } = composed
  return { app, listener, deliveries, config, logger, setDraining: () => (draining = true) }
}
