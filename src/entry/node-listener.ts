import { getRequestListener } from '@hono/node-server'
import type { RequestListener } from 'node:http'
import type { composeApp } from '../app/compose.js'
import type { Config } from '../config/config.js'
import type { PolicyRegistry } from '../core/moderation/policy.js'
import { systemClock, type Logger } from '../core/shared/ports.js'
import { answerCacheHitsFirst, appJsonHeaders } from './cache-hit-fast-path.js'

export interface NodeListenerOptions {
  /** What composeApp built: the app, its moderator and its count of requests in flight. */
  composed: Pick<ReturnType<typeof composeApp>, 'app' | 'moderator' | 'inFlight' | 'clientPlaces' | 'telemetry'>
  policies: PolicyRegistry
  config: Config
  logger: Logger
  /** When the request being read reached the process (the event loop's estimate). */
  arrivedAt: () => number
}

/**
 * What node:http serves: repeated texts answered from the in-process cache first, everything
 * else by the Hono app (@hono/node-server's listener, or `app` where a test wraps it). The service and its warm-up both use it,
 * so the warm-up compiles the same path real requests take.
 *
 * @example
 * createServer(serverOptions, await createNodeListener({ composed, policies, config, logger, arrivedAt: loop.arrivedAt }))
 */
export async function createNodeListener(options: NodeListenerOptions, app: RequestListener = getRequestListener(options.composed.app.fetch)): Promise<RequestListener> {
  const { composed, policies, config, logger, arrivedAt } = options
  return answerCacheHitsFirst(
    {
      moderator: composed.moderator,
      policies,
      limits: { maxTextChars: config.MODERATION_MAX_TEXT_CHARS, maxBudgetMs: config.MODERATION_MAX_BUDGET_MS, maxBodyBytes: config.MODERATION_MAX_BODY_BYTES },
      apiKeys: config.MODERATION_API_KEYS,
      trustTraceparent: config.MODERATION_TRUST_TRACEPARENT,
      places: composed.inFlight,
      clientPlaces: composed.clientPlaces,
      logger,
      clock: systemClock,
      arrivedAt,
      appHeaders: await appJsonHeaders(),
      telemetry: composed.telemetry,
    },
    app,
  )
}
