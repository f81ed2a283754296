import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { ConfigError } from '../../src/config/config.js'
import { loadPolicies, PolicyError } from '../../src/core/moderation/policy.js'
import { loadTextClassifier } from '../../src/core/local/text-classifier.js'
import { readTextClassifier } from '../../src/entry/read-text-classifier.js'
import { makeImage, toBase64 } from '../helpers/images.js'
import { buildService } from '../helpers/service.js'
import { useFakeGemini } from '../helpers/use-fake-gemini.js'

const gemini = useFakeGemini()
// With the shipped model: hate 0.958 (block_at 0.943; a held-out ToxiGen row), and hate 0.27 /
// harassment 0.03 (review_at 0.751 / 0.775). A retrain that moves these shows here first.
const HATEFUL = "Trans women are men and don't deserve womanhood"
const BENIGN = 'I watered the tomatoes this morning'
const shipped = loadTextClassifier(readFileSync('models/text-classifier.bin'))

type Body = {
  source: string
  safe: boolean
  action: string
  categories: string[]
  signals?: string[]
  fallback_reason?: string
  local_scores?: Record<string, number>
  model: string
  confidence: number
}
const verdictOf = async (res: Response) => {
  expect(res.status).toBe(200)
  return (await res.json()) as Body
}

/** The shipped policies plus `custom`: the default policy with its `local` settings changed. */
async function withCustomPolicy(local: Record<string, unknown>, top: Record<string, unknown> = {}) {
  const defaultYaml = readFileSync('policies/default.yaml', 'utf8')
  const file = parse(defaultYaml) as Record<string, unknown> & { local: Record<string, unknown> }
  const custom = stringify({ ...file, ...top, local: { ...file.local, ...local } })
  return loadPolicies({ 'default.yaml': defaultYaml, 'custom.yaml': custom }, 'default')
}

describe('the embedded classifier with no model key', () => {
  it('blocks a clear hit on its own, with its scores and the path that decided', async () => {
    const { moderate } = await buildService()
    const verdict = await verdictOf(await moderate({ text: HATEFUL }))
    expect(verdict).toMatchObject({ source: 'local', safe: false, action: 'block', categories: ['hate'], model: 'local-classifier' })
    expect(verdict.signals).toContain('local_classifier')
    expect(verdict.local_scores?.hate).toBeGreaterThanOrEqual(shipped.header.thresholds.hate!.block_at)
    expect(verdict.confidence).toBe(verdict.local_scores?.hate)
  })

  it('is not talked out of a hit by padding: ordinary sentences around it do not make it safe', async () => {
    const { moderate } = await buildService()
    const filler = ' I watered the tomatoes this morning. The library opens at nine on weekdays. Please find the invoice attached.'
    const verdict = await verdictOf(await moderate({ text: `${HATEFUL}.${filler.repeat(4)}` }))
    expect(verdict).toMatchObject({ source: 'local', safe: false })
    expect(verdict.categories).toContain('hate')
  })

  it("allows the README's example texts: none of them goes to review without a key", async () => {
    const { moderate } = await buildService()
    for (const text of ['see you at the match tonight', 'my new avatar', 'holiday pics', 'holiday pics from the lake', 'hello world', 'new comment', 'first comment', 'second comment', 'new avatar', 'new post', 'great post', 'reply']) {
      const verdict = await verdictOf(await moderate({ text }))
      expect(verdict, text).toMatchObject({ source: 'local', safe: true, action: 'allow', categories: [] })
    }
  })

  it('allows everyday text, still showing the scores it read', async () => {
    const { moderate } = await buildService()
    const verdict = await verdictOf(await moderate({ text: BENIGN }))
    expect(verdict).toMatchObject({ source: 'local', safe: true, action: 'allow', categories: [] })
    expect(Object.keys(verdict.local_scores ?? {}).sort()).toEqual(['harassment', 'hate'])
  })

  it('gives images the conservative verdict with the reason: there is no local image model', async () => {
    const { moderate } = await buildService()
    const verdict = await verdictOf(await moderate({ images: [{ data: toBase64(await makeImage('png', 16, 16)) }] }))
    expect(verdict).toMatchObject({ source: 'local', safe: false, action: 'review', confidence: 0, model: 'local-classifier' })
    expect(verdict.signals).toContain('image_not_judged')
  })

  it('can be switched off (word lists only), and a missing artifact stops the start', async () => {
    const { moderate } = await buildService({ env: { MODERATION_LOCAL_CLASSIFIER: 'off' } })
    const verdict = await verdictOf(await moderate({ text: HATEFUL }))
    expect(verdict.local_scores).toBeUndefined()
    expect(verdict.action).toBe('allow')
    expect(() => readTextClassifier('models/nope.bin')).toThrow(ConfigError)
    expect(() => readTextClassifier('package.json')).toThrow(/cannot load .*package\.json: not a text classifier/)
  })
})

