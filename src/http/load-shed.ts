import type { MiddlewareHandler } from 'hono'
import type { AppEnv } from './app-env.js'
import { ApiError } from './errors.js'

/** The requests in progress, counted against a cap; shared by every door into the service. */
export interface InFlightPlaces {
  readonly max: number
  /** Takes a place; false when all are taken. */
  take(): boolean
  release(): void
}

export function createInFlightPlaces(max = 512): InFlightPlaces {
  let taken = 0
  return {
    max,
    take: () => (taken < max ? (taken++, true) : false),
    release: () => void taken--,
  }
}

/**
 * Sheds load at the door: past `places.max` requests in progress, new ones get 503 with
 * Retry-After at once instead of queueing without bound (memory and latency stay bounded).
 *
 * @example
 * app.use('/v1/*', shedLoad({ places: createInFlightPlaces(512) }))
 */
export function shedLoad({ places }: { places: InFlightPlaces }): MiddlewareHandler<AppEnv> {
  return async function shedLoadMiddleware(_c, next) {
    if (!places.take()) throw new ApiError('service_unavailable', `over ${places.max} requests in progress; retry shortly`, { 'Retry-After': '1' })
    // Held until the work ends, even when the client has gone: the work still runs (to its
    // budget), and releasing on disconnect let a client keep more than the cap in progress. Every
    // handler ends: its body read fails when the socket closes, its work ends at its budget.
    try {
      await next()
    } finally {
      places.release()
    }
  }
}
