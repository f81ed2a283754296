import type { z } from 'zod'
import { ApiError } from './errors.js'

/** Parses a JSON body against a schema; malformed JSON or a wrong shape is a 400 that says where. */
export async function readJsonBody<S extends z.ZodType>(request: Request, schema: S): Promise<z.infer<S>> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/json' && !type.endsWith('+json')) {
    throw new ApiError('unsupported_media_type', `content type ${type || '(none)'} is not accepted; send application/json`)
  }
  let raw: unknown
  try {
    raw = JSON.parse(await request.text())
  } catch {
    throw new ApiError('invalid_request', 'body is not valid JSON')
  }
  const parsed = schema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new ApiError('invalid_request', `${issue.path.join('.') || 'body'}: ${issue.message}`)
  }
  return parsed.data
}
