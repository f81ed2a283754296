import { encodeBase64 } from '../core/shared/base64.js'
import type { ModelClient, ModelRequest, ModelResult, ThinkingLevel } from '../core/shared/model.js'
import { dataUrl, httpFailure, noAnswer, postJson, scrubber } from './post-json.js'

export interface OpenAiCompatibleModelOptions {
  /** The API root, e.g. https://generativelanguage.googleapis.com/v1beta/openai or https://openrouter.ai/api/v1. */
  baseUrl: string
  apiKey?: string
  model: string
  fetch?: typeof fetch
}

// A model's safety filter: OpenAI's content_filter, or Gemini's own reasons leaking through a shim.
const BLOCKING_FINISH_REASONS = new Set(['content_filter', 'safety', 'prohibited_content', 'blocklist', 'spii', 'image_safety', 'image_prohibited_content'])

type ResponseFormat = 'json_schema' | 'json_object'
/** `none` turns thinking off where a model allows it; `omit` leaves the parameter out. */
type Effort = 'none' | ThinkingLevel | 'omit'
const EFFORTS: Effort[] = ['none', 'minimal', 'low', 'medium', 'high']

interface ChatCompletion {
  model?: string
  choices?: { finish_reason?: string | null; message?: { content?: string | { type?: string; text?: string }[] | null; refusal?: string | null } }[]
  usage?: { prompt_tokens?: number; completion_tokens?: number }
  error?: { message?: string; code?: number | string; param?: string; metadata?: { reasons?: string[]; flagged_input?: string } }
}

/**
 * Gemini (or any model) through an OpenAI-compatible chat completions endpoint: Google's
 * /v1beta/openai/, OpenRouter, AI/ML API and the like. System and user messages, images as data
 * URLs, a JSON schema as response_format (json_object where a gateway refuses schemas), the
 * lowest reasoning effort the model accepts (from the policy's thinking level, or the lowest a
 * refusal names), remembered per model once accepted. No retries beyond those.
 *
 * @example
 * const model = createOpenAiCompatibleModel({ baseUrl: 'https://openrouter.ai/api/v1', apiKey, model: 'google/gemini-3-flash-preview' })
 */
export function createOpenAiCompatibleModel({ baseUrl, apiKey, model: defaultModel, fetch: fetchFn = fetch }: OpenAiCompatibleModelOptions): ModelClient {
  const url = `${baseUrl.replace(/\/+$/, '')}/chat/completions`
  const headers: Record<string, string> = apiKey ? { authorization: `Bearer ${apiKey}` } : {}
  // What each model was seen to refuse, so later calls do not pay for the 400 again.
  const acceptedEffort = new Map<string, Effort>()
  const acceptedFormat = new Map<string, ResponseFormat>()
  const scrub = scrubber(apiKey)

  function body(request: ModelRequest, effort: Effort, format: ResponseFormat) {
    const content: unknown[] = []
    if (request.text) content.push({ type: 'text', text: request.text })
    for (const image of request.images) content.push({ type: 'image_url', image_url: { url: dataUrl(image.mimeType, encodeBase64(image.data)) } })
    return {
      model: request.model,
      messages: [
        { role: 'system', content: request.systemInstruction },
        { role: 'user', content },
      ],
      temperature: 0,
      max_tokens: request.maxOutputTokens,
      response_format:
        format === 'json_schema' ? { type: 'json_schema', json_schema: { name: 'moderation_verdict', schema: request.responseSchema, strict: false } } : { type: 'json_object' },
      ...(effort === 'omit' ? {} : { reasoning_effort: effort }),
    }
  }

  async function generate(request: ModelRequest): Promise<ModelResult> {
    // What this model took instead of this level, once it refused it.
    const effortKey = `${request.model}|${request.thinkingLevel}`
    let effort: Effort = acceptedEffort.get(effortKey) ?? request.thinkingLevel
    let format: ResponseFormat = acceptedFormat.get(request.model) ?? 'json_schema'
    try {
      // Each refused setting steps once: effort to a level the error names (or up, then left
      // out), the schema to json_object. Remembered only once an answer came with them.
      for (let attempt = 0; attempt < 6; attempt++) {
        const posted = await postJson(fetchFn, url, body(request, effort, format), { ...request.headers, ...headers }, request.signal)
        const completion = (posted.json ?? {}) as ChatCompletion
        if (posted.status === 400) {
          const { message, param } = errorOf(completion, posted.text)
          if ((param === 'reasoning_effort' || /reasoning_effort/i.test(message)) && effort !== 'omit') {
            effort = acceptedInstead(effort, message)
            continue
          }
          if ((param === 'response_format' || /response_format|json_schema/i.test(message)) && format === 'json_schema') {
            format = 'json_object'
            continue
          }
        }
        if (posted.status < 400) {
          if (effort !== request.thinkingLevel) acceptedEffort.set(effortKey, effort)
          if (format !== 'json_schema') acceptedFormat.set(request.model, format)
        }
        return interpret(posted.status, completion, posted, request.model, scrub)
      }
      return { kind: 'failure', reason: 'upstream_error', detail: 'the endpoint refused every reasoning effort and response format' }
    } catch (error) {
      return noAnswer(error, request.signal, scrub)
    }
  }

  return { system: 'openai', defaultModel, generate }
}

