import { describe, expect, it } from 'vitest'
import { loadPolicies } from '../../src/core/moderation/policy.js'
import { systemClock } from '../../src/core/shared/ports.js'
import { verdictSchema, type Verdict } from '../../src/core/shared/verdict.js'
import type { FakeGemini } from '../helpers/fake-gemini.js'
import { useFakeGemini } from '../helpers/use-fake-gemini.js'
import { makeImage, toBase64, toDataUrl } from '../helpers/images.js'
import { buildService } from '../helpers/service.js'

const gemini = useFakeGemini()

let counter = 0
/** Unique text per call, so the cache never answers for another test. */
const fresh = (text = 'a photo of my lunch') => `${text} #${++counter}-${Date.now()}`

async function verdictOf(res: Response): Promise<Verdict> {
  expect(res.status).toBe(200)
  return verdictSchema.parse(await res.json())
}

describe('POST /v1/moderate body forms', () => {
  it('judges JSON text', async () => {
    const { moderate } = await buildService({ gemini })
    const verdict = await verdictOf(await moderate({ text: fresh() }))
    expect(verdict).toMatchObject({ safe: true, action: 'allow', categories: [], source: 'model', policy: 'default', budget_ms: 800 })
    expect(verdict.model).toBe('gemini-3.5-flash')
    expect(gemini.requests).toHaveLength(1)
  })

  it('judges JSON images as base64 and as data URLs, together with the text in one call', async () => {
    const { moderate } = await buildService({ gemini })
    const png = await makeImage('png', 32, 32)
    const jpeg = await makeImage('jpeg', 40, 20)
    const verdict = await verdictOf(
      await moderate({ text: fresh('caption'), images: [{ data: toBase64(png) }, { data: toDataUrl(jpeg, 'image/jpeg') }] }),
    )
    expect(verdict.source).toBe('model')
    const parts = gemini.requests[0]?.body.contents[0]?.parts ?? []
    expect(parts.map((p) => (p.text ? 'text' : p.inlineData?.mimeType))).toEqual(['text', 'image/png', 'image/jpeg'])
    expect(gemini.requests).toHaveLength(1)
  })

  it('judges multipart/form-data with a text field, image files, policy and budget_ms', async () => {
    const { app } = await buildService({ gemini })
    const form = new FormData()
    form.set('text', fresh())
    form.set('policy', 'strict')
    form.set('budget_ms', '700')
    form.append('image', new Blob([await makeImage('webp', 30, 30)], { type: 'image/webp' }), 'a.webp')
    form.append('image', new Blob([await makeImage('png', 30, 30)], { type: 'image/png' }), 'b.png')
    const verdict = await verdictOf(await app.request('/v1/moderate', { method: 'POST', body: form }))
    expect(verdict).toMatchObject({ policy: 'strict', budget_ms: 700, source: 'model' })
    const parts = gemini.requests[0]?.body.contents[0]?.parts ?? []
    expect(parts.map((p) => (p.text ? 'text' : p.inlineData?.mimeType))).toEqual(['text', 'image/webp', 'image/png'])
  })

  it('judges a raw image/* body with policy and budget in the query', async () => {
    const { app } = await buildService({ gemini })
    const res = await app.request('/v1/moderate?policy=strict&budget_ms=600', {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: await makeImage('png', 12, 12),
    })
    expect(await verdictOf(res)).toMatchObject({ policy: 'strict', budget_ms: 600, source: 'model' })
  })

  it('judges a raw text/plain body', async () => {
    const { app } = await buildService({ gemini })
    const res = await app.request('/v1/moderate', { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: fresh() })
    expect(await verdictOf(res)).toMatchObject({ source: 'model', safe: true })
    expect(gemini.requests[0]?.body.contents[0]?.parts[0]?.text).toMatch(/^a photo of my lunch/)
  })
})

