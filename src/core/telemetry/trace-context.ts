import { isSpanContextValid, trace, type Context, type Span, type TextMapPropagator } from '@opentelemetry/api'

/**
 * The headers that carry a trace on to another service (W3C `traceparent`, `tracestate`), or
 * undefined when there is no trace to carry (no SDK, or nothing sampled upstream and here).
 *
 * @example
 * const headers = traceHeaders(telemetry.propagator, trace.setSpan(parent, span))
 */
export function traceHeaders(propagator: TextMapPropagator, context: Context): Record<string, string> | undefined {
  const carrier: Record<string, string> = {}
  propagator.inject(context, carrier, { set: (into, key, value) => void (into[key] = value) })
  return Object.keys(carrier).length > 0 ? carrier : undefined
}

export interface TraceLogFields {
  trace_id?: string
  span_id?: string
}

/** A span's ids as log fields, so a log line and its trace can be joined; {} for no span or an invalid one. */
export function traceLogFields(span: Span | undefined): TraceLogFields {
  const ids = span?.spanContext()
  return ids && isSpanContextValid(ids) ? { trace_id: ids.traceId, span_id: ids.spanId } : {}
}

/** The ids of the span active now (Node, with an SDK: AsyncLocalStorage), for log lines. */
export const activeTraceLogFields = (): TraceLogFields => traceLogFields(trace.getActiveSpan())