function errorOf(completion: ChatCompletion, text: string): { message: string; param?: string } {
  // OpenAI and OpenRouter: { error: {...} }; some shims answer [{ error: {...} }].
  const error = completion.error ?? (Array.isArray(completion) ? (completion[0] as ChatCompletion | undefined)?.error : undefined)
  return { message: error?.message ?? text, param: error?.param }
}

/**
 * The effort to try after `refused`: the lowest the error lists as valid ("Valid values are: high,
 * low, medium, none"), else the next level up, else none at all.
 */
function acceptedInstead(refused: Effort, message: string): Effort {
  const listed = /valid values are:?\s*([a-z_,\s]+)/i.exec(message)?.[1]?.split(/[\s,]+/).filter(Boolean) ?? []
  const valid = EFFORTS.filter((effort) => effort !== refused && listed.includes(effort))
  if (valid.length > 0) return valid[0]!
  const above = EFFORTS.slice(EFFORTS.indexOf(refused) + 1)
  return refused === 'none' ? 'minimal' : (above[0] ?? 'omit')
}

function interpret(status: number, completion: ChatCompletion, posted: { text: string }, requestedModel: string, scrub: (text: string) => string): ModelResult {
  const model = completion.model ?? requestedModel
  if (status !== 200) {
    // OpenRouter refuses input its moderation flagged with 403 and the reasons: a judgement.
    const reasons = completion.error?.metadata?.reasons
    if (status === 403 && reasons?.length) return { kind: 'blocked', reason: `gateway moderation: ${reasons.join(', ')}`, categories: [], model }
    return httpFailure(status, errorOf(completion, posted.text).message, scrub)
  }
  // An error after generation started comes back as 200 with the error in the body (OpenRouter).
  if (completion.error) return httpFailure(Number(completion.error.code) || 502, completion.error.message ?? 'error in a 200 answer', scrub)
  const choice = completion.choices?.[0]
  if (!choice) return { kind: 'failure', reason: 'upstream_error', detail: `no choices in the answer: ${posted.text.slice(0, 120)}` }
  const usage = { inputTokens: completion.usage?.prompt_tokens, outputTokens: completion.usage?.completion_tokens }
  const finish = (choice.finish_reason ?? '').toLowerCase()
  if (BLOCKING_FINISH_REASONS.has(finish)) return { kind: 'blocked', reason: choice.finish_reason ?? finish, categories: [], model, usage }
  if (choice.message?.refusal) return { kind: 'blocked', reason: `refusal: ${choice.message.refusal.slice(0, 120)}`, categories: [], model, usage }
  if (finish === 'length' || finish === 'max_tokens') return { kind: 'failure', reason: 'invalid_output', detail: `output truncated (finish_reason ${finish})` }
  const content = choice.message?.content
  const text = typeof content === 'string' ? content : (content ?? []).map((part) => part.text ?? '').join('')
  if (!text) return { kind: 'failure', reason: 'invalid_output', detail: `empty output (finish_reason ${finish || 'none'})` }
  return { kind: 'answer', text, model, finishReason: choice.finish_reason ?? undefined, usage }
}
