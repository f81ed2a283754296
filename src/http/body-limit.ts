import { bodyLimit } from 'hono/body-limit'
import { ApiError } from './errors.js'

/** Hono's body limit with our error: 413 from Content-Length before reading, or as a stream passes it. */
export const limitBody = (maxSize: number) =>
  bodyLimit({
    maxSize,
    onError: () => {
      throw new ApiError('payload_too_large', `body exceeds ${maxSize} bytes`)
    },
  })
