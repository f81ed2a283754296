import type { MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { AppEnv } from './app-env.js'
import { ApiError } from './errors.js'

/**
 * 413 from Content-Length before reading anything, or as soon as a streamed body passes the
 * limit. With a Content-Length the body is not touched here: on Node that keeps
 * @hono/node-server's fast path (reading the socket straight into text/bytes, no web stream),
 * measured at the top of the cache-hit profile otherwise.
 */
export function limitBody(maxSize: number): MiddlewareHandler<AppEnv> {
  const tooLarge = () => new ApiError('payload_too_large', `body exceeds ${maxSize} bytes`)
  const streamed = bodyLimit({
    maxSize,
    onError: () => {
      throw tooLarge()
    },
  })
  return async function limitBodyMiddleware(c, next) {
    const length = c.req.header('content-length')
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      if (Number(length) > maxSize) throw tooLarge()
      return next()
    }
    return streamed(c, next)
  }
}
