import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span, type TextMapGetter } from '@opentelemetry/api'
import type { MiddlewareHandler } from 'hono'
import type { Clock } from '../core/shared/ports.js'
import type { HttpRequestRecord, Telemetry } from '../core/telemetry/telemetry.js'
import { traceLogFields } from '../core/telemetry/trace-context.js'
import type { AppEnv } from './app-env.js'
import { routeOf } from './route-of.js'

export interface TraceRequestsOptions {
  telemetry: Pick<Telemetry, 'tracer' | 'propagator' | 'recordHttpRequest'>
  clock: Clock
  /** Paths counted in the metric but not traced: a load balancer's probes would be most of the spans. */
  untraced?: string[]
  /** Whether to continue the caller's trace context (MODERATION_TRUST_TRACEPARENT); always when absent. */
  trustParent?: (request: Request) => boolean | Promise<boolean>
}

const headersGetter: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
}

/**
 * One server span per request, a child of the caller's `traceparent` when it sends one and is
 * trusted to (`trustParent`; otherwise the start of a trace of its own), named by
 * route pattern and carrying the request id; and `http.server.request.duration` by method, route
 * and status, 4xx and 503 included. Runs after the access log has started the clock, and hands
 * it the span's ids so the request's line joins its trace.
 *
 * @example
 * app.use(traceRequests({ telemetry, clock }))
 */
export function traceRequests({ telemetry, clock, untraced = ['/healthz', '/readyz'], trustParent = () => true }: TraceRequestsOptions): MiddlewareHandler<AppEnv> {
  const { tracer, propagator } = telemetry
  const probes = new Set(untraced)
  return async function traceRequestsMiddleware(c, next) {
    const method = c.req.method
    let span: Span | undefined
    if (!probes.has(c.req.path)) {
      const trusted = trustParent(c.req.raw)
      const parent = (typeof trusted === 'boolean' ? trusted : await trusted) ? propagator.extract(ROOT_CONTEXT, c.req.raw.headers, headersGetter) : ROOT_CONTEXT
      span = tracer.startSpan(method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': c.req.path, request_id: c.get('requestId') } }, parent)
      const traced = trace.setSpan(parent, span)
      c.set('traceFields', traceLogFields(span))
      c.set('traceContext', traced)
    }
    try {
      await (span ? context.with(c.get('traceContext'), next) : next())
    } finally {
      finishRequest(telemetry, span, { method, route: routeOf(c), status: c.res.status, durationMs: clock.now() - c.get('startedAt') })
    }
  }
}

/**
 * Names and ends a request's span (if it has one) by route and status, and counts the request in
 * `http.server.request.duration`: for the app's requests and the cache hits answered before it.
 */
export function finishRequest(telemetry: Pick<Telemetry, 'recordHttpRequest'>, span: Span | undefined, record: HttpRequestRecord): void {
  if (span) {
    span.updateName(`${record.method} ${record.route}`)
    span.setAttributes({ 'http.route': record.route, 'http.response.status_code': record.status })
    if (record.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR })
    span.end()
  }
  telemetry.recordHttpRequest(record)
}
