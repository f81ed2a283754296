import type { MiddlewareHandler } from 'hono'
import { sha256Hex } from '../core/hash.js'
import type { AppEnv } from './app-env.js'
import { ApiError } from './errors.js'

export interface BearerAuthOptions {
  /** Accepted keys; empty means no authentication. */
  keys?: string[]
  /** Also accept the key in this query parameter (Perspective clients send `?key=`). */
  queryParam?: string
}

/**
 * Bearer API keys. Keys and the presented token are hashed first, then compared in constant time,
 * so neither the key length nor its prefix leaks through timing.
 *
 * @example
 * app.use('/v1/*', bearerAuth({ keys: config.MODERATION_API_KEYS }))
 */
export function bearerAuth({ keys = [], queryParam }: BearerAuthOptions = {}): MiddlewareHandler<AppEnv> {
  const digests = Promise.all(keys.map((key) => sha256Hex(key)))
  return async function bearerAuthMiddleware(c, next) {
    if (keys.length === 0) return next()
    const header = c.req.header('authorization') ?? ''
    const token = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] ?? (queryParam ? c.req.query(queryParam) : undefined)
    if (!token) throw new ApiError('unauthorized', 'missing bearer token', { 'WWW-Authenticate': 'Bearer' })
    const presented = await sha256Hex(token)
    let accepted = false
    for (const digest of await digests) accepted = constantTimeEqual(digest, presented) || accepted
    if (!accepted) throw new ApiError('unauthorized', 'invalid bearer token', { 'WWW-Authenticate': 'Bearer error="invalid_token"' })
    return next()
  }
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let difference = 0
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return difference === 0
}
