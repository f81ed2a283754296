import { type Context, context as otelContext, type Span, SpanStatusCode } from '@opentelemetry/api'
import type { Telemetry } from '../telemetry/telemetry.js'
import type { Verdict } from '../shared/verdict.js'
import type { LocalCheck } from './local-check.js'
import type { RequestContext } from './moderation-request.js'

/**
 * The `moderation` span every verdict is made in, with the request's attributes; the verdict's
 * attributes and metrics are recorded on the way out.
 */
export function traced(telemetry: Telemetry, request: RequestContext, work: (span: Span) => Promise<Verdict>): Promise<Verdict> {
  return telemetry.tracer.startActiveSpan('moderation', {}, request.trace ?? otelContext.active(), async (span) => {
    describeRequest(span, request)
    try {
      return recordVerdict(telemetry, span, await work(span))
    } catch (error) {
      span.recordException(error as Error)
      span.setStatus({ code: SpanStatusCode.ERROR })
      throw error
    } finally {
      span.end()
    }
  })
}

export function describeRequest(span: Span, request: RequestContext) {
  span.setAttributes({
    'moderation.policy': request.policy.name,
    'moderation.policy_version': request.policy.version,
    'moderation.budget_ms': request.budgetMs,
    request_id: request.requestId,
  })
}

export function describeLocalScores(span: Span, local: LocalCheck) {
  for (const [category, score] of Object.entries(local.scores ?? {})) span.setAttribute(`moderation.local_score.${category}`, score)
}

export function recordVerdict(telemetry: Telemetry, span: Span, verdict: Verdict): Verdict {
  span.setAttributes({
    'moderation.action': verdict.action,
    'moderation.source': verdict.source,
    'moderation.latency_ms': verdict.latency_ms,
  })
  if (verdict.fallback_reason) span.setAttribute('moderation.fallback_reason', verdict.fallback_reason)
  telemetry.recordVerdict(verdict)
  return verdict
}

export function inChildSpan<T>(telemetry: Telemetry, parent: Context, name: string, work: (span: Span) => T): T {
  const span = telemetry.tracer.startSpan(name, {}, parent)
  try {
    return work(span)
  } finally {
    span.end()
  }
}

export async function inChildSpanAsync<T>(telemetry: Telemetry, parent: Context, name: string, work: (span: Span) => Promise<T>): Promise<T> {
  const span = telemetry.tracer.startSpan(name, {}, parent)
  try {
    return await work(span)
  } finally {
    span.end()
  }
}