describe('the classifier in front of the model', () => {
  it('by default screens but lets the model decide: a clear local hit is not blocked on its word', async () => {
    const { moderate } = await buildService({ gemini })
    gemini.setDefault({ verdict: { safe: true, categories: [], confidence: 0.95 } })
    const verdict = await verdictOf(await moderate({ text: HATEFUL }))
    expect(verdict).toMatchObject({ source: 'model', action: 'allow' })
    expect(verdict.local_scores?.hate).toBeGreaterThanOrEqual(shipped.header.thresholds.hate!.block_at)
    expect(gemini.requests).toHaveLength(1)
  })

  it('blocks a clear hit without a model call when the policy says so', async () => {
    const policies = await withCustomPolicy({ classifier_block_without_model: true })
    const { moderate } = await buildService({ gemini, policies })
    const verdict = await verdictOf(await moderate({ text: HATEFUL, policy: 'custom' }))
    expect(verdict).toMatchObject({ source: 'local', action: 'block', categories: ['hate'] })
    expect(gemini.requests).toHaveLength(0)
  })

  it('lets a confident pass skip the model only when the policy opts in, and never for images', async () => {
    const policies = await withCustomPolicy({ skip_model_when_clean: true, classifier_thresholds: { hate: { pass_below: 0.3 }, harassment: { pass_below: 0.3 } } })
    const { moderate } = await buildService({ gemini, policies })
    gemini.setDefault({ verdict: { safe: true, categories: [], confidence: 0.95 } })
    const skipped = await verdictOf(await moderate({ text: BENIGN, policy: 'custom' }))
    expect(skipped).toMatchObject({ source: 'local', safe: true, action: 'allow' })
    expect(skipped.signals).toContain('local_pass')
    expect(gemini.requests).toHaveLength(0)
    const withImage = await verdictOf(await moderate({ text: BENIGN, policy: 'custom', images: [{ data: toBase64(await makeImage('png', 16, 16)) }] }))
    expect(withImage.source).toBe('model')
    expect((await verdictOf(await moderate({ text: BENIGN }))).source).toBe('model') // the default policy: off
  })
})

describe('the classifier when the model fails', () => {
  it('turns the conservative review into block on a clear hit, and leaves everything else at review', async () => {
    const { moderate } = await buildService({ gemini })
    gemini.setDefault({ status: 500 })
    const hit = await verdictOf(await moderate({ text: HATEFUL }))
    expect(hit).toMatchObject({ source: 'fallback', fallback_reason: 'upstream_error', safe: false, action: 'block' })
    expect(hit.categories).toContain('hate')
    expect(hit.signals).toContain('local_classifier')
    const clean = await verdictOf(await moderate({ text: BENIGN }))
    expect(clean).toMatchObject({ source: 'fallback', safe: false, action: 'review', categories: [] })
  })

  it('never turns a failure into allow: a fail-open policy still reviews a suspicion', async () => {
    const policies = await withCustomPolicy(
      { classifier_thresholds: { hate: { review_at: 0.5, block_at: 0.99 }, harassment: { review_at: 0.99, block_at: 0.99 } } },
      { on_failure: 'allow' },
    )
    const { moderate } = await buildService({ gemini, policies })
    gemini.setDefault({ status: 500 })
    const suspect = await verdictOf(await moderate({ text: HATEFUL, policy: 'custom' }))
    expect(suspect).toMatchObject({ source: 'fallback', safe: false, action: 'review', categories: ['hate'] })
    const clean = await verdictOf(await moderate({ text: BENIGN, policy: 'custom' }))
    expect(clean).toMatchObject({ source: 'fallback', safe: false, action: 'allow' })
  })

  it('shapes every kind of fallback: a timeout, and a budget spent on image work before the model was asked', async () => {
    const { moderate } = await buildService({ gemini })
    gemini.setDefault({ hang: true })
    const timedOut = await verdictOf(await moderate({ text: HATEFUL, budget_ms: 150 }))
    expect(timedOut).toMatchObject({ source: 'fallback', fallback_reason: 'timeout', action: 'block' })
    const slowImages = {
      process: async (bytes: Uint8Array, type: string) => {
        await new Promise((resolve) => setTimeout(resolve, 400))
        return { kind: 'ready' as const, data: bytes, mimeType: type, width: 1, height: 1, resized: false }
      },
    }
    const late = await buildService({ gemini, images: slowImages })
    const image = [{ data: toBase64(await makeImage('png', 8, 8)) }]
    const verdict = await verdictOf(await late.moderate({ text: HATEFUL, images: image, budget_ms: 150 }))
    expect(verdict).toMatchObject({ source: 'fallback', fallback_reason: 'timeout', action: 'block', categories: expect.arrayContaining(['hate']) })
    expect(verdict.local_scores?.hate).toBeGreaterThan(0.9)
    // Without a key, a late image is still an image nobody judged.
    const local = await buildService({ images: slowImages })
    const unjudged = await verdictOf(await local.moderate({ text: BENIGN, images: image, budget_ms: 150 }))
    expect(unjudged).toMatchObject({ safe: false, action: 'review', signals: expect.arrayContaining(['image_not_judged']) })
  })

  it('leaves the fallback alone when the policy turns enrichment off', async () => {
    const policies = await withCustomPolicy({ enrich_fallback: false })
    const { moderate } = await buildService({ gemini, policies })
    gemini.setDefault({ status: 500 })
    expect(await verdictOf(await moderate({ text: HATEFUL, policy: 'custom' }))).toMatchObject({ source: 'fallback', action: 'review', categories: [] })
  })
})

