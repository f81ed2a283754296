import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { readFileSync } from 'node:fs'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { MeterProvider } from '@opentelemetry/sdk-metrics'
import { describe, expect, it, vi } from 'vitest'
import { parse, stringify } from 'yaml'
import { ConfigError } from '../../src/config/config.js'
import { loadPolicies } from '../../src/core/moderation/policy.js'
import type { Provider } from '../../src/model/providers.js'
import type { ChatRequestBody, RunwareTask, Wire } from '../helpers/fake-gemini.js'
import { makeImage, toBase64 } from '../helpers/images.js'
import { buildService, providerEnv } from '../helpers/service.js'
import { useFakeGemini } from '../helpers/use-fake-gemini.js'

const fake = useFakeGemini({ rejectMinimalFor: ['picky-model'], rejectJsonSchemaFor: ['schemaless-model'] })
let counter = 0
const fresh = () => `provider test ${++counter}-${Date.now()}`
type Body = { source: string; safe: boolean; action: string; categories: string[]; fallback_reason?: string; signals?: string[]; model: string; latency_ms: number }
const verdictOf = async (res: Response) => {
  expect(res.status).toBe(200)
  return (await res.json()) as Body
}

const WIRE: Record<Provider, Wire> = { gemini: 'gemini', vertex: 'gemini', 'openai-compatible': 'openai', runware: 'runware' }
const SYSTEM: Record<Provider, string> = { gemini: 'gcp.gemini', vertex: 'gcp.vertex_ai', 'openai-compatible': 'openai', runware: 'runware' }
const MODEL_ENV: Record<Provider, string> = { gemini: 'GEMINI_MODEL', vertex: 'VERTEX_MODEL', 'openai-compatible': 'OPENAI_COMPATIBLE_MODEL', runware: 'RUNWARE_MODEL' }

/** Where each wire puts the system instruction, the user text, the thinking level and the images. */
function sent(provider: Provider, raw: unknown) {
  if (WIRE[provider] === 'openai') {
    const chat = raw as ChatRequestBody
    const user = chat.messages.find((m) => m.role === 'user')!.content as { type: string; text?: string; image_url?: { url: string } }[]
    return {
      system: chat.messages.find((m) => m.role === 'system')!.content as string,
      text: user.find((p) => p.type === 'text')?.text,
      level: chat.reasoning_effort,
      images: user.filter((p) => p.type === 'image_url').map((p) => p.image_url!.url.slice(0, 22)),
    }
  }
  if (WIRE[provider] === 'runware') {
    const task = (raw as RunwareTask[])[0]!
    return { system: task.settings!.systemPrompt!, text: task.messages![0]!.content, level: task.settings!.thinkingLevel, images: (task.inputs?.images ?? []).map((u) => u.slice(0, 22)) }
  }
  const body = raw as { systemInstruction: { parts: { text: string }[] }; contents: { parts: { text?: string; inlineData?: { mimeType: string } }[] }[]; generationConfig: { thinkingConfig: { thinkingLevel: string } } }
  return {
    system: body.systemInstruction.parts[0]!.text,
    text: body.contents[0]!.parts.find((p) => p.text)?.text,
    level: body.generationConfig.thinkingConfig.thinkingLevel.toLowerCase(),
    images: body.contents[0]!.parts.filter((p) => p.inlineData).map((p) => `data:${p.inlineData!.mimeType};base64,`.slice(0, 22)),
  }
}

const PROVIDERS: Provider[] = ['gemini', 'vertex', 'openai-compatible', 'runware']

