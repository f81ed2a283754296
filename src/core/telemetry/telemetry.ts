/**
 * core/telemetry/: The spans and metrics the service records, through @opentelemetry/api only (a
 * no-op until an SDK is registered; entry/start-telemetry.ts registers one on Node), and W3C trace
 * context for outgoing calls (trace-context.ts).
 *
 * May import: core/shared.
 */
import { metrics, propagation, trace, type Attributes, type Meter, type TextMapPropagator, type Tracer } from '@opentelemetry/api'
import type { ModelUsage } from '../shared/model.js'
import type { Verdict } from '../shared/verdict.js'

export interface TelemetryOptions {
  tracer?: Tracer
  meter?: Meter
  /** Reads and writes W3C trace context (`traceparent`); the global one (a no-op until an SDK registers one) by default. */
  propagator?: TextMapPropagator
}

export interface HttpRequestRecord {
  method: string
  /** The route pattern (`/v1/jobs/:id`), never the raw path. */
  route: string
  status: number
  durationMs: number
}

export interface ModelCallRecord {
  system: string
  model: string
  durationMs: number
  outcome: string
  usage?: ModelUsage
}

export interface Telemetry {
  tracer: Tracer
  propagator: TextMapPropagator
  /** One HTTP request answered, whatever its status (4xx, a 503 shed): `http.server.request.duration`. */
  recordHttpRequest(record: HttpRequestRecord): void
  recordVerdict(verdict: Verdict): void
  recordModelCall(record: ModelCallRecord): void
  /** A webhook job finished: delivered or failed. */
  recordDelivery(status: string): void
  /** One delivery attempt ended: delivered, retry, gone or refused. */
  recordDeliveryAttempt(outcome: string): void
  /** Where the number of jobs not yet delivered or failed is read, when metrics are collected. */
  observePendingDeliveries(read: () => number): void
  /** The circuit breaker changed state. */
  recordCircuit(state: string, provider?: string): void
}

const SCOPE = 'moderation-service'

/**
 * Spans and metrics through @opentelemetry/api. Without an SDK registered these are no-ops.
 *
 * @example
 * const telemetry = createTelemetry({ tracer: provider.getTracer('test'), meter })
 */
export function createTelemetry({
  tracer = trace.getTracer(SCOPE),
  meter = metrics.getMeter(SCOPE),
  propagator = propagation,
}: TelemetryOptions = {}): Telemetry {
  // OpenTelemetry's HTTP semantic conventions: seconds, and their advised buckets.
  const httpDuration = meter.createHistogram('http.server.request.duration', {
    unit: 's',
    description: 'Duration of HTTP server requests, by method, route and status',
    advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] },
  })
  const duration = meter.createHistogram('moderation.duration', {
    unit: 'ms',
    description: 'Time from request start to verdict',
  })
  const verdicts = meter.createCounter('moderation.verdicts', { description: 'Verdicts by action and source' })
  const fallbacks = meter.createCounter('moderation.fallbacks', { description: 'Conservative verdicts by reason' })
  const operationDuration = meter.createHistogram('gen_ai.client.operation.duration', {
    unit: 's',
    description: 'GenAI operation duration',
  })
  const circuit = meter.createCounter('moderation.circuit.transitions', { description: 'Circuit breaker state changes, by new state' })
  const deliveries = meter.createCounter('moderation.webhook.deliveries', { description: 'Webhook jobs finished, by status' })
  const attempts = meter.createCounter('moderation.webhook.attempts', { description: 'Webhook delivery attempts, by outcome' })
  const tokenUsage = meter.createHistogram('gen_ai.client.token.usage', {
    unit: '{token}',
    description: 'Tokens used per model call',
  })

  return {
    tracer,
    propagator,
    recordHttpRequest({ method, route, status, durationMs }) {
      const attributes: Attributes = { 'http.request.method': HTTP_METHODS.has(method) ? method : '_OTHER', 'http.route': route, 'http.response.status_code': status }
      if (status >= 500) attributes['error.type'] = String(status)
      httpDuration.record(durationMs / 1000, attributes)
    },
    recordVerdict(verdict) {
      const attributes: Attributes = {
        'moderation.action': verdict.action,
        'moderation.source': verdict.source,
        'moderation.policy': verdict.policy,
      }
      duration.record(verdict.latency_ms, attributes)
      verdicts.add(1, attributes)
      if (verdict.fallback_reason) {
        fallbacks.add(1, { 'moderation.fallback_reason': verdict.fallback_reason, 'moderation.policy': verdict.policy })
      }
    },
    recordCircuit(state, provider) {
      circuit.add(1, { 'moderation.circuit.state': state, ...(provider ? { 'moderation.provider': provider } : {}) })
    },
    recordDelivery(status) {
      deliveries.add(1, { 'moderation.webhook.status': status })
    },
    recordDeliveryAttempt(outcome) {
      attempts.add(1, { 'moderation.webhook.outcome': outcome })
    },
    observePendingDeliveries(read) {
      meter.createObservableGauge('moderation.webhook.pending', { description: 'Webhook jobs not yet delivered or failed (the queue depth)' }).addCallback((result) => result.observe(read()))
    },
    recordModelCall({ system, model, durationMs, outcome, usage }) {
      const attributes: Attributes = {
        'gen_ai.system': system,
        'gen_ai.operation.name': 'generate_content',
        'gen_ai.request.model': model,
        'moderation.model_outcome': outcome,
      }
      operationDuration.record(durationMs / 1000, attributes)
      if (usage?.inputTokens !== undefined) tokenUsage.record(usage.inputTokens, { ...attributes, 'gen_ai.token.type': 'input' })
      if (usage?.outputTokens !== undefined) tokenUsage.record(usage.outputTokens, { ...attributes, 'gen_ai.token.type': 'output' })
    },
  }
}

/** HTTP's own methods; any other (PROPFIND, PURGE...) is `_OTHER`, so a client cannot add series at will. */
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'])
