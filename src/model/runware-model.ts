import { encodeBase64 } from '../core/shared/base64.js'
import type { ModelClient, ModelRequest, ModelResult, ThinkingLevel } from '../core/shared/model.js'
import { dataUrl, httpFailure, nextLevel, noAnswer, postJson, scrubber } from './post-json.js'

export interface RunwareModelOptions {
  apiKey: string
  /** https://api.runware.ai/v1 unless set (proxies, tests). */
  baseUrl: string
  /** A Runware model id, e.g. google:gemini@3-flash. */
  model: string
  fetch?: typeof fetch
}

interface RunwareError {
  code?: string
  message?: string
  parameter?: string
  taskUUID?: string
}

interface RunwareAnswer {
  data?: { taskType?: string; taskUUID?: string; text?: string; finishReason?: string; usage?: { promptTokens?: number; completionTokens?: number } }[]
  errors?: RunwareError[]
  error?: RunwareError
}

/** A thinking level, or `omit`: the setting left out for a model that takes none. */
type Level = ThinkingLevel | 'omit'

// Runware's codes vary by model and provider; these parts of them mean the content was refused.
const CONTENT_REFUSED = /contentPolicyViolation|promptBlocked|contentFilter|safety/i
const RATE_LIMITED = /rateLimit|tooManyRequests/i
const PROVIDER_TIMEOUT = /timeout/i

/**
 * Gemini through Runware's task API: one `textInference` task with a fresh taskUUID, the policy as
 * `settings.systemPrompt`, the lowest `settings.thinkingLevel` the model accepts (left out for a
 * model that takes none; remembered per model once accepted), `settings.maxTokens`, images as data URIs in `inputs.images`. Runware takes no response
 * schema here: the system prompt names the JSON, and the answer is validated like any other.
 *
 * @example
 * const model = createRunwareModel({ apiKey, baseUrl: 'https://api.runware.ai/v1', model: 'google:gemini@3-flash' })
 */
export function createRunwareModel({ apiKey, baseUrl, model: defaultModel, fetch: fetchFn = fetch }: RunwareModelOptions): ModelClient {
  const headers = { authorization: `Bearer ${apiKey}` }
  const acceptedLevel = new Map<string, Level>()
  const scrub = scrubber(apiKey)

  function task(request: ModelRequest, level: Level, taskUUID: string) {
    return {
      taskType: 'textInference',
      taskUUID,
      model: request.model,
      deliveryMethod: 'sync',
      includeUsage: true,
      settings: {
        systemPrompt: request.systemInstruction,
        maxTokens: request.maxOutputTokens,
        temperature: 0,
        ...(level === 'omit' ? {} : { thinkingLevel: level }),
      },
      // The user turn is the content alone; an image-only item still needs a message.
      messages: [{ role: 'user', content: request.text ?? '(no text: the content is the attached images)' }],
      ...(request.images.length > 0 ? { inputs: { images: request.images.map((image) => dataUrl(image.mimeType, encodeBase64(image.data))) } } : {}),
    }
  }

  async function generate(request: ModelRequest): Promise<ModelResult> {
    // What this model took instead of this level, once it refused it.
    const levelKey = `${request.model}|${request.thinkingLevel}`
    let level: Level = acceptedLevel.get(levelKey) ?? request.thinkingLevel
    try {
      // A refused thinkingLevel steps up a level, then is left out; remembered once accepted.
      for (let attempt = 0; attempt < 6; attempt++) {
        const taskUUID = crypto.randomUUID()
        const posted = await postJson(fetchFn, baseUrl, [task(request, level, taskUUID)], { ...request.headers, ...headers }, request.signal)
        const answer = (posted.json ?? {}) as RunwareAnswer
        const errors = answer.errors ?? (answer.error ? [answer.error] : [])
        if (posted.status === 400 && level !== 'omit' && errors.some((e) => /thinkingLevel/i.test(`${e.parameter ?? ''} ${e.message ?? ''}`))) {
          level = nextLevel(level) ?? 'omit'
          continue
        }
        if (posted.status < 400 && level !== request.thinkingLevel) acceptedLevel.set(levelKey, level)
        return interpret(posted.status, answer, errors, posted.text, request.model, taskUUID, scrub)
      }
      return { kind: 'failure', reason: 'upstream_error', detail: 'Runware refused every thinking level' }
    } catch (error) {
      return noAnswer(error, request.signal, scrub)
    }
  }

  return { system: 'runware', defaultModel, generate }
}

function interpret(status: number, answer: RunwareAnswer, errors: RunwareError[], text: string, model: string, taskUUID: string, scrub: (text: string) => string): ModelResult {
  if (errors.length > 0 || status !== 200) {
    const codes = errors.map((e) => e.code ?? '').join(', ')
    const message = errors.map((e) => `${e.code ?? 'error'}: ${e.message ?? ''}`).join('; ') || text
    if (errors.some((e) => CONTENT_REFUSED.test(e.code ?? ''))) return { kind: 'blocked', reason: `runware: ${codes}`, categories: [], model }
    if (errors.some((e) => RATE_LIMITED.test(e.code ?? ''))) return httpFailure(429, message, scrub)
    if (errors.some((e) => PROVIDER_TIMEOUT.test(e.code ?? ''))) return { kind: 'failure', reason: 'timeout', detail: scrub(`Runware: ${message.slice(0, 200)}`) }
    return httpFailure(status === 200 ? 502 : status, message, scrub)
  }
  // Only the answer to this task: a reply to any other (a replaying proxy) is not this content's verdict.
  const result = answer.data?.find((item) => item.taskUUID === taskUUID)
  if (!result) return { kind: 'failure', reason: 'upstream_error', detail: `no result for task ${taskUUID}: ${scrub(text.slice(0, 120))}` }
  const usage = { inputTokens: result.usage?.promptTokens, outputTokens: result.usage?.completionTokens }
  const finish = (result.finishReason ?? '').toLowerCase()
  if (finish === 'content_filter' || finish === 'safety') return { kind: 'blocked', reason: result.finishReason ?? finish, categories: [], model, usage }
  if (finish === 'length') return { kind: 'failure', reason: 'invalid_output', detail: 'output truncated (finishReason length)' }
  if (!result.text) return { kind: 'failure', reason: 'invalid_output', detail: `empty output (finishReason ${finish || 'none'})` }
  return { kind: 'answer', text: result.text, model, finishReason: result.finishReason, usage }
}