describe.each(PROVIDERS)('through %s', (provider) => {
  it('sends the policy as instructions, the content as data, minimal thinking and the images, and returns the model verdict', async () => {
    const spans = new InMemorySpanExporter()
    const telemetry = { tracer: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }).getTracer('t'), meter: new MeterProvider().getMeter('t') }
    const { moderate } = await buildService({ gemini: fake, provider, telemetry })
    fake.script({ verdict: { safe: false, categories: ['hate'], confidence: 0.93 } })
    const text = fresh()
    const verdict = await verdictOf(await moderate({ text, images: [{ data: toBase64(await makeImage('png', 16, 16)) }] }))
    expect(verdict).toMatchObject({ source: 'model', safe: false, action: 'block', categories: ['hate'] })
    expect(fake.requests).toHaveLength(1)
    const request = fake.requests[0]!
    expect(request.wire).toBe(WIRE[provider])
    const { system, text: userText, level, images } = sent(provider, request.raw)
    expect(system).toMatch(/content moderation classifier/)
    expect(system).not.toContain(text)
    expect(userText).toBe(text)
    expect(level).toBe('minimal')
    expect(images).toEqual(['data:image/png;base64,'])
    const call = spans.getFinishedSpans().find((s) => s.name.startsWith('generate_content'))
    expect(call?.attributes['gen_ai.system']).toBe(SYSTEM[provider])
  })

  it.each([
    [{ status: 500 }, 'upstream_error'],
    [{ status: 429 }, 'rate_limited'],
    [{ text: 'I think it is fine' }, 'invalid_output'],
    [{ text: '{"safe": true, "categories": ["hate"], "confidence": 0.9}' }, 'invalid_output'],
    [{ truncated: true }, 'invalid_output'],
    [{ drop: true }, 'upstream_error'],
  ] as const)('answers %j with the conservative verdict (%s)', async (reply, reason) => {
    const { moderate } = await buildService({ gemini: fake, provider })
    fake.script(reply)
    expect(await verdictOf(await moderate({ text: fresh() }))).toMatchObject({ source: 'fallback', fallback_reason: reason, safe: false, action: 'review' })
  })

  it('answers a hanging model inside the budget with timeout', async () => {
    const { moderate } = await buildService({ gemini: fake, provider })
    fake.setDefault({ hang: true })
    const started = performance.now()
    const verdict = await verdictOf(await moderate({ text: fresh(), budget_ms: 200 }))
    expect(verdict).toMatchObject({ source: 'fallback', fallback_reason: 'timeout', safe: false })
    expect(performance.now() - started).toBeLessThan(200 + 150)
  })

  it('reads the provider\'s safety refusal as an unsafe verdict, not a failure', async () => {
    const { moderate } = await buildService({ gemini: fake, provider })
    fake.script({ safetyBlock: true })
    const verdict = await verdictOf(await moderate({ text: fresh() }))
    expect(verdict).toMatchObject({ source: 'model', safe: false, action: 'block' })
    expect(verdict.signals).toContain('model_safety_block')
  })

  it('moves off minimal thinking for a model that refuses it, to the lowest it accepts, and remembers', async () => {
    const { moderate } = await buildService({ gemini: fake, provider, env: { [MODEL_ENV[provider]]: 'picky-model' } })
    // Chat completions: the refusal lists the valid efforts, and the lowest is none.
    const instead = provider === 'openai-compatible' ? 'none' : 'low'
    expect((await verdictOf(await moderate({ text: fresh() }))).source).toBe('model')
    expect(fake.requests.map((r) => sent(provider, r.raw).level)).toEqual(['minimal', instead])
    expect((await verdictOf(await moderate({ text: fresh() }))).source).toBe('model')
    expect(sent(provider, fake.requests[2]!.raw).level).toBe(instead)
  })

  it('opens its own circuit when its calls fail', async () => {
    const { moderate, app } = await buildService({ gemini: fake, provider, env: { MODERATION_BREAKER_MIN_CALLS: '2' } })
    fake.setDefault({ status: 500 })
    for (let i = 0; i < 2; i++) await moderate({ text: fresh() })
    expect((await verdictOf(await moderate({ text: fresh() }))).fallback_reason).toBe('circuit_open')
    expect(fake.requests).toHaveLength(2)
    expect(await (await app.request('/readyz')).json()).toMatchObject({ mode: provider, circuit: 'open' })
  })
})