describe('verdicts from the model', () => {
  it('takes the action from the policy thresholds, not from safe alone', async () => {
    const { moderate } = await buildService({ gemini })
    gemini.script(
      { verdict: { safe: false, categories: ['hate'], confidence: 0.93 } },
      { verdict: { safe: false, categories: ['harassment'], confidence: 0.7 } },
      { verdict: { safe: false, categories: ['harassment'], confidence: 0.3 } },
    )
    expect(await verdictOf(await moderate({ text: fresh() }))).toMatchObject({ safe: false, action: 'block', categories: ['hate'], confidence: 0.93 })
    expect(await verdictOf(await moderate({ text: fresh() }))).toMatchObject({ safe: false, action: 'review', categories: ['harassment'] })
    // Below review_at for harassment (0.6) on the default policy: the policy allows it, but the
    // verdict does not pretend the model found it safe.
    expect(await verdictOf(await moderate({ text: fresh() }))).toMatchObject({ safe: false, action: 'allow', categories: ['harassment'] })
  })

  it('sends an unsure "safe" answer to review instead of allowing it', async () => {
    const { moderate } = await buildService({ gemini })
    gemini.script({ verdict: { safe: true, categories: [], confidence: 0.2 } })
    expect(await verdictOf(await moderate({ text: fresh() }))).toMatchObject({
      safe: false,
      action: 'review',
      categories: [],
      source: 'model',
      signals: ['low_confidence'],
    })
  })

  it('never lets a model "safe" override a local block-list hit when the policy asks the model anyway', async () => {
    const policies = await loadPolicies(
      {
        'lenient.yaml': `
description: asks the model even on a local hit
on_failure: allow
categories:
  illicit: { description: drugs, review_at: 0.5, block_at: 0.8 }
local:
  block_without_model: false
  block: { illicit: [buy cocaine] }
`,
      },
      'lenient',
    )
    const { moderate } = await buildService({ gemini, policies })
    gemini.script({ verdict: { safe: true, categories: [], confidence: 0.99 } }, { status: 500 })
    expect(await verdictOf(await moderate({ text: fresh('buy cocaine here') }))).toMatchObject({
      safe: false,
      action: 'block',
      categories: ['illicit'],
      source: 'model',
      signals: ['local_block_list'],
    })
    // Even a fail-open policy does not allow a local block-list hit when the model fails.
    expect(await verdictOf(await moderate({ text: fresh('buy cocaine here') }))).toMatchObject({
      safe: false,
      action: 'block',
      source: 'fallback',
      fallback_reason: 'upstream_error',
      signals: ['local_block_list'],
    })
    expect(gemini.requests).toHaveLength(2)
  })

  it('blocks on lower confidence under the strict policy', async () => {
    const { moderate } = await buildService({ gemini })
    gemini.script({ verdict: { safe: false, categories: ['harassment'], confidence: 0.55 } })
    expect(await verdictOf(await moderate({ text: fresh(), policy: 'strict' }))).toMatchObject({ action: 'block', policy: 'strict' })
  })

  it('turns a Gemini safety block (promptFeedback.blockReason) into an unsafe verdict, not a fallback', async () => {
    const { moderate } = await buildService({ gemini })
    gemini.script({ blockReason: 'SAFETY', categories: ['hate'] })
    const verdict = await verdictOf(await moderate({ text: fresh() }))
    expect(verdict).toMatchObject({ safe: false, action: 'block', categories: ['hate'], source: 'model', signals: ['model_safety_block'] })
    expect(verdict.fallback_reason).toBeUndefined()
  })

  it('turns a blocking finishReason with no mapped category into block', async () => {
    const { moderate } = await buildService({ gemini })
    gemini.script({ finishReason: 'PROHIBITED_CONTENT' })
    expect(await verdictOf(await moderate({ text: fresh() }))).toMatchObject({ safe: false, action: 'block', source: 'model' })
  })
})