describe('classifier settings in policies', () => {
  it('turns off per policy: word lists only, and the verdict says which model judged', async () => {
    const policies = await withCustomPolicy({ classifier: false })
    const { moderate } = await buildService({ policies })
    const verdict = await verdictOf(await moderate({ text: HATEFUL, policy: 'custom' }))
    expect(verdict).toMatchObject({ source: 'local', action: 'allow', model: 'local-rules' })
    expect(verdict.local_scores).toBeUndefined()
  })

  it('refuses thresholds for a category the classifier does not score', async () => {
    const policies = await withCustomPolicy({ classifier_thresholds: { sexual: { review_at: 0.5 } } })
    await expect(buildService({ policies })).rejects.toThrow(/policy custom: local\.classifier_thresholds\.sexual: the classifier does not score sexual/)
  })

  it('refuses to start when overrides would put pass_below above review_at, naming the policy and field', async () => {
    const policies = await withCustomPolicy({ classifier_thresholds: { harassment: { pass_below: 0.9 } } })
    await expect(buildService({ policies })).rejects.toThrow(ConfigError)
    await expect(buildService({ policies })).rejects.toThrow(/policy custom: local\.classifier_thresholds\.harassment: .*must not decrease/)
  })

  it('shows each policy\'s classifier settings and effective thresholds in GET /v1/policies', async () => {
    const policies = await withCustomPolicy({ skip_model_when_clean: true, classifier_thresholds: { hate: { block_at: 0.95 } } })
    const { app } = await buildService({ gemini, policies })
    type Listed = { name: string; local_classifier?: { skip_model_when_clean: boolean; classifier_block_without_model: boolean; categories: { name: string; review_at: number; block_at: number; languages: string[] }[] } }
    const listed = ((await (await app.request('/v1/policies')).json()) as { policies: Listed[] }).policies
    const custom = listed.find((p) => p.name === 'custom')!.local_classifier!
    const shipped = listed.find((p) => p.name === 'default')!.local_classifier!
    expect(custom.skip_model_when_clean).toBe(true)
    expect(custom.categories.find((c) => c.name === 'hate')).toMatchObject({ block_at: 0.95, review_at: shipped.categories.find((c) => c.name === 'hate')!.review_at })
    expect(shipped.categories.map((c) => c.name)).toEqual(['hate', 'harassment'])
    expect(shipped.categories[0]!.languages).toContain('ko')
    const off = await buildService({ env: { MODERATION_LOCAL_CLASSIFIER: 'off' } })
    const offListed = ((await (await off.app.request('/v1/policies')).json()) as { policies: (Listed & { model: string })[] }).policies[0]!
    expect(offListed.local_classifier).toBeUndefined()
    expect(offListed.model).toBe('local-rules')
  })

  it('refuses thresholds for a category the policy does not have, naming the file and field', async () => {
    const defaultYaml = readFileSync('policies/default.yaml', 'utf8')
    const file = parse(defaultYaml) as { local: Record<string, unknown> }
    const bad = stringify({ ...file, local: { ...file.local, classifier_thresholds: { spam: { review_at: 0.5 } } } })
    await expect(loadPolicies({ 'bad.yaml': bad }, 'bad')).rejects.toThrow(PolicyError)
    await expect(loadPolicies({ 'bad.yaml': bad }, 'bad')).rejects.toThrow(/bad\.yaml: local: classifier_thresholds\.spam: not a category/)
    const outOfRange = stringify({ ...file, local: { ...file.local, classifier_thresholds: { hate: { block_at: 2 } } } })
    await expect(loadPolicies({ 'x.yaml': outOfRange }, 'x')).rejects.toThrow(/x\.yaml: local\.classifier_thresholds\.hate\.block_at/)
  })
})

describe('the README', () => {
  it('has a policy example that loads and passes the start-up checks', async () => {
    const readme = readFileSync('README.md', 'utf8')
    const example = /## Policies[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(example).toContain('classifier_thresholds')
    const policies = await loadPolicies({ 'example.yaml': example! }, 'example')
    const { app } = await buildService({ gemini, policies, env: { MODERATION_DEFAULT_POLICY: 'example' } })
    expect((await app.request('/readyz')).status).toBe(200)
  })
})
