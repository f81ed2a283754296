import OpenAI from 'openai'
import { beforeAll, describe, expect, it } from 'vitest'
import { OPENAI_CATEGORIES } from '../../src/compat/openai-moderation.js'
import { startImageServer } from '../helpers/image-server.js'
import { makeImage, toDataUrl } from '../helpers/images.js'
import { serveForTests } from '../helpers/serve.js'
import { buildService } from '../helpers/service.js'
import { useFakeGemini } from '../helpers/use-fake-gemini.js'

const gemini = useFakeGemini()
let openai: OpenAI
let base: string

beforeAll(async () => {
  const { app } = await buildService({ gemini, env: { MODERATION_API_KEYS: 'client-key' } })
  base = await serveForTests(app)
  // The official client, unchanged but for its base URL.
  openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'client-key', maxRetries: 0 })
})

let counter = 0
const fresh = (text = 'hello') => `${text} #${++counter}-${Date.now()}`

describe('POST /v1/moderations with the official openai client', () => {
  it('refuses bad input in OpenAI\'s error shape, which the SDK reads as its own errors', async () => {
    const error = await openai.moderations.create({ model: 'omni-moderation-latest', input: [] as unknown as string }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    const bad = error as InstanceType<typeof OpenAI.BadRequestError>
    expect(bad.status).toBe(400)
    expect(bad.type).toBe('invalid_request_error')
    expect(bad.code).toBe('invalid_request')
    expect(bad.param).toBeNull()
    expect(bad.message).toMatch(/^400 /)
    const unauthenticated = await new OpenAI({ baseURL: `${base}/v1`, apiKey: 'wrong-key', maxRetries: 0 }).moderations.create({ input: 'hi' }).catch((e: unknown) => e)
    expect(unauthenticated).toBeInstanceOf(OpenAI.AuthenticationError)
    expect((unauthenticated as InstanceType<typeof OpenAI.AuthenticationError>).type).toBe('authentication_error')
  })

  it('moderates a string and answers in OpenAI\'s shape, with all 13 categories', async () => {
    gemini.script({ verdict: { safe: false, categories: ['hate', 'violence'], confidence: 0.92 } })
    const response = await openai.moderations.create({ model: 'omni-moderation-latest', input: fresh('they should all be') })
    expect(response.id).toMatch(/^modr-/)
    expect(response.model).toBe('omni-moderation-latest')
    expect(response.results).toHaveLength(1)
    const [result] = response.results
    expect(Object.keys(result!.categories).sort()).toEqual([...OPENAI_CATEGORIES].sort())
    expect(result).toMatchObject({
      flagged: true,
      categories: { hate: true, 'hate/threatening': true, violence: true, harassment: false, sexual: false },
      category_scores: { hate: 0.92, 'hate/threatening': 0.92, violence: 0.92, 'violence/graphic': 0.92, harassment: 0 },
    })
    expect(result!.category_applied_input_types.hate).toEqual(['text'])
  })

  it('moderates an array of strings concurrently, one result each, in order', async () => {
    gemini.setDefault((request) => {
      const text = request.body.contents[0]?.parts[0]?.text ?? ''
      const unsafe = text.startsWith('bad')
      return { delayMs: 300, then: { verdict: unsafe ? { safe: false, categories: ['harassment'], confidence: 0.95 } : { safe: true, categories: [], confidence: 0.99 } } }
    })
    const started = performance.now()
    const response = await openai.moderations.create({ input: [fresh('good'), fresh('bad'), fresh('good')] })
    expect(response.results.map((r) => r.flagged)).toEqual([false, true, false])
    // Concurrent: three 300 ms model calls take about 300 ms; one after another they would take 900.
    expect(performance.now() - started).toBeLessThan(700)
    expect(response.model).toBe('gemini-3.5-flash')
  })

  it('moderates text and an image data URL as one multimodal input', async () => {
    const image = toDataUrl(await makeImage('png', 32, 32), 'image/png')
    const response = await openai.moderations.create({
      input: [
        { type: 'text', text: fresh('look at this') },
        { type: 'image_url', image_url: { url: image } },
      ],
    })
    expect(response.results).toHaveLength(1)
    expect(response.results[0]!.category_applied_input_types.violence).toEqual(['text', 'image'])
    const parts = gemini.requests.at(-1)?.body.contents[0]?.parts ?? []
    expect(parts.map((p) => (p.text ? 'text' : p.inlineData?.mimeType))).toEqual(['text', 'image/png'])
  })

  it('flags a fallback, with the reason in the moderation field, and scores it 1: never silently unflagged', async () => {
    gemini.script({ status: 503 })
    const response = await openai.moderations.create({ input: fresh() })
    const result = response.results[0]!
    expect(result.flagged).toBe(true)
    expect((result as unknown as { moderation: object }).moderation).toMatchObject({ source: 'fallback', fallback_reason: 'upstream_error' })
    // A client that thresholds scores holds it too: the service cannot tell which category.
    expect(Object.values(result.category_scores).every((score) => score === 1)).toBe(true)
    expect(Object.values(result.categories).every(Boolean)).toBe(true)
  })

  it('scores a flagged verdict OpenAI has no category for (strict policy: pii) so thresholds hold it', async () => {
    gemini.script({ verdict: { safe: false, categories: ['pii'], confidence: 0.9 } })
    const strict = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'client-key', maxRetries: 0, defaultHeaders: { 'x-moderation-policy': 'strict' } })
    const [result] = (await strict.moderations.create({ input: fresh('call me on') })).results
    expect(result!.flagged).toBe(true)
    expect(Math.max(...Object.values(result!.category_scores))).toBe(1)
  })

  it('applies the policy and budget given as headers', async () => {
    const strict = new OpenAI({
      baseURL: `${base}/v1`,
      apiKey: 'client-key',
      maxRetries: 0,
      defaultHeaders: { 'x-moderation-policy': 'strict', 'x-moderation-budget-ms': '300' },
    })
    const response = await strict.moderations.create({ input: fresh() })
    expect((response.results[0] as unknown as { moderation: { policy: string; budget_ms: number } }).moderation).toMatchObject({ policy: 'strict', budget_ms: 300 })
  })

  it('gives a bad item in a batch its own error result without sinking the others', async () => {
    const response = await openai.moderations.create({ input: [fresh(), '   ', fresh()] })
    expect(response.results.map((r) => r.flagged)).toEqual([false, true, false])
    expect((response.results[1] as unknown as { moderation: { error: { code: string } } }).moderation.error.code).toBe('invalid_request')
  })

  it('refuses an image URL it will not fetch, and a wrong key, through the client\'s own errors', async () => {
    await expect(
      openai.moderations.create({ input: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/only data URLs/) })
    const stranger = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'wrong', maxRetries: 0 })
    await expect(stranger.moderations.create({ input: 'hi' })).rejects.toMatchObject({ status: 401 })
  })

  it('answers malformed input with the error envelope', async () => {
    const res = await fetch(`${base}/v1/moderations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer client-key' },
      body: JSON.stringify({ input: [1, 2] }),
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: { code: 'invalid_request', message: expect.stringMatching(/^input/) } })
  })
})

describe('image URLs in /v1/moderations, when MODERATION_FETCH_IMAGE_URLS is on', () => {
  let client: OpenAI
  let origin: Awaited<ReturnType<typeof startImageServer>>
  beforeAll(async () => {
    origin = await startImageServer()
    const { app } = await buildService({ gemini, env: { MODERATION_FETCH_IMAGE_URLS: 'true', MODERATION_FETCH_ALLOWED_HOSTS: '127.0.0.1' } })
    client = new OpenAI({ baseURL: `${await serveForTests(app)}/v1`, apiKey: 'none', maxRetries: 0 })
  })

  it('fetches an http image URL and judges it with the text', async () => {
    const response = await client.moderations.create({
      input: [
        { type: 'text', text: fresh('caption') },
        { type: 'image_url', image_url: { url: `${origin.base}/ok.png` } },
      ],
    })
    expect(response.results[0]!.category_applied_input_types.sexual).toEqual(['text', 'image'])
    const parts = gemini.requests.at(-1)?.body.contents[0]?.parts ?? []
    expect(parts[1]?.inlineData?.mimeType).toBe('image/png')
  })

  it('answers a URL that hangs with the timeout fallback inside the budget', async () => {
    const started = performance.now()
    const response = await client.moderations.create({ input: [{ type: 'image_url', image_url: { url: `${origin.base}/slow` } }], budget_ms: 200 } as never)
    expect(performance.now() - started).toBeLessThan(200 + 400)
    expect(response.results[0]).toMatchObject({ flagged: true, moderation: { source: 'fallback', fallback_reason: 'timeout' } })
    expect(response.results[0]!.category_applied_input_types.violence).toEqual(['image'])
  })

  it('counts image URLs against the image limit before fetching any', async () => {
    const before = origin.requestCount()
    const parts = Array.from({ length: 5 }, () => ({ type: 'image_url' as const, image_url: { url: `${origin.base}/ok.png` } }))
    await expect(client.moderations.create({ input: parts })).rejects.toMatchObject({ status: 413, message: expect.stringMatching(/5 images; at most 4/) })
    expect(origin.requestCount()).toBe(before)
  })

  it('refuses a private address that is not allowed, a redirect elsewhere, and a URL that is no image', async () => {
    await expect(client.moderations.create({ input: [{ type: 'image_url', image_url: { url: 'http://169.254.169.254/latest/meta-data/' } }] })).rejects.toMatchObject({
      status: 422,
      message: expect.stringMatching(/not fetched/),
    })
    await expect(client.moderations.create({ input: [{ type: 'image_url', image_url: { url: `${origin.base}/other-host` } }] })).rejects.toMatchObject({ status: 422 })
    await expect(client.moderations.create({ input: [{ type: 'image_url', image_url: { url: `${origin.base}/text` } }] })).rejects.toMatchObject({
      status: 422,
      message: expect.stringMatching(/not a supported image/),
    })
  })
})