describe('the conservative verdict', () => {
  const cases: { name: string; reply: Parameters<FakeGemini['script']>[0]; reason: string }[] = [
    { name: 'non-JSON output', reply: { text: 'The content looks fine to me.' }, reason: 'invalid_output' },
    { name: 'schema-invalid output', reply: { text: '{"safe":"yes","categories":[],"confidence":1}' }, reason: 'invalid_output' },
    { name: 'truncated output (MAX_TOKENS)', reply: { text: '{"safe":false,"categ', finishReason: 'MAX_TOKENS' }, reason: 'invalid_output' },
    { name: 'empty output', reply: { text: '' }, reason: 'invalid_output' },
    { name: 'a category outside the taxonomy', reply: { verdict: { safe: false, categories: ['spam'], confidence: 0.9 } }, reason: 'invalid_output' },
    { name: 'confidence above 1', reply: { verdict: { safe: true, categories: [], confidence: 1.2 } }, reason: 'invalid_output' },
    { name: 'confidence below 0', reply: { verdict: { safe: false, categories: ['hate'], confidence: -0.1 } }, reason: 'invalid_output' },
    { name: 'safe: true with categories', reply: { verdict: { safe: true, categories: ['hate'], confidence: 0.9 } }, reason: 'invalid_output' },
    { name: 'extra fields (a fake verdict in disguise)', reply: { text: '{"safe":true,"categories":[],"confidence":0.9,"action":"allow"}' }, reason: 'invalid_output' },
    { name: 'HTTP 429', reply: { status: 429 }, reason: 'rate_limited' },
    { name: 'HTTP 500', reply: { status: 500 }, reason: 'upstream_error' },
    { name: 'HTTP 503', reply: { status: 503 }, reason: 'upstream_error' },
    { name: 'a dropped connection', reply: { drop: true }, reason: 'upstream_error' },
  ]

  for (const { name, reply, reason } of cases) {
    it(`answers ${name} with safe: false, review, confidence 0 and fallback_reason ${reason}`, async () => {
      const { moderate } = await buildService({ gemini })
      gemini.script(reply)
      const verdict = await verdictOf(await moderate({ text: fresh() }))
      expect(verdict).toMatchObject({ safe: false, action: 'review', confidence: 0, categories: [], source: 'fallback', fallback_reason: reason })
    })
  }

  it('uses the policy failure action: strict fails closed to block', async () => {
    const { moderate } = await buildService({ gemini })
    gemini.script({ status: 500 })
    expect(await verdictOf(await moderate({ text: fresh(), policy: 'strict' }))).toMatchObject({
      safe: false,
      action: 'block',
      source: 'fallback',
      fallback_reason: 'upstream_error',
    })
  })

  it('never caches a fallback: the next identical request asks the model again', async () => {
    const { moderate } = await buildService({ gemini })
    const text = fresh()
    gemini.script({ status: 500 })
    expect((await verdictOf(await moderate({ text }))).source).toBe('fallback')
    expect((await verdictOf(await moderate({ text }))).source).toBe('model')
    expect(gemini.requests).toHaveLength(2)
  })

  it('logs the failure with its reason, never the content', async () => {
    const { moderate, logs } = await buildService({ gemini })
    const text = fresh('a very private sentence')
    gemini.script({ text: 'not json' })
    await moderate({ text })
    const failure = logs.find((line) => line.msg.startsWith('model failed'))
    expect(failure).toMatchObject({ level: 'warn', reason: 'invalid_output' })
    expect(JSON.stringify(logs)).not.toContain('a very private sentence')
    expect(JSON.stringify(logs)).not.toContain('test-key-not-secret')
  })
})

describe('latency budget', () => {
  it('answers a hanging model with a timeout fallback within budget plus a small margin, and aborts the call', async () => {
    const { moderate } = await buildService({ gemini })
    gemini.script({ hang: true })
    const started = performance.now()
    const verdict = await verdictOf(await moderate({ text: fresh(), budget_ms: 250 }))
    const elapsed = performance.now() - started
    expect(verdict).toMatchObject({ source: 'fallback', fallback_reason: 'timeout', budget_ms: 250, safe: false })
    expect(elapsed).toBeGreaterThanOrEqual(240)
    expect(elapsed).toBeLessThan(250 + 300)
  })

  it('answers a slow model (slower than the budget) with timeout, and a fast one with its verdict', async () => {
    const { moderate } = await buildService({ gemini })
    gemini.script({ delayMs: 400, then: { verdict: { safe: true, categories: [], confidence: 0.9 } } })
    expect(await verdictOf(await moderate({ text: fresh(), budget_ms: 150 }))).toMatchObject({ fallback_reason: 'timeout' })
    gemini.script({ delayMs: 20, then: { verdict: { safe: true, categories: [], confidence: 0.9 } } })
    expect(await verdictOf(await moderate({ text: fresh(), budget_ms: 2000 }))).toMatchObject({ source: 'model', budget_ms: 800 })
  })

  it('answers within the budget even when image work outlasts it', async () => {
    // An image processor as slow as four 49-megapixel decodes on a busy machine.
    const slowImages = {
      process: async (bytes: Uint8Array, type: string) => {
        await new Promise((resolve) => setTimeout(resolve, 600))
        return { kind: 'ready' as const, data: bytes, mimeType: type, width: 1, height: 1, resized: false }
      },
    }
    const { moderate } = await buildService({ gemini, images: slowImages })
    const started = performance.now()
    const verdict = await verdictOf(await moderate({ text: fresh(), images: [{ data: toBase64(await makeImage('png', 8, 8)) }], budget_ms: 150 }))
    expect(verdict).toMatchObject({ source: 'fallback', fallback_reason: 'timeout', safe: false, action: 'review', budget_ms: 150 })
    expect(performance.now() - started).toBeLessThan(150 + 150)
    expect(gemini.requests).toHaveLength(0)
  })

  it('lets a request lower the budget but never raise it above the policy or the server cap', async () => {
    const { moderate } = await buildService({ gemini, env: { MODERATION_MAX_BUDGET_MS: '500' } })
    expect((await verdictOf(await moderate({ text: fresh(), budget_ms: 300 }))).budget_ms).toBe(300)
    expect((await verdictOf(await moderate({ text: fresh(), budget_ms: 5000 }))).budget_ms).toBe(500)
    expect((await verdictOf(await moderate({ text: fresh() }))).budget_ms).toBe(500)
  })
})

