import type { z } from 'zod'
import { excerpt } from '../core/shared/problem.js'
import { ApiError } from './errors.js'
import { parseJsonBody, type ParseJsonOptions } from './json-body-text.js'

/**
 * Parses a JSON body against a schema; a body of absurd shape, malformed JSON or a wrong shape is a
 * 400 that says where (or a precheck's 4xx).
 */
export async function readJsonBody<S extends z.ZodType>(request: Request, options: ParseJsonOptions<S>): Promise<z.infer<S>> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/json' && !type.endsWith('+json')) {
    throw new ApiError('unsupported_media_type', `content type ${excerpt(type) || '(none)'} is not accepted; send application/json`)
  }
  const parsed = parseJsonBody(await request.text(), options)
  if (!parsed.ok) throw ApiError.from(parsed.problem)
  return parsed.value
}
