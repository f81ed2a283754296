import type { MiddlewareHandler } from 'hono'
import type { Clock, LogFields, Logger } from '../core/shared/ports.js'
import type { AppEnv } from './app-env.js'
import { routeOf } from './route-of.js'

export interface AccessLogOptions {
  logger: Logger
  clock: Clock
  /** When the request reached the process, if the runtime can tell better than `clock.now()`; given the request's runtime env (Node: `{ incoming, outgoing }`). */
  arrivedAt?: (env: unknown) => number
}

/**
 * Starts the request clock and writes one structured line per request. Route pattern, not raw
 * path; hashes and sizes, never content.
 */
export function accessLog({ logger, clock, arrivedAt = () => clock.now() }: AccessLogOptions): MiddlewareHandler<AppEnv> {
  return async function accessLogMiddleware(c, next) {
    c.set('startedAt', arrivedAt(c.env))
    c.set('logFields', {})
    await next()
    const fields = {
      request_id: c.get('requestId'),
      method: c.req.method,
      route: routeOf(c),
      status: c.res.status,
      duration_ms: Math.round((clock.now() - c.get('startedAt')) * 10) / 10,
      ...c.get('logFields'),
      ...c.get('traceFields'),
    }
    writeAccessLog(logger, fields)
  }
}

/** The access line: an error for 5xx, info otherwise. Fields: hashes and sizes, never content. */
export function writeAccessLog(logger: Logger, fields: LogFields & { status: number }): void {
  if (fields.status >= 500) logger.error('request', fields)
  else logger.info('request', fields)
}