describe('OpenAI-compatible gateways', () => {
  it('falls back to json_object where a gateway refuses JSON schemas, and remembers', async () => {
    const { moderate } = await buildService({ gemini: fake, provider: 'openai-compatible', env: { OPENAI_COMPATIBLE_MODEL: 'schemaless-model' } })
    expect((await verdictOf(await moderate({ text: fresh() }))).source).toBe('model')
    expect((await verdictOf(await moderate({ text: fresh() }))).source).toBe('model')
    const formats = fake.requests.map((r) => (r.raw as ChatRequestBody).response_format?.type)
    expect(formats).toEqual(['json_schema', 'json_object', 'json_object'])
    expect((fake.requests[0]!.raw as ChatRequestBody).response_format?.json_schema?.schema).toMatchObject({ type: 'object' })
    expect(fake.requests[0]!.authorization).toBe('Bearer test-openai-key')
    expect(fake.requests[0]!.path).toBe('/v1beta/openai/chat/completions')
  })

  it('reads Gemini\'s SAFETY leaking through a shim, a refusal and a gateway\'s moderation 403 as unsafe; a 200 carrying an error as a failure', async () => {
    const { moderate } = await buildService({ gemini: fake, provider: 'openai-compatible' })
    fake.script({ finishReason: 'SAFETY', text: '' })
    expect(await verdictOf(await moderate({ text: fresh() }))).toMatchObject({ source: 'model', action: 'block', signals: ['model_safety_block'] })
    fake.script({ status: 403, message: 'flagged' })
    expect(await verdictOf(await moderate({ text: fresh() }))).toMatchObject({ source: 'fallback', fallback_reason: 'upstream_error' })
  })
})

describe('gateway answers the fake cannot script', () => {
  // A tiny server with exactly the bodies gateways send, for the shapes beyond FakeReply.
  async function serve(status: number, body: unknown) {
    const server = createServer((req, res) => {
      req.resume()
      req.on('end', () => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(body))
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() }
  }

  it.each([
    ['OpenRouter moderation 403 with reasons', 'openai-compatible', 403, { error: { code: 403, message: 'flagged', metadata: { reasons: ['violence'], flagged_input: 'x' } } }, { source: 'model', action: 'block' }],
    ['an error inside a 200', 'openai-compatible', 200, { error: { code: 502, message: 'provider returned error' } }, { source: 'fallback', fallback_reason: 'upstream_error' }],
    ['a refusal', 'openai-compatible', 200, { choices: [{ finish_reason: 'stop', message: { content: null, refusal: 'I cannot help with that' } }] }, { source: 'model', action: 'block' }],
    ['Runware insufficient credits', 'runware', 402, { errors: [{ code: 'insufficientCredits', message: 'balance is insufficient' }] }, { source: 'fallback', fallback_reason: 'upstream_error' }],
    ['Runware content policy', 'runware', 400, { errors: [{ code: 'providerContentPolicyViolation', message: 'blocked' }] }, { source: 'model', action: 'block' }],
    ['Runware rate limit', 'runware', 429, { errors: [{ code: 'rateLimitExceeded', message: 'slow down' }] }, { source: 'fallback', fallback_reason: 'rate_limited' }],
    ['an HTML error page', 'runware', 502, '<html>bad gateway</html>', { source: 'fallback', fallback_reason: 'upstream_error' }],
  ] as const)('%s', async (_name, provider, status, body, expected) => {
    const server = await serve(status, body)
    try {
      const env = providerEnv(provider, server.url)
      const { moderate } = await buildService({ env })
      expect(await verdictOf(await moderate({ text: fresh() }))).toMatchObject(expected)
    } finally {
      server.close()
    }
  })
})

describe('answers that must not be trusted, and details that must not leak', () => {
  it('takes only the answer to its own task: a reply to another taskUUID (a replaying proxy) is a failure', async () => {
    const server = createServer((req, res) => {
      req.resume()
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ data: [{ taskType: 'textInference', taskUUID: 'someone-elses-task', text: '{"safe": true, "categories": [], "confidence": 0.99}', finishReason: 'stop' }] }))
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const { moderate } = await buildService({ env: providerEnv('runware', `http://127.0.0.1:${(server.address() as AddressInfo).port}`) })
      expect(await verdictOf(await moderate({ text: fresh() }))).toMatchObject({ source: 'fallback', fallback_reason: 'upstream_error', safe: false })
    } finally {
      server.close()
    }
  })

  it('leaves thinkingLevel out for a Runware model that refuses every level, and an error\'s echo of the key out of the logs', async () => {
    const refusing = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const [task] = JSON.parse(Buffer.concat(chunks).toString()) as RunwareTask[]
        res.writeHead(task!.settings?.thinkingLevel ? 400 : 200, { 'content-type': 'application/json' })
        res.end(
          JSON.stringify(
            task!.settings?.thinkingLevel
              ? { errors: [{ code: 'invalidParameter', message: 'key test-runware-key: this model takes no thinkingLevel', parameter: 'settings.thinkingLevel' }] }
              : { data: [{ taskType: 'textInference', taskUUID: task!.taskUUID, text: '{"safe": true, "categories": [], "confidence": 0.9}', finishReason: 'stop' }] },
          ),
        )
      })
    })
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve))
    try {
      const { moderate } = await buildService({ env: providerEnv('runware', `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`) })
      expect((await verdictOf(await moderate({ text: fresh() }))).source).toBe('model')
    } finally {
      refusing.close()
    }
    // The same key echoed in an upstream error is not logged.
    const { moderate, logs } = await buildService({ gemini: fake, provider: 'runware' })
    fake.script({ status: 500, message: 'bad key test-runware-key' })
    await moderate({ text: fresh() })
    expect(JSON.stringify(logs)).not.toContain('test-runware-key')
    expect(JSON.stringify(logs)).toContain('[redacted]')
  })

  it('refuses base URLs with credentials in them', async () => {
    await expect(buildService({ env: { MODERATION_PROVIDER: 'openai-compatible', OPENAI_COMPATIBLE_BASE_URL: 'https://user:sk-secret@gateway.example/v1' } })).rejects.toThrow(
      /OPENAI_COMPATIBLE_BASE_URL: put credentials in the key setting/,
    )
  })

  it('keeps the Gemini API on the Gemini API whatever the SDK\'s own environment variables say', async () => {
    vi.stubEnv('GOOGLE_GENAI_USE_VERTEXAI', 'true')
    vi.stubEnv('GOOGLE_CLOUD_PROJECT', 'someone-elses-project')
    vi.stubEnv('GOOGLE_GEMINI_BASE_URL', 'http://127.0.0.1:9/elsewhere')
    try {
      const { moderate } = await buildService({ gemini: fake })
      expect((await verdictOf(await moderate({ text: fresh() }))).source).toBe('model')
      expect(fake.requests[0]!.path).toBe('/v1beta/models/gemini-3.5-flash:generateContent')
      expect(fake.requests[0]!.apiKey).toBe('test-key-not-secret')
    } finally {
      vi.unstubAllEnvs()
    }
  })
})

