import { describe, expect, it } from 'vitest'
import { useFakeGemini } from '../helpers/use-fake-gemini.js'
import { buildService } from '../helpers/service.js'

const gemini = useFakeGemini()

const textRequest = (headers: Record<string, string> = {}) =>
  new Request('http://localhost/v1/moderate', { method: 'POST', body: 'hello there', headers: { 'content-type': 'text/plain', ...headers } })

describe('authentication with MODERATION_API_KEYS', () => {
  const env = { MODERATION_API_KEYS: 'key-one, key-two' }

  it('401 with the envelope and WWW-Authenticate when the token is missing or wrong', async () => {
    const { app } = await buildService({ gemini, env })
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer nope' }, { authorization: 'Basic a2V5LW9uZQ==' }, { authorization: 'Bearer key-one-and-more' }]) {
      const res = await app.request(textRequest(headers))
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('unauthorized')
    }
    expect((await app.request('/v1/policies')).status).toBe(401)
  })

  it('logs a refused request under the route it was for, as the request metric does', async () => {
    const { app, logs } = await buildService({ gemini, env })
    await app.request(textRequest({ 'x-request-id': 'refused' }))
    expect(logs.find((l) => l.msg === 'request' && l.request_id === 'refused')).toMatchObject({ route: '/v1/moderate', status: 401 })
  })

  it('accepts each configured key', async () => {
    const { app } = await buildService({ gemini, env })
    expect((await app.request(textRequest({ authorization: 'Bearer key-one' }))).status).toBe(200)
    expect((await app.request(textRequest({ authorization: 'bearer key-two' }))).status).toBe(200)
  })

  it('leaves health checks open', async () => {
    const { app } = await buildService({ gemini, env })
    expect((await app.request('/healthz')).status).toBe(200)
    expect((await app.request('/readyz')).status).toBe(200)
  })

  it('is off without keys', async () => {
    const { app } = await buildService({ gemini })
    expect((await app.request(textRequest())).status).toBe(200)
  })
})

describe('request ids, headers, logs', () => {
  it('echoes a caller X-Request-Id and makes one otherwise', async () => {
    const { app } = await buildService({ gemini })
    expect((await app.request(textRequest({ 'x-request-id': 'upload-42' }))).headers.get('x-request-id')).toBe('upload-42')
    expect((await app.request(textRequest())).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('sets secure headers', async () => {
    const { app } = await buildService({ gemini })
    const res = await app.request('/healthz')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN')
    expect(res.headers.get('strict-transport-security')).toMatch(/max-age/)
  })

  it('writes one JSON access line per request with hashes and sizes, not the content', async () => {
    const { app, logs } = await buildService({ gemini })
    await app.request(textRequest({ 'x-request-id': 'log-me' }))
    const line = logs.find((l) => l.msg === 'request' && l.request_id === 'log-me')
    expect(line).toMatchObject({ method: 'POST', route: '/v1/moderate', status: 200, text_chars: 11, action: 'allow', source: 'model' })
    expect(line?.text_sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(JSON.stringify(logs)).not.toContain('hello there')
  })

  it('answers unknown routes with a 404 envelope', async () => {
    const { app } = await buildService({ gemini })
    const res = await app.request('/v2/nothing')
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ error: { code: 'not_found' } })
  })
})

describe('GET /v1/policies, /healthz, /readyz', () => {
  it('lists the policies with their versions, thresholds and failure actions', async () => {
    const { app } = await buildService({ gemini })
    const body = (await (await app.request('/v1/policies')).json()) as {
      default: string
      policies: { name: string; version: string; on_failure: string; categories: { name: string; review_at: number; block_at: number }[] }[]
    }
    expect(body.default).toBe('default')
    expect(body.policies.map((p) => [p.name, p.on_failure])).toEqual([
      ['default', 'review'],
      ['strict', 'block'],
    ])
    const strict = body.policies.find((p) => p.name === 'strict')
    expect(strict?.version).toMatch(/^[0-9a-f]{16}$/)
    expect(strict?.categories.map((c) => c.name)).toContain('pii')
    expect(strict?.categories.find((c) => c.name === 'hate')).toMatchObject({ review_at: 0.2, block_at: 0.4 })
  })

  it('reports the mode in /readyz', async () => {
    expect(await (await (await buildService({ gemini })).app.request('/readyz')).json()).toMatchObject({ status: 'ready', mode: 'gemini' })
    expect(await (await (await buildService()).app.request('/readyz')).json()).toMatchObject({ status: 'ready', mode: 'local' })
  })

  it('answers /readyz with 503, the envelope and Retry-After while draining', async () => {
    let draining = false
    const { app } = await buildService({ gemini, readiness: { notReadyReason: () => (draining ? 'shutting down' : undefined) } })
    expect((await app.request('/readyz')).status).toBe(200)
    draining = true
    const res = await app.request('/readyz')
    expect(res.status).toBe(503)
    expect(res.headers.get('retry-after')).toBe('5')
    expect(await res.json()).toMatchObject({ error: { code: 'service_unavailable', message: 'shutting down' } })
    expect((await app.request('/healthz')).status).toBe(200)
  })
})
