import type { Context, ErrorHandler, NotFoundHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { z } from 'zod'
import type { Logger } from '../core/shared/ports.js'
import { excerpt, type Problem } from '../core/shared/problem.js'
import type { AppEnv } from './app-env.js'

/** The closed set of error codes and their statuses. */
export const ERROR_STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  not_found: 404,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable_content: 422,
  rate_limited: 429,
  internal_error: 500,
  service_unavailable: 503,
} as const satisfies Record<string, ContentfulStatusCode>

export type ErrorCode = keyof typeof ERROR_STATUS

/** The one error envelope of every 4xx/5xx (but the Perspective endpoint's Google-shaped errors). */
export const errorEnvelopeSchema = z.object({
  error: z.object({
    code: z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    request_id: z.string(),
  }),
})

const MAX_MESSAGE_CHARS = 1000

export class ApiError extends HTTPException {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    // A backstop: messages quote input through excerpt(), but none may echo a body back.
    super(ERROR_STATUS[code], { message: excerpt(message, MAX_MESSAGE_CHARS) })
  }

  static from(problem: Problem): ApiError {
    return new ApiError(problem.code, problem.message)
  }
}

const CODE_FOR_STATUS = new Map<number, ErrorCode>(Object.entries(ERROR_STATUS).map(([code, status]) => [status, code as ErrorCode]))

export function errorResponse(c: Context<AppEnv>, code: ErrorCode, message: string, headers: Record<string, string> = {}) {
  const request_id = c.get('requestId') ?? ''
  // The OpenAI-compatible route answers in OpenAI's error shape too (type and param beside ours),
  // so the OpenAI SDKs' errors carry what their users look for.
  const openAi = c.req.path === OPENAI_ROUTE ? { type: OPENAI_ERROR_TYPE[code], param: null } : {}
  return c.json({ error: { code, message, request_id, ...openAi } }, ERROR_STATUS[code], headers)
}

const OPENAI_ROUTE = '/v1/moderations'
// OpenAI's error types, by our codes (as its API answers the same statuses).
const OPENAI_ERROR_TYPE: Record<ErrorCode, string> = {
  invalid_request: 'invalid_request_error',
  unauthorized: 'authentication_error',
  not_found: 'invalid_request_error',
  payload_too_large: 'invalid_request_error',
  unsupported_media_type: 'invalid_request_error',
  unprocessable_content: 'invalid_request_error',
  rate_limited: 'rate_limit_error',
  internal_error: 'server_error',
  service_unavailable: 'server_error',
}

/**
 * One error handler, three tiers: ours, other HTTPExceptions, and bugs (logged, answered 500).
 */
export function createErrorHandler({ logger }: { logger: Logger }): ErrorHandler<AppEnv> {
  return function onError(error, c) {
    if (error instanceof ApiError) return errorResponse(c, error.code, error.message, error.headers)
    if (error instanceof HTTPException) {
      const code = CODE_FOR_STATUS.get(error.status) ?? (error.status >= 500 ? 'internal_error' : 'invalid_request')
      return errorResponse(c, code, error.message || code)
    }
    // The client went away mid-request (its body read failed): nobody reads the answer, and it is
    // no bug of ours to alert on.
    if (c.req.raw.signal.aborted) {
      logger.info('client disconnected', { request_id: c.get('requestId'), error: error instanceof Error ? error.message : String(error) })
      return errorResponse(c, 'invalid_request', 'the request was aborted by the client')
    }
    logger.error('unhandled error', {
      request_id: c.get('requestId'),
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      stack: error instanceof Error ? error.stack : undefined,
    })
    return errorResponse(c, 'internal_error', 'internal error')
  }
}

export const notFound: NotFoundHandler<AppEnv> = (c) => errorResponse(c, 'not_found', `no route for ${c.req.method} ${c.req.path}`)