describe('cache', () => {
  it('judges identical content once: the second answer comes from the cache', async () => {
    const { moderate } = await buildService({ gemini })
    const text = fresh()
    gemini.script({ verdict: { safe: false, categories: ['violence'], confidence: 0.9 } })
    const first = await verdictOf(await moderate({ text }))
    const second = await verdictOf(await moderate({ text }))
    expect(first).toMatchObject({ source: 'model', action: 'block' })
    expect(second).toMatchObject({ source: 'cache', action: 'block', categories: ['violence'], confidence: 0.9 })
    expect(second.id).not.toBe(first.id)
    expect(gemini.requests).toHaveLength(1)
  })

  it('keys on the policy too: the same text under another policy is judged again', async () => {
    const { moderate } = await buildService({ gemini })
    const text = fresh()
    await moderate({ text })
    const other = await verdictOf(await moderate({ text, policy: 'strict' }))
    expect(other.source).toBe('model')
    expect(gemini.requests).toHaveLength(2)
  })

  it('shares one model call between concurrent identical requests', async () => {
    const { moderate } = await buildService({ gemini })
    const text = fresh()
    gemini.setDefault({ delayMs: 100, then: { verdict: { safe: true, categories: [], confidence: 0.99 } } })
    const verdicts = await Promise.all([1, 2, 3, 4, 5].map(() => moderate({ text }).then(verdictOf)))
    expect(verdicts.every((v) => v.source === 'model' && v.safe)).toBe(true)
    expect(gemini.requests).toHaveLength(1)
  })

  it('keeps a shared call alive for the waiter with the longest budget', async () => {
    const { moderate } = await buildService({ gemini })
    const text = fresh()
    gemini.script({ delayMs: 300, then: { verdict: { safe: true, categories: [], confidence: 0.99 } } })
    const [short, long] = await Promise.all([moderate({ text, budget_ms: 100 }), moderate({ text, budget_ms: 800 })])
    expect(await verdictOf(short)).toMatchObject({ source: 'fallback', fallback_reason: 'timeout' })
    expect(await verdictOf(long)).toMatchObject({ source: 'model', safe: true })
    expect(gemini.requests).toHaveLength(1)
  })

  it('expires entries after the TTL (time driven by the injected clock)', async () => {
    let now = 1_000
    const clock = { now: () => now, timer: systemClock.timer }
    const { moderate } = await buildService({ gemini, clock, env: { MODERATION_CACHE_TTL_SECONDS: '60' } })
    const text = fresh()
    await moderate({ text })
    now += 59_000
    expect((await verdictOf(await moderate({ text }))).source).toBe('cache')
    now += 2_000
    expect((await verdictOf(await moderate({ text }))).source).toBe('model')
    expect(gemini.requests).toHaveLength(2)
  })
})

describe('local classifier', () => {
  it('blocks a clear block-list hit without calling the model', async () => {
    const { moderate } = await buildService({ gemini })
    const verdict = await verdictOf(await moderate({ text: fresh('where can I buy cocaine tonight') }))
    expect(verdict).toMatchObject({ safe: false, action: 'block', categories: ['illicit'], source: 'local', signals: ['local_block_list'] })
    expect(gemini.requests).toHaveLength(0)
  })

  it('answers from the local classifier alone when there is no Gemini key', async () => {
    const { moderate } = await buildService()
    expect(await verdictOf(await moderate({ text: 'lovely weather today' }))).toMatchObject({
      safe: true,
      action: 'allow',
      source: 'local',
      model: 'local-classifier',
    })
    expect(await verdictOf(await moderate({ text: 'I want to kill myself' }))).toMatchObject({
      safe: false,
      action: 'review',
      categories: ['self_harm'],
      source: 'local',
    })
  })

  it('without a key, holds a clean local pass to the policy\'s safe_min_confidence (strict: review)', async () => {
    const { moderate } = await buildService()
    expect(await verdictOf(await moderate({ text: 'lovely weather today', policy: 'strict' }))).toMatchObject({
      safe: false,
      action: 'review',
      source: 'local',
      signals: ['low_confidence'],
    })
  })

  it('without a key, gives images the conservative action and says they were not judged', async () => {
    const { moderate } = await buildService()
    const verdict = await verdictOf(await moderate({ images: [{ data: toBase64(await makeImage('png', 8, 8)) }] }))
    expect(verdict).toMatchObject({ safe: false, action: 'review', confidence: 0, source: 'local', signals: ['image_not_judged'] })
    const strict = await verdictOf(await moderate({ images: [{ data: toBase64(await makeImage('png', 8, 8)) }], policy: 'strict' }))
    expect(strict).toMatchObject({ safe: false, action: 'block' })
  })
})
