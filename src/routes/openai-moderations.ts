import { Hono } from 'hono'
import { decodeBase64 } from '../core/base64.js'
import type { UploadedImage } from '../core/images.js'
import { problem, type Checked } from '../core/problem.js'
import { openAiErrorResult, openAiModerationRequestSchema, openAiResult, type InputType, type OpenAiModerationRequest } from '../compat/openai-moderation.js'
import type { AppEnv } from '../http/app-env.js'
import { limitBody } from '../http/body-limit.js'
import { ApiError } from '../http/errors.js'
import { judgeItem, requestContext, type Item, type JudgeDeps } from '../http/judge-item.js'
import { readJsonBody } from '../http/read-json-body.js'

const DATA_URL = /^data:([^;,]*)((?:;[^;,]*)*?);base64,/i

/**
 * POST /v1/moderations, OpenAI-compatible: a string, an array of strings (one result each, judged
 * concurrently under one budget) or an array of text and image parts (one result).
 */
export function openAiModerationRoutes(deps: JudgeDeps) {
  const app = new Hono<AppEnv>()

  app.post('/moderations', limitBody(deps.limits.maxBodyBytes), async (c) => {
    const body = await readJsonBody(c.req.raw, openAiModerationRequestSchema)
    const items = toItems(body.input)
    if (items.length > deps.limits.maxBatchItems) {
      throw new ApiError('payload_too_large', `${items.length} inputs; at most ${deps.limits.maxBatchItems} per request`)
    }
    const policy = body.policy ?? c.req.header('x-moderation-policy')
    const budget = body.budget_ms ?? parseBudgetHeader(c.req.header('x-moderation-budget-ms'))
    const context = requestContext(c, deps, policy, budget)
    const judged = await Promise.all(
      items.map(async (item) => (item.ok ? { item: item.value, judged: await judgeItem(deps, item.value, context) } : { item: undefined, judged: item })),
    )
    // A single input that cannot be judged is a 4xx, as on /v1/moderate; in a batch, it is that item's result.
    const [only] = judged
    if (items.length === 1 && only && !only.judged.ok) throw ApiError.from(only.judged.problem)

    c.set('logFields', { items: judged.map(({ judged: j }) => (j.ok ? j.value.log : { error: j.problem.code })) })
    const results = judged.map(({ item, judged: j }) =>
      j.ok && item ? openAiResult(j.value.verdict, inputTypes(item)) : openAiErrorResult(j.ok ? 'internal_error' : j.problem.code, j.ok ? '' : j.problem.message),
    )
    const firstVerdict = judged.find(({ judged: j }) => j.ok)
    const model = body.model ?? (firstVerdict?.judged.ok ? firstVerdict.judged.value.verdict.model : context.policy.model ?? 'moderation')
    return c.json({ id: `modr-${c.get('requestId')}`, model, results })
  })

  return app
}

function parseBudgetHeader(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const budget = Number(value)
  if (!Number.isInteger(budget) || budget <= 0) throw new ApiError('invalid_request', 'X-Moderation-Budget-Ms must be a positive whole number')
  return budget
}

function toItems(input: OpenAiModerationRequest['input']): Checked<Item>[] {
  if (typeof input === 'string') return [{ ok: true, value: { text: input, images: [] } }]
  if (input.every((entry) => typeof entry === 'string')) return (input as string[]).map((text) => ({ ok: true, value: { text, images: [] } }))
  // An array of parts is one multimodal input.
  const texts: string[] = []
  const images: UploadedImage[] = []
  for (const [index, part] of (input as Exclude<OpenAiModerationRequest['input'], string | string[]>).entries()) {
    if (part.type === 'text') {
      texts.push(part.text)
      continue
    }
    const label = `input[${index}].image_url`
    const dataUrl = DATA_URL.exec(part.image_url.url)
    if (!dataUrl) {
      return [problem('invalid_request', `${label}: only data URLs (data:image/...;base64,...) are accepted; this service does not fetch image URLs`)]
    }
    const bytes = decodeBase64(part.image_url.url.slice(dataUrl[0].length))
    if (!bytes) return [problem('invalid_request', `${label} is not valid base64`)]
    images.push({ bytes, declaredType: dataUrl[1] || undefined, label })
  }
  return [{ ok: true, value: { text: texts.join('\n'), images } }]
}

function inputTypes(item: Item): InputType[] {
  const types: InputType[] = []
  if (item.text?.trim()) types.push('text')
  if (item.images.length > 0) types.push('image')
  return types
}
