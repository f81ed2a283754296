import { z } from 'zod'
import { decodeBase64, splitDataUrl } from '../core/shared/base64.js'
import type { UploadedImage } from '../core/images/image-types.js'
import { excerpt, problem, type Checked } from '../core/shared/problem.js'
import { field, parseJsonBody } from './json-body-text.js'
import { checkMultipartShape, MAX_PART_HEADER_BYTES, multipartBoundary } from './multipart-shape.js'

const BUDGET_MESSAGE = 'must be a positive whole number of milliseconds'
/** A caller's budget_ms: said in the caller's terms when wrong (zod's own words name its internals). */
export const budgetMsSchema = z.number({ error: BUDGET_MESSAGE }).int({ error: BUDGET_MESSAGE }).positive({ error: BUDGET_MESSAGE })

/** The JSON body of POST /v1/moderate. */
export const moderateJsonSchema = z.object({
  text: z.string().optional(),
  images: z
    .array(
      z.object({
        data: z.string().min(1, 'image data is empty'),
        mime_type: z.string().optional(),
      }),
    )
    .optional(),
  policy: z.string().min(1).optional(),
  budget_ms: budgetMsSchema.optional(),
  // Asynchronous: answer 202 at once and deliver the verdict here, signed (Standard Webhooks).
  callback_url: z.string().min(1).optional(),
})

export interface ModerationBody {
  text?: string
  images: UploadedImage[]
  policy?: string
  budgetMs?: number
  callbackUrl?: string
}

const budgetParam = z.coerce.number().int().positive()

/**
 * Reads any of the three body forms of POST /v1/moderate: JSON, multipart/form-data, or a raw
 * image/* or text/plain body (options in the query string).
 */
export interface ReadOptions {
  /** Counted before any image is decoded, so a body of a million tiny images costs nothing. */
  maxImages: number
}

// The named fields of a form; other parts are images.
const FORM_FIELDS = ['text', 'policy', 'budget_ms', 'callback_url']

const tooManyImages = (count: number, max: number) => problem('payload_too_large', `${count} images; at most ${max} per request`)

export async function readModerationBody(request: Request, query: URLSearchParams, { maxImages }: ReadOptions): Promise<Checked<ModerationBody>> {
  const contentType = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  let body: Checked<ModerationBody>
  if (contentType === 'application/json' || contentType.endsWith('+json')) body = await readJson(request, maxImages)
  else if (contentType === 'multipart/form-data') body = await readMultipart(request, maxImages)
  else if (contentType.startsWith('image/')) {
    const bytes = new Uint8Array(await request.arrayBuffer())
    body = { ok: true, value: { images: [{ bytes, declaredType: contentType, label: 'body' }] } }
  } else if (contentType === 'text/plain') {
    const text = decodeUtf8(new Uint8Array(await request.arrayBuffer()))
    if (text === undefined) return problem('invalid_request', 'text/plain body is not valid UTF-8')
    body = { ok: true, value: { text, images: [] } }
  } else {
    return problem(
      'unsupported_media_type',
      `content type ${contentType || '(none)'} is not accepted; send application/json, multipart/form-data, image/* or text/plain`,
    )
  }
  if (!body.ok) return body
  return withQueryOptions(body.value, query)
}

function withQueryOptions(body: ModerationBody, query: URLSearchParams): Checked<ModerationBody> {
  const policy = body.policy ?? (query.get('policy') || undefined)
  let budgetMs = body.budgetMs
  const rawBudget = query.get('budget_ms')
  if (budgetMs === undefined && rawBudget) {
    const parsed = budgetParam.safeParse(rawBudget)
    if (!parsed.success) return problem('invalid_request', 'budget_ms must be a positive whole number of milliseconds')
    budgetMs = parsed.data
  }
  const callbackUrl = body.callbackUrl ?? (query.get('callback_url') || undefined)
  return { ok: true, value: { ...body, policy, budgetMs, callbackUrl } }
}

