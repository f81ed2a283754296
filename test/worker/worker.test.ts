import { env, SELF } from 'cloudflare:test'
import { beforeEach, describe, expect, inject, it, vi } from 'vitest'
import { imageSize } from 'image-size'
import { createWorkerHandler } from '../../src/entry/worker-handler.js'
import { importWebhookSecrets, signWebhook } from '../../src/core/webhooks/webhook-signature.js'

// These run inside workerd: the Worker's real fetch handler (wrangler.toml's main), talking to
// the fake Gemini in the Node process over loopback HTTP.
const gemini = inject('geminiUrl')
const images = inject('images')

const control = (path: string, body?: unknown) =>
  fetch(`${gemini}/__fake/${path}`, body === undefined ? { method: 'POST' } : { method: 'POST', body: JSON.stringify(body) })
const script = (...replies: unknown[]) => control('script', replies)
const modelRequests = async () => (await (await fetch(`${gemini}/__fake/requests`)).json()) as { body: { contents: { parts: { inlineData?: { mimeType: string; data: string } }[] }[] } }[]

let counter = 0
const fresh = (text = 'worker text') => `${text} #${++counter}-${Date.now()}`
const moderate = (body: unknown) =>
  SELF.fetch('https://moderation.example/v1/moderate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

beforeEach(async () => {
  await control('reset')
})

describe('the Worker', () => {
  it('answers health checks in gemini mode, with the policies bundled and versioned as on Node', async () => {
    expect(await (await SELF.fetch('https://moderation.example/readyz')).json()).toMatchObject({ status: 'ready', mode: 'gemini', policies: 2 })
    const listed = (await (await SELF.fetch('https://moderation.example/v1/policies')).json()) as { policies: { name: string; version: string }[] }
    // Bundled at build time, validated the same way, versioned the same as on Node.
    expect(Object.fromEntries(listed.policies.map((p) => [p.name, p.version]))).toEqual(inject('policyVersions'))
    expect(((await (await SELF.fetch('https://moderation.example/openapi.json')).json()) as { openapi: string }).openapi).toBe('3.1.0')
    expect((await SELF.fetch('https://moderation.example/docs')).headers.get('content-type')).toMatch(/text\/html/)
  })

  it('serves the playground page, its CSP hashes computed in workerd, and sends a browser at / there', async () => {
    const res = await SELF.fetch('https://moderation.example/playground')
    expect(res.status).toBe(200)
    const html = await res.text()
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? ''
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(script)))
    expect(res.headers.get('content-security-policy')).toContain(`script-src 'sha256-${btoa(String.fromCharCode(...digest))}'`)
    expect(html).toContain('id="policy"')
    const root = await SELF.fetch('https://moderation.example/', { headers: { accept: 'text/html' }, redirect: 'manual' })
    expect([root.status, root.headers.get('location')]).toEqual([302, '/playground'])
  })

  it("serves Comment Analyzer's discovery document with the Worker's own origin as rootUrl", async () => {
    const document = (await (await SELF.fetch('https://moderation.example/$discovery/rest?version=v1alpha1')).json()) as { rootUrl: string; resources: { comments: { methods: { analyze: { path: string } } } } }
    expect(document.rootUrl).toBe('https://moderation.example/')
    expect(document.resources.comments.methods.analyze.path).toBe('v1alpha1/comments:analyze')
  })

  it('judges text through Gemini, with the same verdict shape as on Node', async () => {
    await script({ verdict: { safe: false, categories: ['hate'], confidence: 0.93 } })
    const res = await moderate({ text: fresh() })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-request-id')).toBeTruthy()
    expect(await res.json()).toMatchObject({ safe: false, action: 'block', categories: ['hate'], source: 'model', policy: 'default' })
    expect(await modelRequests()).toHaveLength(1)
  })

  it('judges a raw text/plain body and a multipart form', async () => {
    const plain = await SELF.fetch('https://moderation.example/v1/moderate?policy=strict', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: fresh(),
    })
    expect(await plain.json()).toMatchObject({ source: 'model', policy: 'strict' })
    const form = new FormData()
    form.set('text', fresh())
    form.append('image', new Blob([Uint8Array.from(atob(images.png), (c) => c.charCodeAt(0))], { type: 'image/png' }), 'a.png')
    const multipart = await SELF.fetch('https://moderation.example/v1/moderate', { method: 'POST', body: form })
    expect(await multipart.json()).toMatchObject({ source: 'model' })
  })

  it('sends an image to the model after checking its header', async () => {
    const res = await moderate({ text: fresh('caption'), images: [{ data: `data:image/png;base64,${images.png}` }] })
    expect(await res.json()).toMatchObject({ source: 'model', safe: true })
    const [sent] = await modelRequests()
    expect(sent?.body.contents[0]?.parts[1]?.inlineData?.mimeType).toBe('image/png')
  })

  it('downscales a large image in WASM before it is sent (long side 1024, JPEG)', async () => {
    const res = await moderate({ images: [{ data: images.largePng }] })
    expect(await res.json()).toMatchObject({ source: 'model' })
    const part = (await modelRequests())[0]?.body.contents[0]?.parts[0]?.inlineData
    expect(part?.mimeType).toBe('image/jpeg')
    const sent = imageSize(Uint8Array.from(atob(part?.data ?? ''), (c) => c.charCodeAt(0)))
    expect([sent.type, sent.width, sent.height]).toEqual(['jpg', 1024, 768])
  })

  it('keeps the budget with a large image: sends it as it is rather than decode past the deadline', async () => {
    const started = Date.now()
    const verdict = await (await moderate({ images: [{ data: images.largePng }], budget_ms: 120 })).json()
    expect(Date.now() - started).toBeLessThan(120 + 1000)
    expect(verdict).toMatchObject({ budget_ms: 120 })
    const part = (await modelRequests())[0]?.body.contents[0]?.parts[0]?.inlineData
    if (part) expect([part.mimeType, part.data]).toEqual(['image/png', images.largePng])
  })

  it('refuses a truncated JPEG with 422 after trying to decode it', async () => {
    const res = await moderate({ images: [{ data: images.truncatedJpeg }] })
    expect(res.status).toBe(422)
    expect(await res.json()).toMatchObject({ error: { code: 'unprocessable_content', message: expect.stringMatching(/corrupt image\/jpeg/) } })
  })

  it('never calls an animation safe when only its first frame could be judged', async () => {
    const verdict = await (await moderate({ images: [{ data: images.animatedGif }] })).json()
    expect(verdict).toMatchObject({ safe: false, action: 'review', source: 'model', signals: ['animation_first_frame_only'] })
  })

  it('refuses a decompression bomb from its header with 422', async () => {
    const res = await moderate({ images: [{ data: images.bomb }] })
    expect(res.status).toBe(422)
    expect(await res.json()).toMatchObject({ error: { code: 'unprocessable_content' } })
    expect(await modelRequests()).toHaveLength(0)
  })

  it('answers a hanging model with the timeout fallback inside the budget', async () => {
    await script({ hang: true })
    const started = Date.now()
    const verdict = await (await moderate({ text: fresh(), budget_ms: 200 })).json()
    expect(verdict).toMatchObject({ safe: false, action: 'review', source: 'fallback', fallback_reason: 'timeout', budget_ms: 200 })
    expect(Date.now() - started).toBeLessThan(200 + 1000)
  })

  it('answers a burst of identical uploads, each request on its own model call', async () => {
    // workerd forbids one request to touch another's I/O (timers, fetches): no sharing across requests.
    const text = fresh('burst')
    await script({ delayMs: 50, then: { verdict: { safe: true, categories: [], confidence: 0.99 } } })
    const responses = await Promise.all([1, 2, 3, 4].map(() => moderate({ text })))
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200])
    const verdicts = (await Promise.all(responses.map((r) => r.json()))) as { safe: boolean; source: string }[]
    expect(verdicts.every((v) => v.safe && ['model', 'cache'].includes(v.source))).toBe(true)
  })

  it('answers invalid model output with the invalid_output fallback', async () => {
    await script({ text: '{"safe": "sure"}' })
    expect(await (await moderate({ text: fresh() })).json()).toMatchObject({ source: 'fallback', fallback_reason: 'invalid_output', confidence: 0 })
  })

  it('runs the bundled text classifier: the same scores as on Node, a clear hit blocks when the model fails', async () => {
    const { text, scores } = inject('classifierProbe')
    await script({ status: 500 })
    const verdict = await (await moderate({ text })).json() // fallbacks are never cached: no need for fresh text
    expect(verdict).toMatchObject({ source: 'fallback', fallback_reason: 'upstream_error', action: 'block', signals: expect.arrayContaining(['local_classifier']) })
    const handler = createWorkerHandler()
    const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} }
    const local = await handler.fetch(new Request('https://moderation.example/v1/moderate', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: text }), {}, ctx)
    expect(await local.json()).toMatchObject({ source: 'local', action: 'block', categories: ['hate'], local_scores: scores })
  })

  it('gives bad input the same 4xx envelope as on Node', async () => {
    const malformed = await SELF.fetch('https://moderation.example/v1/moderate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' })
    expect(malformed.status).toBe(400)
    expect(await malformed.json()).toMatchObject({ error: { code: 'invalid_request' } })
    const xml = await SELF.fetch('https://moderation.example/v1/moderate', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a/>' })
    expect(xml.status).toBe(415)
  })
})

