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
  return async function shedLoadMiddleware(c, next) {
    if (inFlight >= maxInFlight) throw new ApiError('service_unavailable', `over ${maxInFlight} requests in progress; retry shortly`, { 'Retry-After': '1' })
    inFlight++
    let held = true
    const release = () => {
      if (!held) return
      held = false
      inFlight--
    }
    // A client that went away gives its place back at once, even while its handler still waits
    // on a body that will never arrive.
    const signal = c.req.raw.signal
    signal.addEventListener('abort', release, { once: true })
    try {
      await next()
    } finally {
      signal.removeEventListener('abort', release)
      release()
    }
  }
}
