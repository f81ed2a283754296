import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { isSupportedAttribute, PERSPECTIVE_ATTRIBUTES, perspectiveRequestSchema, perspectiveResponse } from '../compat/perspective.js'
import type { Logger } from '../core/shared/ports.js'
import { excerpt, problem } from '../core/shared/problem.js'
import type { AppEnv } from '../http/app-env.js'
import { bearerAuth } from '../http/auth.js'
import { limitBody } from '../http/body-limit.js'
import { shareByClient, type ClientPlaces } from '../http/load-shed.js'
import { ApiError } from '../http/errors.js'
import { judgeItem, requestContext, type JudgeDeps } from '../http/judge-item.js'
import { field } from '../http/json-body-text.js'
import { readJsonBody } from '../http/read-json-body.js'

// Google API error statuses, as Perspective clients expect them.
const GOOGLE_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  404: 'NOT_FOUND',
  413: 'INVALID_ARGUMENT',
  415: 'INVALID_ARGUMENT',
  422: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
}

/**
 * More attributes than we support cannot all be supported (JSON object keys are distinct): refused
 * by count before any is looked at, and without naming them.
 */
function tooManyAttributes(raw: unknown) {
  const attributes = field(raw, 'requestedAttributes')
  if (attributes === null || typeof attributes !== 'object') return undefined
  const count = Object.keys(attributes).length
  const max = PERSPECTIVE_ATTRIBUTES.length
  if (count <= max) return undefined
  return problem('invalid_request', `${count} attributes requested; at most ${max} (supported attributes: ${PERSPECTIVE_ATTRIBUTES.join(', ')})`)
}

/**
 * POST /v1alpha1/comments:analyze, Perspective-compatible. Errors come in Google's API shape
 * (`{ error: { code, message, status } }`), as Perspective clients parse them, with our error
 * code and request id in `details`. The API key may come as `?key=`, as Perspective clients send it.
 */
export function perspectiveRoutes(deps: JudgeDeps & { apiKeys: string[]; logger: Logger; clientPlaces?: ClientPlaces }) {
  const app = new Hono<AppEnv>()

  app.onError((error, c) => {
    const status = error instanceof HTTPException ? error.status : 500
    if (status === 500) deps.logger.error('unhandled error', { request_id: c.get('requestId'), error: String(error) })
    const reason = error instanceof ApiError ? error.code : status === 500 ? 'internal_error' : 'invalid_request'
    const message = status === 500 ? 'internal error' : error.message
    const details = [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason, metadata: { request_id: c.get('requestId') } }]
    const headers = error instanceof ApiError ? error.headers : {}
    return c.json({ error: { code: status, message, status: GOOGLE_STATUS[status] ?? 'UNKNOWN', details } }, status as 400, headers)
  })

  app.use('*', bearerAuth({ keys: deps.apiKeys, queryParam: 'key' }))
  if (deps.clientPlaces) app.use('*', shareByClient({ places: deps.clientPlaces }))

  app.post('/comments:analyze', limitBody(deps.limits.maxBodyBytes), async (c) => {
    const body = await readJsonBody(c.req.raw, { schema: perspectiveRequestSchema, precheck: tooManyAttributes })
    const unsupported = Object.keys(body.requestedAttributes).filter((name) => !isSupportedAttribute(name))
    if (unsupported.length > 0) {
      throw new ApiError(
        'invalid_request',
        `Requested attribute${unsupported.length > 1 ? 's' : ''} ${unsupported.map((name) => excerpt(name, 40)).join(', ')} not supported. Supported attributes: ${PERSPECTIVE_ATTRIBUTES.join(', ')}.`,
      )
    }
    const context = requestContext(c, deps, body.policy ?? c.req.header('x-moderation-policy'))
    const judged = await judgeItem(deps, { text: body.comment.text, images: [] }, context)
    if (!judged.ok) throw new ApiError(judged.problem.code, judged.problem.message)
    c.set('logFields', judged.value.log)
    return c.json(perspectiveResponse(body, judged.value.verdict, context.policy))
  })

  // Unknown methods under /v1alpha1 get Google's 404, not the rest of the service's envelope.
  app.all('*', (c) => {
    throw new ApiError('not_found', `no method ${c.req.method} ${c.req.path}`)
  })

  return app
}