describe('Runware tasks', () => {
  it('sends one textInference task with a fresh taskUUID each call, the settings, and the key', async () => {
    const { moderate } = await buildService({ gemini: fake, provider: 'runware' })
    await moderate({ text: fresh() })
    await moderate({ text: fresh() })
    const tasks = fake.requests.map((r) => (r.raw as RunwareTask[])[0]!)
    expect(tasks[0]).toMatchObject({ taskType: 'textInference', model: 'google:gemini@3-flash', settings: { maxTokens: 384, thinkingLevel: 'minimal', temperature: 0 } })
    expect(tasks[0]!.taskUUID).toMatch(/^[0-9a-f-]{36}$/)
    expect(tasks[0]!.taskUUID).not.toBe(tasks[1]!.taskUUID)
    expect(fake.requests[0]!.authorization).toBe('Bearer test-runware-key')
  })
})

describe('Vertex AI', () => {
  it('uses express mode with a key: the publisher path and x-goog-api-key', async () => {
    const { moderate } = await buildService({ gemini: fake, provider: 'vertex' })
    await moderate({ text: fresh() })
    expect(fake.requests[0]!.path).toBe('/v1beta1/publishers/google/models/gemini-3.5-flash:generateContent')
    expect(fake.requests[0]!.apiKey).toBe('test-vertex-key')
  })

  it('uses Google credentials with a project: the project path and a bearer token from the token endpoint', async () => {
    let tokenRequests = 0
    const tokens = createServer((req, res) => {
      tokenRequests++
      req.resume()
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ access_token: 'fake-vertex-token', expires_in: 3600, token_type: 'Bearer' }))
    })
    await new Promise<void>((resolve) => tokens.listen(0, '127.0.0.1', resolve))
    try {
      const tokenUrl = `http://127.0.0.1:${(tokens.address() as AddressInfo).port}/token`
      const { moderate } = await buildService({
        env: { MODERATION_PROVIDER: 'vertex', VERTEX_PROJECT: 'my-project', VERTEX_LOCATION: 'europe-west4', VERTEX_BASE_URL: fake.url },
        providerOptions: {
          vertexAuth: {
            credentials: { type: 'authorized_user', client_id: 'id', client_secret: 'secret', refresh_token: 'refresh' },
            clientOptions: { endpoints: { oauth2TokenUrl: tokenUrl } },
          },
        },
      })
      expect((await verdictOf(await moderate({ text: fresh() }))).source).toBe('model')
      expect(fake.requests[0]!.path).toBe('/v1beta1/projects/my-project/locations/europe-west4/publishers/google/models/gemini-3.5-flash:generateContent')
      expect(fake.requests[0]!.authorization).toBe('Bearer fake-vertex-token')
      expect(tokenRequests).toBe(1)
    } finally {
      tokens.close()
    }
  })
})

