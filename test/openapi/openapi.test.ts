import { Validator } from '@seriousme/openapi-schema-validator'
import { describe, expect, it } from 'vitest'
import { OPENAI_CATEGORIES, openAiModerationResponseSchema } from '../../src/compat/openai-moderation.js'
import { perspectiveResponseSchema } from '../../src/compat/perspective.js'
import { buildService } from '../helpers/service.js'
import { useFakeGemini } from '../helpers/use-fake-gemini.js'

const gemini = useFakeGemini()

describe('GET /openapi.json and /docs', () => {
  it('serves an OpenAPI 3.1 document that validates against the OpenAPI 3.1 schema', async () => {
    const { app } = await buildService({ gemini })
    const document = await (await app.request('/openapi.json')).json()
    const result = await new Validator().validate(document as Parameters<Validator['validate']>[0])
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)
    expect((document as { openapi: string }).openapi).toBe('3.1.0')
  })

  it('covers every route of the app', async () => {
    const { app } = await buildService({ gemini })
    const document = (await (await app.request('/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> }
    const routes = app.routes.filter((route) => route.method !== 'ALL').map((route) => `${route.method} ${route.path}`)
    expect(routes.length).toBeGreaterThanOrEqual(8)
    for (const route of new Set(routes)) {
      const [method, path] = route.split(' ') as [string, string]
      const openApiPath = path.replace(/\/:(\w+)/g, '/{$1}')
      expect(document.paths[openApiPath]?.[method.toLowerCase()], route).toBeDefined()
    }
  })

  it('generates the request schemas from the zod schemas that validate them', async () => {
    const { app } = await buildService({ gemini })
    const { components } = (await (await app.request('/openapi.json')).json()) as { components: { schemas: Record<string, { properties?: Record<string, unknown> }> } }
    expect(Object.keys(components.schemas.ModerateRequest?.properties ?? {})).toEqual(['text', 'images', 'policy', 'budget_ms', 'callback_url'])
    expect(components.schemas.Verdict?.properties?.fallback_reason).toMatchObject({ enum: ['timeout', 'invalid_output', 'upstream_error', 'rate_limited', 'circuit_open', 'overloaded'] })
    const scores = (components.schemas.OpenAiModerationResponse as { properties: { results: { items: { properties: { category_scores: { properties: object } } } } } })
      .properties.results.items.properties.category_scores.properties
    expect(Object.keys(scores)).toEqual([...OPENAI_CATEGORIES])
  })

  it('describes what the compatible endpoints really answer', async () => {
    const { app } = await buildService({ gemini })
    const post = (path: string, body: unknown) => app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    expect(openAiModerationResponseSchema.safeParse(await (await post('/v1/moderations', { input: ['a', ' '] })).json()).success).toBe(true)
    const perspective = await (await post('/v1alpha1/comments:analyze', { comment: { text: 'hi' }, requestedAttributes: { TOXICITY: {} } })).json()
    expect(perspectiveResponseSchema.safeParse(perspective).success).toBe(true)
  })

  it('renders a human-readable reference at /docs with every endpoint, and no script', async () => {
    const { app } = await buildService({ gemini })
    const res = await app.request('/docs')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/text\/html/)
    const html = await res.text()
    for (const path of ['/v1/moderate', '/v1/moderations', '/v1alpha1/comments:analyze', '/v1/policies', '/healthz', '/readyz']) expect(html).toContain(`<code>${path}</code>`)
    expect(html).toContain('id="schema-Verdict"')
    expect(html).not.toMatch(/<script/i)
    // Parameters are labelled by where they go: the job id is in the path, the keys in headers.
    const jobs = html.slice(html.indexOf('<code>/v1/jobs/{id}</code>'))
    expect(jobs.slice(0, jobs.indexOf('</section>'))).toMatch(/<h4>Path<\/h4><ul><li><code>id<\/code>/)
    expect(html).toMatch(/<h4>Headers<\/h4><ul><li><code>Idempotency-Key<\/code>/)
    expect(html).toContain('<code>moderation.completed</code>')
  })

  it('describes every input form, header and the delivery itself', async () => {
    const { app } = await buildService({ gemini })
    const doc = (await (await app.request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } }>>
      webhooks: Record<string, { post: { parameters: { name: string; required: boolean }[]; requestBody: unknown } }>
    }
    const names = (path: string, method: string) => doc.paths[path]![method]!.parameters!.map((p) => `${p.in}:${p.name}`)
    expect(names('/v1/moderate', 'post')).toEqual(
      expect.arrayContaining(['query:policy', 'query:budget_ms', 'query:callback_url', 'header:Idempotency-Key', 'header:webhook-id', 'header:webhook-timestamp', 'header:webhook-signature']),
    )
    expect(Object.keys(doc.paths['/v1/moderate']!.post!.requestBody!.content['multipart/form-data']!.schema.properties!)).toContain('callback_url')
    expect(names('/v1/moderations', 'post')).toEqual(['header:X-Moderation-Policy', 'header:X-Moderation-Budget-Ms'])
    expect(names('/v1alpha1/comments:analyze', 'post')).toEqual(['header:X-Moderation-Policy'])
    const delivery = doc.webhooks['moderation.completed']!.post
    expect(delivery.parameters.map((p) => [p.name, p.required])).toEqual([['webhook-id', true], ['webhook-timestamp', true], ['webhook-signature', true]])
  })
})
