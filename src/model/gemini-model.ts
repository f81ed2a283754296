import {
  ApiError,
  FinishReason,
  type GenerateContentResponse,
  GoogleGenAI,
  type GoogleGenAIOptions,
  HarmCategory,
  type Part,
  ThinkingLevel,
} from '@google/genai'
import { encodeBase64 } from '../core/shared/base64.js'
import type { ModelClient, ModelRequest, ModelResult, ThinkingLevel as Level } from '../core/shared/model.js'

export interface GeminiModelOptions {
  /** The Gemini API key; for Vertex AI, an express-mode key (optional there). */
  apiKey?: string
  /** Proxies and tests; Google's endpoint when unset. */
  baseUrl?: string
  model: string
  /**
   * Vertex AI instead of the Gemini API: with a `project` (and `location`), application-default
   * credentials (Node), or `auth` for other credentials; with only `apiKey`, express mode.
   */
  vertex?: { project?: string; location?: string; auth?: GoogleGenAIOptions['googleAuthOptions'] }
  /** The transport under the SDK (Node: a keep-alive node:http fetch); the runtime's fetch when unset. */
  fetch?: typeof fetch
}

const LEVELS: Record<Level, ThinkingLevel> = {
  minimal: ThinkingLevel.MINIMAL,
  low: ThinkingLevel.LOW,
  medium: ThinkingLevel.MEDIUM,
  high: ThinkingLevel.HIGH,
}
const LEVEL_ORDER: ThinkingLevel[] = [ThinkingLevel.MINIMAL, ThinkingLevel.LOW, ThinkingLevel.MEDIUM, ThinkingLevel.HIGH]

const BLOCKING_FINISH_REASONS = new Set<string>([
  FinishReason.SAFETY,
  FinishReason.PROHIBITED_CONTENT,
  FinishReason.BLOCKLIST,
  FinishReason.SPII,
  FinishReason.IMAGE_SAFETY,
  FinishReason.IMAGE_PROHIBITED_CONTENT,
])

const HARM_TO_CATEGORY: Partial<Record<string, string>> = {
  [HarmCategory.HARM_CATEGORY_HARASSMENT]: 'harassment',
  [HarmCategory.HARM_CATEGORY_HATE_SPEECH]: 'hate',
  [HarmCategory.HARM_CATEGORY_SEXUALLY_EXPLICIT]: 'sexual',
  [HarmCategory.HARM_CATEGORY_DANGEROUS_CONTENT]: 'illicit',
}

/**
 * Gemini through @google/genai, on the Gemini API or Vertex AI (the same request): minimal
 * thinking, temperature 0, JSON output against the given schema. No SDK retries: the caller's
 * budget decides. The client is built once.
 *
 * @example
 * const model = createGeminiModel({ apiKey, model: 'gemini-3.5-flash' })
 * const onVertex = createGeminiModel({ model: 'gemini-3.5-flash', vertex: { project: 'my-project', location: 'global' } })
 */
