import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What the fake answers to one generateContent call. */
export type FakeReply =
  | { verdict: { safe: boolean; categories: string[]; confidence: number; rationale?: string } }
  | { text: string; finishReason?: string }
  | { status: number; message?: string; headers?: Record<string, string> }
  | { blockReason: string; categories?: string[] }
  | { finishReason: string; categories?: string[]; text?: string }
  | { hang: true }
  | { delayMs: number; then: FakeReply }
  /** Closes the connection without an answer. */
  | { drop: true }

export interface RecordedRequest {
  path: string
  model: string
  apiKey: string | undefined
  body: GeminiRequestBody
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

export interface FakeGeminiOptions {
  /** Answer 400 to MINIMAL thinking for these models, as some newer Flash models do. */
  rejectMinimalFor?: string[]
  /** Used when nothing is scripted. */
  defaultReply?: FakeReply | ((request: RecordedRequest) => FakeReply)
}

export interface FakeGemini {
  url: string
  requests: RecordedRequest[]
  /** Queue replies for the next calls, in order. */
  script(...replies: FakeReply[]): void
  setDefault(reply: FakeReply | ((request: RecordedRequest) => FakeReply)): void
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
 * A fake of the Gemini API's generateContent on 127.0.0.1 (random port), in its wire format, for
 * the real @google/genai SDK to talk to.
 *
 * @example
 * const gemini = await startFakeGemini()
 * gemini.script({ verdict: { safe: true, categories: [], confidence: 0.97 } })
 */
export async function startFakeGemini({ rejectMinimalFor = [], defaultReply }: FakeGeminiOptions = {}): Promise<FakeGemini> {
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
    const match = /\/models\/([^/:]+):generateContent/.exec(req.url ?? '')
    if (req.method !== 'POST' || !match) return sendJson(res, 404, { error: { code: 404, message: 'not found', status: 'NOT_FOUND' } })
    const body = JSON.parse(await readBody(req)) as GeminiRequestBody
    const recorded: RecordedRequest = { path: req.url ?? '', model: match[1]!, apiKey: header(req, 'x-goog-api-key'), body }
    requests.push(recorded)
    if (rejectMinimalFor.includes(recorded.model) && body.generationConfig?.thinkingConfig?.thinkingLevel === 'MINIMAL') {
      return sendJson(res, 400, {
        error: { code: 400, message: 'Thinking level MINIMAL is not supported for this model.', status: 'INVALID_ARGUMENT' },
      })
    }
    const reply = queue.shift() ?? (typeof fallback === 'function' ? fallback(recorded) : fallback!)
    await answer(res, reply, recorded.model)
  })
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

async function answer(res: ServerResponse, reply: FakeReply, model: string): Promise<void> {
  if ('delayMs' in reply) {
    await new Promise((resolve) => setTimeout(resolve, reply.delayMs))
    if (res.destroyed) return
    return answer(res, reply.then, model)
  }
  if ('hang' in reply) return // never answers; the client aborts or the server closes
  if ('drop' in reply) {
    res.socket?.destroy()
    return
  }
  if ('status' in reply) {
    const status = reply.status === 429 ? 'RESOURCE_EXHAUSTED' : reply.status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT'
    return sendJson(res, reply.status, { error: { code: reply.status, message: reply.message ?? status, status } }, reply.headers)
  }
  const usageMetadata = { promptTokenCount: 120, candidatesTokenCount: 18, totalTokenCount: 138 }
  if ('blockReason' in reply) {
    return sendJson(res, 200, {
      promptFeedback: { blockReason: reply.blockReason, safetyRatings: ratings(reply.categories) },
      usageMetadata,
      modelVersion: model,
    })
  }
  const text = 'verdict' in reply ? JSON.stringify(reply.verdict) : reply.text
  const finishReason = 'finishReason' in reply && reply.finishReason ? reply.finishReason : 'STOP'
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

