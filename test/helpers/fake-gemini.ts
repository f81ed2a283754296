import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * What the fake answers to one model call, in whichever wire format the call came in:
 * `safetyBlock` and `truncated` mean the same on every wire (Gemini: a SAFETY prompt block,
 * MAX_TOKENS; chat completions and Runware: finish reason content_filter, length);
 * `finishReason` is sent as written.
 */
export type FakeReply =
  | { verdict: { safe: boolean; categories: string[]; confidence: number; rationale?: string } }
  | { text: string; finishReason?: string }
  | { status: number; message?: string; headers?: Record<string, string> }
  | { blockReason: string; categories?: string[] }
  | { finishReason: string; categories?: string[]; text?: string }
  | { hang: true }
  | { delayMs: number; then: FakeReply }
  /** Answers when `after` settles (in-process tests: hold answers until every call has arrived). */
  | { after: Promise<unknown>; then: FakeReply }
  /** Closes the connection without an answer. */
  | { drop: true }
  | { safetyBlock: true; categories?: string[] }
  | { truncated: true }

/** The wire a call came in on: Gemini API or Vertex AI, OpenAI-compatible chat completions, Runware tasks. */
export type Wire = 'gemini' | 'openai' | 'runware'

export interface RecordedRequest {
  wire: Wire
  path: string
  model: string
  /** x-goog-api-key (Gemini, Vertex express mode). */
  apiKey: string | undefined
  /** The Authorization header (Vertex with credentials, chat completions, Runware). */
  authorization: string | undefined
  /** W3C trace context the call carried. */
  traceparent: string | undefined
  /** The body as sent; typed for the Gemini wire, the others read `raw`. */
  body: GeminiRequestBody
  raw: unknown
}

/** A chat completions request as the OpenAI-compatible adapter sends it. */
export interface ChatRequestBody {
  model: string
  messages: { role: string; content: string | { type: string; text?: string; image_url?: { url: string } }[] }[]
  response_format?: { type: string; json_schema?: { name: string; schema: Record<string, unknown> } }
  reasoning_effort?: string
  max_tokens?: number
  temperature?: number
}

/** A Runware textInference task as the Runware adapter sends it. */
export interface RunwareTask {
  taskType: string
  taskUUID: string
  model: string
  settings?: { systemPrompt?: string; maxTokens?: number; thinkingLevel?: string; temperature?: number }
  messages?: { role: string; content: string }[]
  inputs?: { images?: string[] }
}

export interface GeminiRequestBody {
  contents: { role?: string; parts: { text?: string; inlineData?: { mimeType: string; data: string } }[] }[]
  systemInstruction?: { parts: { text: string }[] }
  generationConfig?: {
    temperature?: number
    responseMimeType?: string
    responseJsonSchema?: Record<string, unknown>
    maxOutputTokens?: number
    thinkingConfig?: { thinkingLevel?: string }
  }
}

export type ReplyFunction = (request: RecordedRequest) => FakeReply | Promise<FakeReply>

export interface FakeGeminiOptions {
  /** Answer 400 to MINIMAL thinking (any wire) for these models, as some newer Flash models do. */
  rejectMinimalFor?: string[]
  /** Chat completions: answer 400 to response_format json_schema for these models, as some gateways do. */
  rejectJsonSchemaFor?: string[]
  /** Used when nothing is scripted; a function may look at the request (and take its time, e.g. to decode images). */
  defaultReply?: FakeReply | ReplyFunction
}

export interface FakeGemini {
  url: string
  requests: RecordedRequest[]
  /** Queue replies for the next calls, in order. */
  script(...replies: FakeReply[]): void
  setDefault(reply: FakeReply | ReplyFunction): void
  /** Forget recorded requests and scripted replies; back to the default reply. */
  reset(): void
  close(): Promise<void>
}

const HARM: Record<string, string> = {
  harassment: 'HARM_CATEGORY_HARASSMENT',
  hate: 'HARM_CATEGORY_HATE_SPEECH',
  sexual: 'HARM_CATEGORY_SEXUALLY_EXPLICIT',
  illicit: 'HARM_CATEGORY_DANGEROUS_CONTENT',
}

/**
 * A fake model server on 127.0.0.1 (random port), scriptable with the same replies in every wire
 * format the service speaks: the Gemini API's and Vertex AI's generateContent (for the real
 * @google/genai SDK), OpenAI-compatible chat completions (any path ending /chat/completions) and
 * Runware's task API (a JSON array of tasks on any other path).
 *
 * @example
 * const gemini = await startFakeGemini()
 * gemini.script({ verdict: { safe: true, categories: [], confidence: 0.97 } })
 */