export function createGeminiModel({ apiKey, baseUrl, model: defaultModel, vertex, fetch }: GeminiModelOptions): ModelClient {
  // Everything explicit, so the SDK reads nothing from the environment: not which backend
  // (GOOGLE_GENAI_USE_VERTEXAI), not where to send the key (GOOGLE_GEMINI_BASE_URL,
  // GOOGLE_VERTEX_BASE_URL); with a project it also ignores keys in the environment.
  const location = vertex?.location ?? 'global'
  const googleUrl = !vertex
    ? 'https://generativelanguage.googleapis.com'
    : vertex.project && location !== 'global'
      ? `https://${location}-aiplatform.googleapis.com`
      : 'https://aiplatform.googleapis.com'
  const httpOptions = { baseUrl: baseUrl ?? googleUrl, ...(fetch ? { fetch } : {}) }
  const ai = vertex
    ? new GoogleGenAI({
        vertexai: true,
        ...(vertex.project ? { project: vertex.project, location } : { apiKey }),
        ...(vertex.auth ? { googleAuthOptions: vertex.auth } : {}),
        httpOptions,
      })
    : new GoogleGenAI({ vertexai: false, apiKey, httpOptions })
  // Some Flash models answer 400 to MINIMAL; the lowest level each model accepted is kept here.
  const acceptedLevel = new Map<string, ThinkingLevel>()

  async function call(request: ModelRequest, level: ThinkingLevel): Promise<GenerateContentResponse> {
    const parts: Part[] = []
    if (request.text) parts.push({ text: request.text })
    for (const image of request.images) parts.push({ inlineData: { mimeType: image.mimeType, data: encodeBase64(image.data) } })
    return ai.models.generateContent({
      model: request.model,
      contents: [{ role: 'user', parts }],
      config: {
        systemInstruction: request.systemInstruction,
        temperature: 0,
        responseMimeType: 'application/json',
        responseJsonSchema: request.responseSchema,
        maxOutputTokens: request.maxOutputTokens,
        thinkingConfig: { thinkingLevel: level },
        abortSignal: request.signal,
        // Per call, merged by the SDK into the client's own options (its key, base URL, fetch).
        ...(request.headers ? { httpOptions: { headers: request.headers } } : {}),
      },
    })
  }

  async function generate(request: ModelRequest): Promise<ModelResult> {
    const wanted = LEVELS[request.thinkingLevel]
    const remembered = acceptedLevel.get(request.model)
    let level = remembered && LEVEL_ORDER.indexOf(remembered) > LEVEL_ORDER.indexOf(wanted) ? remembered : wanted
    try {
      let response: GenerateContentResponse
      try {
        response = await call(request, level)
      } catch (error) {
        const next = LEVEL_ORDER[LEVEL_ORDER.indexOf(level) + 1]
        if (!next || !rejectsThinkingLevel(error)) throw error
        level = next
        response = await call(request, level)
        acceptedLevel.set(request.model, level)
      }
      return interpret(response, request.model)
    } catch (error) {
      return failure(error, request.signal)
    }
  }

  return { system: vertex ? 'gcp.vertex_ai' : 'gcp.gemini', defaultModel, generate }
}

function rejectsThinkingLevel(error: unknown): boolean {
  return error instanceof ApiError && error.status === 400 && /thinking/i.test(error.message)
}

function interpret(response: GenerateContentResponse, requestedModel: string): ModelResult {
  const model = response.modelVersion ?? requestedModel
  const usage = {
    inputTokens: response.usageMetadata?.promptTokenCount,
    outputTokens: response.usageMetadata?.candidatesTokenCount,
  }
  const candidate = response.candidates?.[0]
  const blockReason = response.promptFeedback?.blockReason
  const finishReason = candidate?.finishReason
  if (blockReason || (finishReason && BLOCKING_FINISH_REASONS.has(finishReason))) {
    const ratings = [...(response.promptFeedback?.safetyRatings ?? []), ...(candidate?.safetyRatings ?? [])]
    const categories = ratings
      .filter((rating) => rating.blocked || rating.probability === 'HIGH' || rating.probability === 'MEDIUM')
      .map((rating) => HARM_TO_CATEGORY[rating.category ?? ''])
      .filter((category): category is string => category !== undefined)
    return { kind: 'blocked', reason: String(blockReason ?? finishReason), categories: [...new Set(categories)], model, usage }
  }
  if (finishReason === FinishReason.MAX_TOKENS) {
    return { kind: 'failure', reason: 'invalid_output', detail: 'output truncated (MAX_TOKENS)' }
  }
  const text = candidate?.content?.parts
    ?.filter((part) => !part.thought && typeof part.text === 'string')
    .map((part) => part.text)
    .join('')
  if (!text) return { kind: 'failure', reason: 'invalid_output', detail: `empty output (finishReason ${finishReason ?? 'none'})` }
  return { kind: 'answer', text, model, finishReason, usage }
}

function failure(error: unknown, signal: AbortSignal): ModelResult {
  if (signal.aborted) return { kind: 'failure', reason: 'timeout', detail: 'aborted at the end of the budget' }
  if (error instanceof ApiError) {
    const reason = error.status === 429 ? 'rate_limited' : 'upstream_error'
    return { kind: 'failure', reason, detail: `HTTP ${error.status}: ${error.message.slice(0, 200)}`, status: error.status }
  }
  return { kind: 'failure', reason: 'upstream_error', detail: (error as Error)?.message ?? String(error) }
}
