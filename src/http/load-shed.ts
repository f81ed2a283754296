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

/** Requests in progress per client, each client counted against the same cap. */
export interface ClientPlaces {
  readonly max: number
  /** Takes a place for `client`; false when it holds `max` already. */
  take(client: string): boolean
  release(client: string): void
}

/** Clients are forgotten at zero: the map holds at most one entry per request in progress. */
export function createClientPlaces(max: number): ClientPlaces {
  const taken = new Map<string, number>()
  return {
    max,
    take(client) {
      const held = taken.get(client) ?? 0
      if (held >= max) return false
      taken.set(client, held + 1)
      return true
    },
    release(client) {
      const held = (taken.get(client) ?? 1) - 1
      if (held <= 0) taken.delete(client)
      else taken.set(client, held)
    },
  }
}

/**
 * A client's share of the places (MODERATION_MAX_IN_FLIGHT_PER_CLIENT), after authentication
 * has said who it is: one client past its share gets 429 with Retry-After while the others are
 * still served, where shedding alone would send everyone 503 once one client filled the house.
 *
 * @example
 * app.use('/v1/*', shareByClient({ places: createClientPlaces(64) }))
 */
export function shareByClient({ places }: { places: ClientPlaces }): MiddlewareHandler<AppEnv> {
  return async function shareByClientMiddleware(c, next) {
    const client = c.get('clientId')
    if (!places.take(client)) {
      throw new ApiError('rate_limited', `this client has ${places.max} requests in progress (MODERATION_MAX_IN_FLIGHT_PER_CLIENT); retry shortly`, { 'Retry-After': '1' })
    }
    try {
      await next()
    } finally {
      places.release(client)
    }
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