export async function startFakeGemini({ rejectMinimalFor = [], rejectJsonSchemaFor = [], defaultReply }: FakeGeminiOptions = {}): Promise<FakeGemini> {
  const queue: FakeReply[] = []
  const requests: RecordedRequest[] = []
  const initialReply = defaultReply ?? { verdict: { safe: true, categories: [], confidence: 0.97 } }
  let fallback: FakeGeminiOptions['defaultReply'] = initialReply

  const fake = { script: (...replies: FakeReply[]) => queue.push(...replies), reset }
  function reset() {
    requests.length = 0
    queue.length = 0
    fallback = initialReply
  }

  const server = createServer(async (req, res) => {
    // Control endpoints, for tests that run in another process (workerd) and cannot call methods.
    if (req.url?.startsWith('/__fake/')) return control(req, res)
    const url = req.url ?? ''
    const match = /\/models\/([^/:]+):generateContent/.exec(url)
    if (req.method !== 'POST') return sendJson(res, 404, { error: { code: 404, message: 'not found', status: 'NOT_FOUND' } })
    let raw: unknown
    try {
      raw = JSON.parse(await readBody(req))
    } catch {
      return sendJson(res, 400, { error: { code: 400, message: 'body is not JSON' } })
    }
    const wire: Wire | undefined = match ? 'gemini' : url.endsWith('/chat/completions') ? 'openai' : Array.isArray(raw) ? 'runware' : undefined
    if (!wire) return sendJson(res, 404, { error: { code: 404, message: 'not found', status: 'NOT_FOUND' } })
    const task = wire === 'runware' ? (raw as RunwareTask[]).find((t) => t.taskType === 'textInference') : undefined
    const model = match ? match[1]! : wire === 'openai' ? (raw as ChatRequestBody).model : (task?.model ?? '')
    const recorded: RecordedRequest = {
      wire,
      path: url,
      model,
      apiKey: header(req, 'x-goog-api-key'),
      authorization: header(req, 'authorization'),
      traceparent: header(req, 'traceparent'),
      body: raw as GeminiRequestBody,
      raw,
    }
    requests.push(recorded)
    const refusal = refuse(recorded, task)
    if (refusal) return sendJson(res, 400, refusal)
    const reply = queue.shift() ?? (typeof fallback === 'function' ? await fallback(recorded) : fallback!)
    await answer(res, reply, recorded, task?.taskUUID ?? '')
  })

  /** The 400s some models and gateways give to settings they do not take. */
  function refuse(request: RecordedRequest, task: RunwareTask | undefined): unknown {
    const minimal = rejectMinimalFor.includes(request.model)
    if (request.wire === 'gemini' && minimal && request.body.generationConfig?.thinkingConfig?.thinkingLevel === 'MINIMAL') {
      return { error: { code: 400, message: 'Thinking level MINIMAL is not supported for this model.', status: 'INVALID_ARGUMENT' } }
    }
    if (request.wire === 'openai') {
      const chat = request.raw as ChatRequestBody
      if (minimal && chat.reasoning_effort === 'minimal') {
        return { error: { message: 'Invalid reasoning_effort: minimal. Valid values are: high, low, medium, none', type: 'invalid_request_error', param: 'reasoning_effort', code: null } }
      }
      if (rejectJsonSchemaFor.includes(request.model) && chat.response_format?.type === 'json_schema') {
        return { error: { message: 'response_format json_schema is not supported by this model', type: 'invalid_request_error', param: 'response_format', code: null } }
      }
    }
    if (request.wire === 'runware' && minimal && task?.settings?.thinkingLevel === 'minimal') {
      return { errors: [{ code: 'unsupportedThinkingLevel', message: 'thinkingLevel minimal is not supported by this model', parameter: 'settings.thinkingLevel', taskType: 'textInference', taskUUID: task.taskUUID }] }
    }
    return undefined
  }
  // Above undici's 2 s keep-alive threshold, so clients reuse connections as they would with Google.
  async function control(req: IncomingMessage, res: ServerResponse) {
    if (req.method === 'POST' && req.url === '/__fake/script') {
      fake.script(...(JSON.parse(await readBody(req)) as FakeReply[]))
      return sendJson(res, 200, { queued: queue.length })
    }
    if (req.method === 'POST' && req.url === '/__fake/reset') {
      reset()
      return sendJson(res, 200, { ok: true })
    }
    if (req.method === 'GET' && req.url === '/__fake/requests') return sendJson(res, 200, requests)
    return sendJson(res, 404, { error: 'unknown control endpoint' })
  }

  server.keepAliveTimeout = 10_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script: fake.script,
    setDefault: (reply) => {
      fallback = reply
    },
    reset,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

async function answer(res: ServerResponse, reply: FakeReply, request: RecordedRequest, taskUUID: string): Promise<void> {
  if ('delayMs' in reply) {
    await new Promise((resolve) => setTimeout(resolve, reply.delayMs))
    if (res.destroyed) return
    return answer(res, reply.then, request, taskUUID)
  }
  if ('after' in reply) {
    await reply.after
    if (res.destroyed) return
    return answer(res, reply.then, request, taskUUID)
  }
  if ('hang' in reply) return // never answers; the client aborts or the server closes
  if ('drop' in reply) {
    res.socket?.destroy()
    return
  }
  if (request.wire === 'openai') return answerChat(res, reply, request.model)
  if (request.wire === 'runware') return answerRunware(res, reply, request.model, taskUUID)
  const model = request.model
  if ('status' in reply) {
    const status = reply.status === 429 ? 'RESOURCE_EXHAUSTED' : reply.status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT'
    return sendJson(res, reply.status, { error: { code: reply.status, message: reply.message ?? status, status } }, reply.headers)
  }
  const usageMetadata = { promptTokenCount: 120, candidatesTokenCount: 18, totalTokenCount: 138 }
  if ('blockReason' in reply || 'safetyBlock' in reply) {
    return sendJson(res, 200, {
      promptFeedback: { blockReason: 'blockReason' in reply ? reply.blockReason : 'SAFETY', safetyRatings: ratings(reply.categories) },
      usageMetadata,
      modelVersion: model,
    })
  }
  const { text, finish } = contentOf(reply)
  const finishReason = finish === 'truncated' ? 'MAX_TOKENS' : (finish ?? 'STOP')
  const parts = text === undefined || text === '' ? [] : [{ text }]
  return sendJson(res, 200, {
    candidates: [
      {
        content: { role: 'model', parts },
        finishReason,
        index: 0,
        ...('categories' in reply && reply.categories ? { safetyRatings: ratings(reply.categories) } : {}),
      },
    ],
    usageMetadata,
    modelVersion: model,
  })
}

type Rendered = Exclude<FakeReply, { delayMs: number } | { after: Promise<unknown> } | { hang: true } | { drop: true }>

/**
 * What a scripted answer says, on any wire: refused by a safety filter, or text, with `finish`
 * 'truncated' (cut off), the reason the script wrote as it is, or undefined (a normal stop).
 */
function contentOf(reply: Exclude<Rendered, { status: number }>): { blocked: boolean; text?: string; finish?: string } {
  if ('safetyBlock' in reply || 'blockReason' in reply) return { blocked: true }
  if ('truncated' in reply) return { blocked: false, text: '{"safe": fal', finish: 'truncated' }
  if ('verdict' in reply) return { blocked: false, text: JSON.stringify(reply.verdict) }
  return { blocked: false, text: reply.text, finish: ('finishReason' in reply && reply.finishReason) || undefined }
}

/** The reply as an OpenAI chat completion (or the OpenAI error shape). */
function answerChat(res: ServerResponse, reply: Rendered, model: string) {
  if ('status' in reply) {
    const type = reply.status === 429 ? 'rate_limit_exceeded' : reply.status >= 500 ? 'server_error' : 'invalid_request_error'
    return sendJson(res, reply.status, { error: { message: reply.message ?? type, type, code: reply.status === 429 ? 'rate_limit_exceeded' : null } }, reply.headers)
  }
  const { blocked, text, finish } = contentOf(reply)
  const content = blocked ? null : (text ?? '')
  const finishReason = blocked ? 'content_filter' : finish === 'truncated' ? 'length' : (finish ?? 'stop')
  return sendJson(res, 200, {
    id: 'chatcmpl-fake',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finishReason }],
    usage: { prompt_tokens: 120, completion_tokens: 18, total_tokens: 138 },
  })
}

/** The reply as a Runware task result (or Runware's errors shape). */
function answerRunware(res: ServerResponse, reply: Rendered, model: string, taskUUID: string) {
  if ('status' in reply) {
    const code = reply.status === 429 ? 'rateLimitExceeded' : reply.status === 402 ? 'insufficientCredits' : reply.status >= 500 ? 'internalServerError' : 'invalidRequest'
    return sendJson(res, reply.status, { errors: [{ code, message: reply.message ?? code, taskType: 'textInference', taskUUID }] }, reply.headers)
  }
  const { blocked, text, finish } = contentOf(reply)
  const finishReason = blocked ? 'content_filter' : finish === 'truncated' ? 'length' : (finish ?? 'stop')
  return sendJson(res, 200, {
    data: [{ taskType: 'textInference', taskUUID, model, text: blocked ? '' : (text ?? ''), finishReason, cost: 0.0004, usage: { promptTokens: 120, completionTokens: 18 } }],
  })
}

function ratings(categories: string[] = []) {
  return categories.map((category) => ({ category: HARM[category] ?? category, probability: 'HIGH', blocked: true }))
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name]
  return Array.isArray(value) ? value[0] : value
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

