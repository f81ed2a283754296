import { Hono } from 'hono'
import { decodeBase64, splitDataUrl } from '../core/shared/base64.js'
import type { UploadedImage } from '../core/images/image-types.js'
import { problem, type Checked } from '../core/shared/problem.js'
import { openAiErrorResult, openAiModerationRequestSchema, openAiResult, type InputType, type OpenAiModerationRequest } from '../compat/openai-moderation.js'
import type { AppEnv } from '../http/app-env.js'
import { limitBody } from '../http/body-limit.js'
import { ApiError } from '../http/errors.js'
import { judgeItem, judgePrepared, requestContext, type Item, type JudgeDeps } from '../http/judge-item.js'
import { beforeDeadline } from '../core/resilience/deadline.js'
import type { RequestContext } from '../core/moderation/moderation-request.js'
import { field } from '../http/json-body-text.js'
import { readJsonBody } from '../http/read-json-body.js'

/**
 * POST /v1/moderations, OpenAI-compatible: a string, an array of strings (one result each, judged
 * concurrently under one budget) or an array of text and image parts (one result).
 */
export function openAiModerationRoutes(deps: JudgeDeps) {
  const app = new Hono<AppEnv>()

  app.post('/moderations', limitBody(deps.limits.maxBodyBytes), async (c) => {
    const { maxBatchItems } = deps.limits
    const body = await readJsonBody(c.req.raw, {
      schema: openAiModerationRequestSchema,
      // Counted before the schema walks the entries: strings or parts, no input needs more.
      precheck: (raw) => {
        const input = field(raw, 'input')
        return Array.isArray(input) && input.length > maxBatchItems ? problem('payload_too_large', tooManyInputs(input.length, maxBatchItems)) : undefined
      },
    })
    const items = toItems(body.input, deps.imageFetcher !== undefined, deps.limits.maxImages)
    const policy = body.policy ?? c.req.header('x-moderation-policy')
    const budget = body.budget_ms ?? parseBudgetHeader(c.req.header('x-moderation-budget-ms'))
    const context = requestContext(c, deps, policy, budget)
    const judged = await Promise.all(
      items.map(async (item) => {
        if (!item.ok) return { item: undefined, judged: item }
        const fetched = await fetchImageUrls(deps, item.value, context)
        if (fetched === 'late') return { item: item.value, judged: { ok: true as const, value: await judgePrepared(deps, 'late', context, item.value.text) } }
        if (!fetched.ok) return { item: item.value, judged: fetched }
        return { item: fetched.value, judged: await judgeItem(deps, fetched.value, context) }
      }),
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

const tooManyInputs = (count: number, max: number) => `${count} inputs; at most ${max} per request`

/** An item's image URLs, fetched inside the budget (the fetches are aborted at its end). */
async function fetchImageUrls({ imageFetcher, limits, clock }: JudgeDeps, item: PendingItem, context: RequestContext): Promise<Checked<Item> | 'late'> {
  if (item.urls.length === 0 || !imageFetcher) return { ok: true, value: item }
  const deadline = context.startedAt + context.budgetMs
  const controller = new AbortController()
  const timer = clock.timer(deadline - clock.now())
  void timer.promise.then(() => controller.abort())
  try {
    const fetches = Promise.all(item.urls.map(({ url, label }) => imageFetcher.fetch(url, { maxBytes: limits.maxImageBytes, signal: controller.signal, label })))
    const fetched = await beforeDeadline(fetches, deadline, clock, 'late' as const)
    // The abort at the deadline may settle the fetches (as failures) before the race's own timer.
    if (fetched === 'late' || controller.signal.aborted) return 'late'
    const failed = fetched.find((result) => !result.ok)
    if (failed && !failed.ok) return failed
    return { ok: true, value: { text: item.text, images: [...item.images, ...fetched.flatMap((r) => (r.ok ? [r.value] : []))] } }
  } finally {
    timer.cancel()
  }
}

function parseBudgetHeader(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  const budget = Number(value)
  if (!Number.isInteger(budget) || budget <= 0) throw new ApiError('invalid_request', 'X-Moderation-Budget-Ms must be a positive whole number')
  return budget
}

interface PendingItem extends Item {
  /** http(s) image URLs still to fetch. */
  urls: { url: string; label: string }[]
}

function toItems(input: OpenAiModerationRequest['input'], fetchUrls: boolean, maxImages: number): Checked<PendingItem>[] {
  if (typeof input === 'string') return [{ ok: true, value: { text: input, images: [], urls: [] } }]
  if (input.every((entry) => typeof entry === 'string')) {
    return (input as string[]).map((text) => ({ ok: true, value: { text, images: [], urls: [] } }))
  }
  // An array of parts is one multimodal input.
  const texts: string[] = []
  const images: UploadedImage[] = []
  const urls: PendingItem['urls'] = []
  for (const [index, part] of (input as Exclude<OpenAiModerationRequest['input'], string | string[]>).entries()) {
    if (part.type === 'text') {
      texts.push(part.text)
      continue
    }
    const label = `input[${index}].image_url`
    const { url } = part.image_url
    const dataUrl = splitDataUrl(url)
    if (dataUrl) {
      const bytes = decodeBase64(dataUrl.base64)
      if (!bytes) return [problem('invalid_request', `${label} is not valid base64`)]
      images.push({ bytes, declaredType: dataUrl.mediaType, label })
    } else if (fetchUrls && /^https?:\/\//i.test(url)) {
      urls.push({ url, label })
    } else {
      const fetching = fetchUrls ? 'data: or http(s) URLs' : 'data URLs (data:image/...;base64,...); this service does not fetch image URLs (MODERATION_FETCH_IMAGE_URLS)'
      return [problem('invalid_request', `${label}: only ${fetching} are accepted`)]
    }
  }
  // Counted before any URL is fetched: one body must not make the service fetch without bound.
  if (images.length + urls.length > maxImages) return [problem('payload_too_large', `${images.length + urls.length} images; at most ${maxImages} per item`)]
  return [{ ok: true, value: { text: texts.join('\n'), images, urls } }]
}

function inputTypes(item: Item & { urls?: unknown[] }): InputType[] {
  const types: InputType[] = []
  if (item.text?.trim()) types.push('text')
  if (item.images.length > 0 || (item.urls?.length ?? 0) > 0) types.push('image')
  return types
}
