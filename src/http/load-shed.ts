import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from './app-env.js'
import { ApiError } from './errors.js'

/**
 * Sheds load at the door: past `maxInFlight` requests in progress, new ones get 503 with
 * Retry-After at once instead of queueing without bound (memory and latency stay bounded).
 *
 * @example
 * app.use('/v1/*', shedLoad({ maxInFlight: 512 }))
 */
export function shedLoad({ maxInFlight = 512 }: { maxInFlight?: number } = {}): MiddlewareHandler<AppEnv> {
  let inFlight = 0
  return async function shedLoadMiddleware(_c, next) {
    if (inFlight >= maxInFlight) throw new ApiError('service_unavailable', `over ${maxInFlight} requests in progress; retry shortly`, { 'Retry-After': '1' })
    inFlight++
    // Held until the work ends, even when the client has gone: the work still runs (to its
    // budget), and releasing on disconnect let a client keep more than the cap in progress. Every
    // handler ends: its body read fails when the socket closes, its work ends at its budget.
    try {
      await next()
    } finally {
      inFlight--
    }
  }
}