async function readJson(request: Request, maxImages: number): Promise<Checked<ModerationBody>> {
  const parsed = parseJsonBody(await request.text(), {
    schema: moderateJsonSchema,
    // Counted before the schema walks them, so a body of a million tiny images costs nothing.
    precheck: (raw) => {
      const images = field(raw, 'images')
      return Array.isArray(images) && images.length > maxImages ? tooManyImages(images.length, maxImages) : undefined
    },
  })
  if (!parsed.ok) return parsed
  const entries = parsed.value.images ?? []
  const images: UploadedImage[] = []
  for (const [index, image] of entries.entries()) {
    const label = `images[${index}]`
    const dataUrl = splitDataUrl(image.data)
    if (!dataUrl && image.data.startsWith('data:')) return problem('invalid_request', `${label}.data is a data URL but not base64-encoded`)
    const declaredType = image.mime_type ?? dataUrl?.mediaType
    const bytes = decodeBase64(dataUrl?.base64 ?? image.data)
    if (!bytes) return problem('invalid_request', `${label}.data is not valid base64 or a base64 data URL`)
    images.push({ bytes, declaredType, label })
  }
  const { text, policy, budget_ms, callback_url } = parsed.value
  return { ok: true, value: { text, images, policy, budgetMs: budget_ms, callbackUrl: callback_url } }
}

async function readMultipart(request: Request, maxImages: number): Promise<Checked<ModerationBody>> {
  const contentType = request.headers.get('content-type') ?? ''
  const boundary = multipartBoundary(contentType)
  if (!boundary) return problem('invalid_request', "multipart/form-data needs one boundary parameter of 1 to 70 characters that RFC 2046 allows (letters, digits, space and '()+_,-./:=?)")
  // Read once as bytes: the shape is checked on them before the form parser does any work.
  const bytes = new Uint8Array(await request.arrayBuffer())
  const refusal = checkMultipartShape(bytes, boundary, { maxParts: maxImages + FORM_FIELDS.length + 4, maxHeaderBytes: MAX_PART_HEADER_BYTES })
  if (refusal) return problem('payload_too_large', refusal)
  let form: FormData
  try {
    // The parser gets the boundary that was counted, quoted, not the caller's header: read by
    // other rules (a space after `=`, a parameter without a value), the two differed, and the
    // count let 150k parts through.
    form = await new Response(bytes, { headers: { 'content-type': `multipart/form-data; boundary="${boundary}"` } }).formData()
  } catch {
    return problem('invalid_request', 'body is not valid multipart/form-data')
  }
  const fileCount = [...form.entries()].filter(([name, value]) => typeof value !== 'string' && !FORM_FIELDS.includes(name)).length
  if (fileCount > maxImages) return tooManyImages(fileCount, maxImages)
  let text: string | undefined
  let policy: string | undefined
  let budgetMs: number | undefined
  let callbackUrl: string | undefined
  const images: UploadedImage[] = []
  for (const [name, value] of form.entries()) {
    if (typeof value !== 'string' && (name === 'policy' || name === 'budget_ms' || name === 'callback_url')) {
      return problem('invalid_request', `${name} must be a form field, not a file`)
    }
    if (typeof value !== 'string') {
      const file = value as File
      const bytes = new Uint8Array(await file.arrayBuffer())
      if (name === 'text') {
        const decoded = decodeUtf8(bytes)
        if (decoded === undefined) return problem('invalid_request', 'text file is not valid UTF-8')
        text = (text ?? '') + decoded
      } else {
        images.push({ bytes, declaredType: file.type || undefined, label: `file ${JSON.stringify(excerpt(file.name || name))}` })
      }
    } else if (name === 'text') text = (text ?? '') + value
    else if (name === 'policy') policy = value || undefined
    else if (name === 'callback_url') callbackUrl = value || undefined
    else if (name === 'budget_ms') {
      const parsed = budgetParam.safeParse(value)
      if (!parsed.success) return problem('invalid_request', 'budget_ms must be a positive whole number of milliseconds')
      budgetMs = parsed.data
    }
  }
  return { ok: true, value: { text, images, policy, budgetMs, callbackUrl } }
}

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return undefined
  }
}