describe('configuration from bindings', () => {
  it('answers 500 with the error envelope, not a crash, when the config is bad', async () => {
    const handler = createWorkerHandler()
    const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} }
    const res = await handler.fetch(new Request('https://moderation.example/v1/moderate', { method: 'POST', body: 'hi' }), { GEMINI_BASE_URL: 'not a url', MODERATION_MAX_IMAGES: '-3' }, ctx)
    expect(res.status).toBe(500)
    const body = (await res.json()) as { error: { code: string; message: string; request_id: string } }
    expect(body.error.code).toBe('internal_error')
    // Which setting is wrong goes to the Worker's log, not to the caller.
    expect(body.error.message).toBe('service misconfigured; the Worker log names the setting')
    expect(body.error.request_id).toBe(res.headers.get('x-request-id'))
    // Parsed once per isolate: the next request gets the same answer without re-parsing.
    expect((await handler.fetch(new Request('https://moderation.example/healthz'), {}, ctx)).status).toBe(500)
  })
})

describe('numeric vars', () => {
  it('reads a TOML number as a setting instead of dropping it', async () => {
    const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} }
    const res = await createWorkerHandler().fetch(
      new Request('https://moderation.example/v1/moderate', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'eleven char' }),
      { ...env, MODERATION_MAX_TEXT_CHARS: 10 },
      ctx,
    )
    expect(res.status).toBe(413)
  })
})

