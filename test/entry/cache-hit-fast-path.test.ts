import { createHash } from 'node:crypto'
import { createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { connect } from 'node:net'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { useSyncSha256 } from '../../src/core/shared/hash.js'
import { systemClock } from '../../src/core/shared/ports.js'
import { arrivalOf, FAST_PATH_MAX_BODY_BYTES } from '../../src/entry/cache-hit-fast-path.js'
import { buildService } from '../helpers/service.js'
import { twoDoors } from '../helpers/two-doors.js'
import { useFakeGemini } from '../helpers/use-fake-gemini.js'
import type { TelemetryOptions } from '../../src/core/telemetry/telemetry.js'
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'

const gemini = useFakeGemini()
beforeAll(() => useSyncSha256((data) => createHash('sha256').update(data).digest('hex')))

const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()))
})

/** The service behind the Node entry's two doors, on a port; `toApp` counts what reached Hono. */
async function serve(env: Record<string, string> = {}, telemetry?: TelemetryOptions) {
  // As the Node entry wires it: the app counts from when this door first saw a request it hands on.
  const service = await buildService({ gemini, env, telemetry, arrivedAt: arrivalOf(() => systemClock.now()) })
  const { listener, counted } = await twoDoors(service)
  const server = createServer(listener)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closers.push(() => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const post = (body: string, headers: Record<string, string> = {}, path = '/v1/moderate') =>
    fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
  return { ...service, url, post, counted }
}

const TEXT = 'a repeated caption for the fast path'
const headersOf = (res: Response) => Object.fromEntries([...res.headers].filter(([name]) => !['x-request-id', 'content-length', 'date', 'connection', 'keep-alive'].includes(name)))
const withoutPerRequest = ({ id: _id, latency_ms: _latency, ...rest }: Record<string, unknown>) => rest

describe("Node's cache-hit path (before Hono)", () => {
  it("answers a repeated text with the app's verdict, headers and access line, without reaching the app", async () => {
    const svc = await serve()
    const first = await svc.post(JSON.stringify({ text: TEXT }))
    expect(await first.json()).toMatchObject({ source: 'model' })
    expect(svc.counted.toApp).toBe(1)

    const fast = await svc.post(JSON.stringify({ text: TEXT }))
    expect(fast.status).toBe(200)
    expect(svc.counted.toApp).toBe(1)
    expect(gemini.requests).toHaveLength(1)
    const fastVerdict = (await fast.json()) as Record<string, unknown>
    expect(fastVerdict).toMatchObject({ source: 'cache', safe: true, action: 'allow' })
    expect(fast.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(Number(fast.headers.get('content-length'))).toBeGreaterThan(0)

    // The app's own cache hit for the same request: the same verdict but for id and latency, the same headers.
    const viaApp = await svc.app.request('/v1/moderate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: TEXT }) })
    const appVerdict = (await viaApp.json()) as Record<string, unknown>
    expect(withoutPerRequest(fastVerdict)).toEqual(withoutPerRequest(appVerdict))
    expect(Object.keys(fastVerdict)).toEqual(Object.keys(appVerdict))
    expect(headersOf(fast)).toEqual(headersOf(viaApp))

    const lines = svc.logs.filter((line) => line.msg === 'request' && line.source === 'cache')
    expect(lines).toHaveLength(2)
    const [fastLine, appLine] = lines as Record<string, unknown>[]
    expect(Object.keys(fastLine!).sort()).toEqual(Object.keys(appLine!).sort())
    expect(fastLine).toMatchObject({ request_id: fast.headers.get('x-request-id'), route: '/v1/moderate', status: 200, text_chars: TEXT.length, verdict_id: fastVerdict.id })
    expect(JSON.stringify(svc.logs)).not.toContain(TEXT)
  })

  it('records the span and the verdict metrics the app records (real OpenTelemetry SDK)', async () => {
    const spans = new InMemorySpanExporter()
    const reader = new (class extends MetricReader {
      protected override async onForceFlush() {}
      protected override async onShutdown() {}
    })()
    const telemetry = {
      tracer: new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }).getTracer('test'),
      meter: new MeterProvider({ readers: [reader] }).getMeter('test'),
    }
    const svc = await serve({}, telemetry)
    await svc.post(JSON.stringify({ text: TEXT }))
    await svc.post(JSON.stringify({ text: TEXT }))
    expect(svc.counted.toApp).toBe(1)
    const roots = spans.getFinishedSpans().filter((span) => span.name === 'moderation')
    expect(roots.map((span) => span.attributes['moderation.source'])).toEqual(['model', 'cache'])
    expect(roots[1]!.attributes).toMatchObject({ 'moderation.policy': 'default', 'moderation.action': 'allow' })
    const cacheSpans = spans.getFinishedSpans().filter((span) => span.name === 'moderation.cache')
    expect(cacheSpans.map((span) => span.attributes['moderation.cache_hit'])).toEqual([false, true])
    const { resourceMetrics } = (await reader.collect()) as { resourceMetrics: ResourceMetrics }
    const counted = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).find((metric) => metric.descriptor.name === 'moderation.verdicts')
    const cacheHits = counted?.dataPoints.filter((point) => point.attributes['moderation.source'] === 'cache').reduce((total, point) => total + (point.value as number), 0)
    expect(cacheHits).toBe(1)
    expect(JSON.stringify(roots.map((span) => span.attributes))).not.toContain(TEXT)
  })

  it('keeps the policy and the budget the request asks for, and a valid X-Request-Id', async () => {
    const svc = await serve()
    await svc.post(JSON.stringify({ text: TEXT, policy: 'strict', budget_ms: 500 }))
    const res = await svc.post(JSON.stringify({ text: TEXT, policy: 'strict', budget_ms: 500 }), { 'x-request-id': 'caller-id_1=' })
    expect(svc.counted.toApp).toBe(1)
    expect(await res.json()).toMatchObject({ source: 'cache', policy: 'strict', budget_ms: 500 })
    expect(res.headers.get('x-request-id')).toBe('caller-id_1=')
    // A policy's cache is its own: the default policy's first request is a miss, through the app.
    await svc.post(JSON.stringify({ text: TEXT }))
    expect(svc.counted.toApp).toBe(2)
    const replaced = await svc.post(JSON.stringify({ text: TEXT }), { 'x-request-id': 'no spaces allowed' })
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
  })

  it('checks the bearer key first: no key or a wrong one gets the app\'s 401, the right one is answered here', async () => {
    const svc = await serve({ MODERATION_API_KEYS: 'key-one,key-two' })
    const auth = { authorization: 'Bearer key-two' }
    expect((await svc.post(JSON.stringify({ text: TEXT }), auth)).status).toBe(200)
    expect((await svc.post(JSON.stringify({ text: TEXT }), auth)).status).toBe(200)
    expect(svc.counted.toApp).toBe(1)
    for (const headers of [{}, { authorization: 'Bearer key-three' }, { authorization: 'Basic a2V5LW9uZQ==' }] as Record<string, string>[]) {
      const refused = await svc.post(JSON.stringify({ text: TEXT }), headers)
      expect(refused.status).toBe(401)
      expect(await refused.json()).toMatchObject({ error: { code: 'unauthorized' } })
    }
    expect(svc.counted.toApp).toBe(4)
  })

  it('shares the in-flight cap with the app: a full house gets the app\'s 503, and every place comes back', async () => {
    const svc = await serve({ MODERATION_MAX_IN_FLIGHT: '1' })
    await svc.post(JSON.stringify({ text: TEXT }))
    for (let i = 0; i < 5; i++) expect((await svc.post(JSON.stringify({ text: TEXT }))).status).toBe(200)
    gemini.script({ delayMs: 300, then: { verdict: { safe: true, categories: [], confidence: 0.9 } } })
    const slow = svc.post(JSON.stringify({ text: 'a new text that takes the only place' }))
    await new Promise((resolve) => setTimeout(resolve, 100))
    const refused = await svc.post(JSON.stringify({ text: TEXT }))
    expect(refused.status).toBe(503)
    expect(refused.headers.get('retry-after')).toBe('1')
    expect((await slow).status).toBe(200)
    expect((await svc.post(JSON.stringify({ text: TEXT }))).status).toBe(200)
  })

  it('gives the place back when the client leaves in the middle of its body', async () => {
    const svc = await serve({ MODERATION_MAX_IN_FLIGHT: '1' })
    await svc.post(JSON.stringify({ text: TEXT }))
    const { port } = new URL(svc.url)
    for (let i = 0; i < 3; i++) {
      const socket = connect(Number(port), '127.0.0.1')
      await new Promise((resolve) => socket.once('connect', resolve))
      socket.write('POST /v1/moderate HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"text":')
      await new Promise((resolve) => setTimeout(resolve, 30))
      socket.destroy()
      await new Promise((resolve) => setTimeout(resolve, 30))
    }
    expect((await svc.post(JSON.stringify({ text: TEXT }))).status).toBe(200)
  })

  it('hands everything else to the app with the body it read: the answers are the app\'s', async () => {
    const svc = await serve()
    await svc.post(JSON.stringify({ text: TEXT }))
    const before = svc.counted.toApp
    const cases: [string, () => Promise<Response>, number, unknown][] = [
      ['malformed JSON', () => svc.post('{"text": "unterminated'), 400, { error: { code: 'invalid_request' } }],
      ['a JSON array', () => svc.post(JSON.stringify([TEXT])), 400, { error: { code: 'invalid_request' } }],
      ['empty text', () => svc.post(JSON.stringify({ text: '   ' })), 400, { error: { code: 'invalid_request' } }],
      ['text over the limit', () => svc.post(JSON.stringify({ text: 'x'.repeat(50_001) })), 413, { error: { code: 'payload_too_large' } }],
      ['an unknown policy', () => svc.post(JSON.stringify({ text: TEXT, policy: 'nope' })), 400, { error: { code: 'invalid_request' } }],
      ['budget_ms 0', () => svc.post(JSON.stringify({ text: TEXT, budget_ms: 0 })), 400, { error: { code: 'invalid_request' } }],
      ['budget_ms 1e20', () => svc.post(JSON.stringify({ text: TEXT, budget_ms: 1e20 })), 400, { error: { code: 'invalid_request' } }],
      ['callback_url without WEBHOOK_SECRET', () => svc.post(JSON.stringify({ text: TEXT, callback_url: 'https://example.com/hook' })), 400, { error: { code: 'invalid_request' } }],
      ['an extra field', () => svc.post(JSON.stringify({ text: TEXT, note: 'x' })), 200, { source: 'cache' }],
      ['a byte-order mark', () => svc.post(`\uFEFF${JSON.stringify({ text: TEXT })}`), 200, { source: 'cache' }],
      ['a query string', () => svc.post(JSON.stringify({ text: TEXT }), {}, '/v1/moderate?policy=default'), 200, { source: 'cache' }],
      ['text/plain', () => svc.post(TEXT, { 'content-type': 'text/plain' }), 200, { source: 'cache' }],
      ['a body over the fast path\'s size', () => svc.post(JSON.stringify({ text: TEXT, pad: ' '.repeat(FAST_PATH_MAX_BODY_BYTES) })), 200, { source: 'cache' }],
    ]
    for (const [name, send, status, body] of cases) {
      const res = await send()
      expect(res.status, name).toBe(status)
      expect(await res.json(), name).toMatchObject(body as object)
    }
    expect(svc.counted.toApp - before).toBe(cases.length)
  })

  it('hands a miss to the app with its arrival: the budget and latency_ms count the time the body took', async () => {
    const svc = await serve()
    const body = JSON.stringify({ text: 'a text the cache has never seen, sent slowly' })
    const { port } = new URL(svc.url)
    const socket = connect(Number(port), '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    let answer = ''
    socket.on('data', (chunk: Buffer) => (answer += chunk))
    socket.write(`POST /v1/moderate HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 10)}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
    socket.write(body.slice(10))
    await new Promise((resolve) => socket.once('close', resolve))
    const verdict = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { source: string; latency_ms: number }
    expect(verdict.source).toBe('model')
    expect(svc.counted.toApp).toBe(1)
    expect(verdict.latency_ms).toBeGreaterThanOrEqual(240)
  })

  it('hands invalid UTF-8 to the app, which decodes it its own way', async () => {
    const svc = await serve()
    const body = Buffer.concat([Buffer.from('{"text":"caf'), Buffer.from([0xc3, 0x28]), Buffer.from(' and more"}')])
    const send = () =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(`${svc.url}/v1/moderate`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
          let text = ''
          res.on('data', (chunk: Buffer) => (text += chunk))
          res.on('end', () => resolve({ status: res.statusCode!, body: text }))
        })
        req.on('error', reject)
        req.end(body)
      })
    expect((await send()).status).toBe(200)
    expect((await send()).status).toBe(200)
    expect(svc.counted.toApp).toBe(2)
  })

  it('answers hostile repeats cheaply: 16 KB of punctuation, once judged, is a cache hit', async () => {
    const svc = await serve()
    const text = '.!'.repeat(8_000)
    await svc.post(JSON.stringify({ text }))
    const started = performance.now()
    const res = await svc.post(JSON.stringify({ text }))
    expect(await res.json()).toMatchObject({ source: 'cache' })
    expect(svc.counted.toApp).toBe(1)
    expect(performance.now() - started).toBeLessThan(1_000)
  })
})
