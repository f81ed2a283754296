import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { describe, expect, it } from 'vitest'
import { useFakeGemini } from '../../helpers/use-fake-gemini.js'
import { buildService } from '../../helpers/service.js'
import { startWebhookReceiver } from '../../helpers/webhook-receiver.js'

/** A reader the test pulls from, instead of a timer. */
class PullReader extends MetricReader {
  protected override async onForceFlush() {}
  protected override async onShutdown() {}
}

const gemini = useFakeGemini()

function setup() {
  const spans = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
  const reader = new PullReader()
  const meterProvider = new MeterProvider({ readers: [reader] })
  const telemetry = { tracer: tracerProvider.getTracer('test'), meter: meterProvider.getMeter('test') }
  const metrics = async () => {
    const { resourceMetrics } = (await reader.collect()) as { resourceMetrics: ResourceMetrics }
    return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics)
  }
  return { spans, telemetry, metrics }
}

const sumOf = (points: { attributes: Record<string, unknown>; value: unknown }[], match: Record<string, unknown>) =>
  points
    .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
    .reduce((total, p) => total + (p.value as number), 0)

describe('telemetry (real OpenTelemetry SDK, in-memory exporters)', () => {
  it('makes a moderation span with cache, local check and GenAI model-call children', async () => {
    const { spans, telemetry } = setup()
    const { moderate } = await buildService({ gemini, telemetry })
    await moderate({ text: `telemetry ${Date.now()}` })
    const finished = spans.getFinishedSpans()
    const root = finished.find((s) => s.name === 'moderation')
    expect(root?.attributes).toMatchObject({ 'moderation.policy': 'default', 'moderation.action': 'allow', 'moderation.source': 'model' })
    const children = finished.filter((s) => s.parentSpanContext?.spanId === root?.spanContext().spanId).map((s) => s.name)
    expect(children).toEqual(expect.arrayContaining(['moderation.local_check', 'moderation.cache', 'generate_content gemini-3.5-flash']))
    const call = finished.find((s) => s.name.startsWith('generate_content'))
    expect(call?.attributes).toMatchObject({
      'gen_ai.system': 'gcp.gemini',
      'gen_ai.operation.name': 'generate_content',
      'gen_ai.request.model': 'gemini-3.5-flash',
      'gen_ai.usage.input_tokens': 120,
      'gen_ai.usage.output_tokens': 18,
    })
    // Content never goes into telemetry.
    expect(JSON.stringify(finished.map((s) => s.attributes))).not.toContain('telemetry ')
  })

  it('marks the model span as an error with the fallback reason', async () => {
    const { spans, telemetry } = setup()
    const { moderate } = await buildService({ gemini, telemetry })
    gemini.script({ status: 429 })
    await moderate({ text: `rate limited ${Date.now()}` })
    const call = spans.getFinishedSpans().find((s) => s.name.startsWith('generate_content'))
    expect(call?.status.code).toBe(2) // ERROR
    expect(call?.attributes['moderation.fallback_reason']).toBe('rate_limited')
    expect(spans.getFinishedSpans().find((s) => s.name === 'moderation')?.attributes['moderation.fallback_reason']).toBe('rate_limited')
  })

  it('counts verdicts by action and source, fallbacks by reason, and records latency and token usage', async () => {
    const { telemetry, metrics } = setup()
    const { moderate } = await buildService({ gemini, telemetry })
    const text = `metrics ${Date.now()}`
    gemini.script({ verdict: { safe: false, categories: ['hate'], confidence: 0.95 } }, { text: 'garbage' }, { status: 500 })
    await moderate({ text })
    await moderate({ text }) // cache
    await moderate({ text: `${text} 2` })
    await moderate({ text: `${text} 3` })
    const all = await metrics()
    const byName = (name: string) => all.find((m) => m.descriptor.name === name)?.dataPoints as never
    const verdicts = byName('moderation.verdicts')
    expect(sumOf(verdicts, { 'moderation.action': 'block', 'moderation.source': 'model' })).toBe(1)
    expect(sumOf(verdicts, { 'moderation.action': 'block', 'moderation.source': 'cache' })).toBe(1)
    expect(sumOf(verdicts, { 'moderation.source': 'fallback' })).toBe(2)
    const fallbacks = byName('moderation.fallbacks')
    expect(sumOf(fallbacks, { 'moderation.fallback_reason': 'invalid_output' })).toBe(1)
    expect(sumOf(fallbacks, { 'moderation.fallback_reason': 'upstream_error' })).toBe(1)
    const duration = all.find((m) => m.descriptor.name === 'moderation.duration')
    expect(duration?.descriptor.unit).toBe('ms')
    const counts = (duration?.dataPoints as { value: { count: number } }[]).reduce((n, p) => n + p.value.count, 0)
    expect(counts).toBe(4)
    expect(all.map((m) => m.descriptor.name)).toEqual(expect.arrayContaining(['gen_ai.client.operation.duration', 'gen_ai.client.token.usage']))
  })

  it('is a no-op without an SDK', async () => {
    const { moderate } = await buildService({ gemini })
    expect((await moderate({ text: `no sdk ${Date.now()}` })).status).toBe(200)
  })

  it('counts delivery attempts by outcome and reports the queue depth', async () => {
    const { telemetry, metrics } = setup()
    const secret = `whsec_${Buffer.from('telemetry test secret, 32 bytes').toString('base64')}`
    const receiver = await startWebhookReceiver(secret)
    receiver.answer({ status: 500 })
    const { moderate } = await buildService({ gemini, telemetry, env: { WEBHOOK_SECRET: secret, WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' } })
    expect((await moderate({ text: `delivered ${Date.now()}`, callback_url: receiver.url })).status).toBe(202)
    await receiver.next()
    const pending = (await metrics()).find((m) => m.descriptor.name === 'moderation.webhook.pending')
    expect(pending?.dataPoints[0]?.value).toBe(1)
    await receiver.next()
    await new Promise((resolve) => setTimeout(resolve, 50))
    const collected = await metrics()
    const attempts = collected.find((m) => m.descriptor.name === 'moderation.webhook.attempts')!
    const points = attempts.dataPoints as { attributes: Record<string, unknown>; value: unknown }[]
    expect(sumOf(points, { 'moderation.webhook.outcome': 'retry' })).toBe(1)
    expect(sumOf(points, { 'moderation.webhook.outcome': 'delivered' })).toBe(1)
    expect(collected.find((m) => m.descriptor.name === 'moderation.webhook.pending')?.dataPoints[0]?.value).toBe(0)
  })

  it('counts every answer in http.server.request.duration by route pattern and status: handlers, errors from middleware, 404s', async () => {
    const { telemetry, metrics } = setup()
    const { app } = await buildService({ gemini, telemetry, env: { MODERATION_API_KEYS: 'key-one' } })
    const auth = { authorization: 'Bearer key-one', 'content-type': 'application/json' }
    await app.request('/v1/moderate', { method: 'POST', headers: auth, body: JSON.stringify({ text: `routes ${Date.now()}` }) })
    await app.request('/v1/moderate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    await app.request('/v1alpha1/comments:analyze', { method: 'POST', headers: auth, body: JSON.stringify({ comment: { text: 'hello there' }, requestedAttributes: { TOXICITY: {} } }) })
    await app.request('/v1/jobs/no-such-job', { headers: auth })
    await app.request('/nowhere')
    // Methods outside HTTP's own are one series, not one each (semantic conventions: _OTHER).
    for (const method of ['PROPFIND', 'MKCOL', 'PURGE']) await app.request('/nowhere', { method })
    const duration = (await metrics()).find((m) => m.descriptor.name === 'http.server.request.duration')!
    expect(duration.descriptor.unit).toBe('s')
    const seen = duration.dataPoints.map((p) => `${p.attributes['http.request.method']} ${p.attributes['http.route']} ${p.attributes['http.response.status_code']}`).sort()
    expect(seen).toEqual(['GET /* 404', 'GET /v1/jobs/:id 404', 'POST /v1/moderate 200', 'POST /v1/moderate 401', 'POST /v1alpha1/comments:analyze 200', '_OTHER /* 404'])
  })

  describe('whose traceparent a request span continues (MODERATION_TRUST_TRACEPARENT)', () => {
    const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
    const CALLER_SPAN = '00f067aa0ba902b7'
    const traceparent = `00-${CALLER_TRACE}-${CALLER_SPAN}-01`

    /** Each request's server span: whether it continued the caller's trace, and its status. */
    async function serverSpans(env: Record<string, string>, requests: [string, RequestInit][]) {
      const { spans, telemetry } = setup()
      const { app } = await buildService({ gemini, telemetry: { ...telemetry, propagator: new W3CTraceContextPropagator() }, env })
      const seen: string[] = []
      for (const [path, init] of requests) {
        spans.reset()
        const res = await app.request(path, { ...init, headers: { traceparent, ...(init.headers as Record<string, string>) } })
        const server = spans.getFinishedSpans().find((span) => span.name.includes(' /'))!
        const continued = server.spanContext().traceId === CALLER_TRACE && server.parentSpanContext?.spanId === CALLER_SPAN
        // An ignored context leaves no trace of the caller's ids on any span.
        if (!continued) expect(spans.getFinishedSpans().filter((span) => span.spanContext().traceId === CALLER_TRACE || (span === server && span.parentSpanContext)).map((span) => span.name)).toEqual([])
        seen.push(`${res.status} ${continued ? 'continued' : 'own trace'}`)
      }
      return seen
    }
    const json = (text: string, headers: Record<string, string> = {}): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ text }) })
    const analyze = (query: string): [string, RequestInit] => [`/v1alpha1/comments:analyze${query}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ comment: { text: 'hello there' }, requestedAttributes: { TOXICITY: {} } }) }]

    it('by default, only a caller presenting a valid key (bearer or ?key=): a forged or missing key, or a public page, starts a trace of its own', async () => {
      const seen = await serverSpans({ MODERATION_API_KEYS: 'key-one,key-two' }, [
        ['/v1/moderate', json(`trusted ${Date.now()}`, { authorization: 'Bearer key-two' })],
        ['/v1/moderate', json('forged', { authorization: 'Bearer key-three' })],
        ['/v1/moderate', json('no key')],
        analyze('?key=key-one'),
        analyze('?key=wrong'),
        ['/openapi.json', {}],
        // ?key= counts on Perspective's route alone, as it does for authentication.
        ['/v1/moderate?key=key-one', json('query key on /v1')],
        // A token longer than any key is not even hashed: the caller is served, under a trace of its own.
        ['/v1/moderate', json('long token', { authorization: `Bearer ${'k'.repeat(600)}` })],
      ])
      expect(seen).toEqual(['200 continued', '401 own trace', '401 own trace', '200 continued', '401 own trace', '200 own trace', '401 own trace', '401 own trace'])
    })

    it('by default, every caller when the service has no keys (every request is authenticated)', async () => {
      expect(await serverSpans({}, [['/v1/moderate', json(`open ${Date.now()}`)], ['/openapi.json', {}]])).toEqual(['200 continued', '200 continued'])
    })

    it('never: not even a valid key; always: even a forged one', async () => {
      const requests: [string, RequestInit][] = [
        ['/v1/moderate', json(`valid ${Date.now()}`, { authorization: 'Bearer key-one' })],
        ['/v1/moderate', json('forged', { authorization: 'Bearer nope' })],
      ]
      expect(await serverSpans({ MODERATION_API_KEYS: 'key-one', MODERATION_TRUST_TRACEPARENT: 'never' }, requests)).toEqual(['200 own trace', '401 own trace'])
      expect(await serverSpans({ MODERATION_API_KEYS: 'key-one', MODERATION_TRUST_TRACEPARENT: 'always' }, requests)).toEqual(['200 continued', '401 continued'])
    })

    it('refuses any other setting at start, naming the variable', async () => {
      await expect(buildService({ env: { MODERATION_TRUST_TRACEPARENT: 'sometimes' } })).rejects.toThrow(/MODERATION_TRUST_TRACEPARENT/)
    })
  })
})