describe('a verdict cache shared across isolates', () => {
  // Each handler is a fresh app with its own LRU: what a second isolate would be.
  async function judgeTwiceInTwoIsolates(bindings: Record<string, unknown>) {
    const pending: Promise<unknown>[] = []
    const ctx = { waitUntil: (promise: Promise<unknown>) => void pending.push(promise), passThroughOnException() {}, props: {} }
    const text = fresh('shared upload')
    const ask = (handler: ReturnType<typeof createWorkerHandler>) =>
      handler.fetch(
        new Request('https://moderation.example/v1/moderate', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: text }),
        bindings,
        ctx,
      )
    await script({ verdict: { safe: false, categories: ['violence'], confidence: 0.9 } })
    const first = await (await ask(createWorkerHandler())).json()
    await Promise.all(pending) // the shared write, kept alive by waitUntil
    const second = await (await ask(createWorkerHandler())).json()
    return { first, second, calls: (await modelRequests()).length }
  }

  it('judges identical content once through the Cache API (the default)', async () => {
    const { first, second, calls } = await judgeTwiceInTwoIsolates(env)
    expect(first).toMatchObject({ source: 'model', action: 'block' })
    expect(second).toMatchObject({ source: 'cache', action: 'block', categories: ['violence'] })
    expect(calls).toBe(1)
  })

  it('judges identical content once through KV when configured', async () => {
    const { first, second, calls } = await judgeTwiceInTwoIsolates({ ...env, MODERATION_EDGE_CACHE: 'kv' })
    expect(first).toMatchObject({ source: 'model' })
    expect(second).toMatchObject({ source: 'cache', action: 'block' })
    expect(calls).toBe(1)
  })

  it('judges again in each isolate when the shared level is off', async () => {
    const { second, calls } = await judgeTwiceInTwoIsolates({ ...env, MODERATION_EDGE_CACHE: 'none' })
    expect(second).toMatchObject({ source: 'model' })
    expect(calls).toBe(2)
  })

  it('answers 500 when kv is chosen without a VERDICT_CACHE binding', async () => {
    const { VERDICT_CACHE: _unbound, ...rest } = env
    const res = await createWorkerHandler().fetch(new Request('https://moderation.example/healthz'), { ...rest, MODERATION_EDGE_CACHE: 'kv' }, {
      waitUntil() {},
      passThroughOnException() {},
      props: {},
    })
    expect(res.status).toBe(500)
    expect(await res.json()).toMatchObject({ error: { code: 'internal_error', message: expect.stringMatching(/misconfigured/) } })
  })
})