describe('choosing providers by configuration', () => {
  it('refuses to start when the chosen provider lacks its settings, naming them', async () => {
    await expect(buildService({ env: { MODERATION_PROVIDER: 'runware' } })).rejects.toThrow(/MODERATION_PROVIDER is runware, which needs RUNWARE_API_KEY/)
    await expect(buildService({ env: { MODERATION_PROVIDER: 'openai-compatible' } })).rejects.toThrow(ConfigError)
    await expect(buildService({ env: { MODERATION_PROVIDER: 'vertex' } })).rejects.toThrow(/VERTEX_PROJECT .* or VERTEX_API_KEY/)
  })

  it('still runs on the local classifier with no key at all', async () => {
    const { app, moderate } = await buildService()
    expect(await (await app.request('/readyz')).json()).toMatchObject({ mode: 'local' })
    expect((await verdictOf(await moderate({ text: fresh() }))).source).toBe('local')
  })

  it('lets a policy pick another configured provider and model, keeping their verdicts apart in the cache', async () => {
    const defaultYaml = readFileSync('policies/default.yaml', 'utf8')
    const viaRunware = stringify({ ...(parse(defaultYaml) as object), provider: 'runware', model: 'google:gemini@3-flash' })
    const policies = await loadPolicies({ 'default.yaml': defaultYaml, 'runware.yaml': viaRunware }, 'default')
    const env = { ...providerEnv('gemini', fake.url), ...providerEnv('runware', fake.url), MODERATION_PROVIDER: 'gemini' }
    const { moderate, app } = await buildService({ env, policies })
    const text = fresh()
    expect((await verdictOf(await moderate({ text }))).source).toBe('model')
    expect((await verdictOf(await moderate({ text, policy: 'runware' }))).source).toBe('model')
    expect(fake.requests.map((r) => r.wire)).toEqual(['gemini', 'runware'])
    expect((await verdictOf(await moderate({ text, policy: 'runware' }))).source).toBe('cache')
    const listed = (await (await app.request('/v1/policies')).json()) as { policies: { name: string; provider: string; model: string }[] }
    expect(listed.policies.map(({ name, provider, model }) => ({ name, provider, model }))).toEqual([
      { name: 'default', provider: 'gemini', model: 'gemini-3.5-flash' },
      { name: 'runware', provider: 'runware', model: 'google:gemini@3-flash' },
    ])
  })

  it('refuses a policy whose provider is not configured', async () => {
    const defaultYaml = readFileSync('policies/default.yaml', 'utf8')
    const policies = await loadPolicies({ 'default.yaml': defaultYaml, 'edge.yaml': stringify({ ...(parse(defaultYaml) as object), provider: 'vertex' }) }, 'default')
    await expect(buildService({ gemini: fake, policies })).rejects.toThrow(/policy edge uses provider vertex, whose settings are missing/)
  })
})