describe('asynchronous moderation on Workers', () => {
  it('answers 202, and the queue consumer delivers the signed verdict to the callback', async () => {
    const webhook = inject('webhook')
    await script({ verdict: { safe: false, categories: ['violence'], confidence: 0.9 } })
    const res = await moderate({ text: fresh('async at the edge'), callback_url: webhook.url })
    expect(res.status).toBe(202)
    const job = (await res.json()) as { id: string; webhook_id: string; status: string }
    expect(job.status).toBe('queued')
    // The consumer runs after the queue's batch timeout (1 s): wait for the receiver to see it.
    await vi.waitFor(
      async () => {
        const received = (await (await fetch(webhook.controlUrl)).json()) as { id: string; verified: boolean; payload?: { data: { action: string } } }[]
        expect(received.find((r) => r.id === job.webhook_id)).toMatchObject({ verified: true, payload: { data: { action: 'block' } } })
      },
      { timeout: 10_000, interval: 100 },
    )
    await vi.waitFor(
      async () => {
        const status = (await (await SELF.fetch(`https://moderation.example/v1/jobs/${job.id}`)).json()) as { status: string }
        expect(status.status).toBe('delivered')
      },
      { timeout: 5_000, interval: 100 },
    )
  })
})

describe('signed requests at the edge', () => {
  it('accepts a request signed with the webhook secret, verified against the one body it read', async () => {
    const keys = await importWebhookSecrets([inject('webhook').secret])
    const body = JSON.stringify({ text: fresh('signed at the edge') })
    const id = `msg_edge_${counter}`
    const timestamp = Math.floor(Date.now() / 1000)
    const headers = { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': await signWebhook(keys, id, timestamp, body) }
    const res = await SELF.fetch('https://moderation.example/v1/moderate', { method: 'POST', headers, body })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ source: 'model' })
    const forged = await SELF.fetch('https://moderation.example/v1/moderate', { method: 'POST', headers: { ...headers, 'webhook-id': `${id}_2` }, body: body.replace('signed', 'altered') })
    expect(forged.status).toBe(401)
  })
})

describe('providers at the edge', () => {
  const bindings: Record<string, Record<string, string>> = {
    // A project as well: at the edge the key (express mode) is what counts.
    vertex: { MODERATION_PROVIDER: 'vertex', VERTEX_API_KEY: 'edge-vertex-key', VERTEX_PROJECT: 'my-project', VERTEX_BASE_URL: gemini },
    'openai-compatible': { MODERATION_PROVIDER: 'openai-compatible', OPENAI_COMPATIBLE_BASE_URL: `${gemini}/v1beta/openai`, OPENAI_COMPATIBLE_API_KEY: 'edge-key' },
    runware: { MODERATION_PROVIDER: 'runware', RUNWARE_API_KEY: 'edge-key', RUNWARE_BASE_URL: `${gemini}/v1` },
  }
  const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} }
  const ask = (handler: ReturnType<typeof createWorkerHandler>, env: Record<string, string>, budget = 800) =>
    handler.fetch(
      new Request('https://moderation.example/v1/moderate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: fresh(), budget_ms: budget }) }),
      { ...env, MODERATION_EDGE_CACHE: 'none' },
      ctx,
    )

  it.each(Object.keys(bindings))('judges through %s, and falls back on its failures inside the budget', async (provider) => {
    const handler = createWorkerHandler()
    const env = bindings[provider]!
    await script({ verdict: { safe: false, categories: ['harassment'], confidence: 0.9 } }, { status: 500 }, { hang: true })
    expect(await (await ask(handler, env)).json()).toMatchObject({ source: 'model', action: 'block', categories: ['harassment'] })
    expect(await (await ask(handler, env)).json()).toMatchObject({ source: 'fallback', fallback_reason: 'upstream_error' })
    expect(await (await ask(handler, env, 200)).json()).toMatchObject({ source: 'fallback', fallback_reason: 'timeout' })
  })

  it('refuses Vertex AI without a key: no application-default credentials at the edge', async () => {
    const res = await createWorkerHandler().fetch(new Request('https://moderation.example/healthz'), { MODERATION_PROVIDER: 'vertex', VERTEX_PROJECT: 'p' }, ctx)
    expect(res.status).toBe(500)
  })
})
