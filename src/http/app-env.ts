/**
 * http/: What routes share: the per-request variables (this file), auth, body limits and reading,
 * errors, load shedding, replay guard, tracing and the access log, and judging one item against
 * its budget (judge-item.ts).
 *
 * May import: core/*.
 */
import type { Context as TraceContext } from '@opentelemetry/api'
import type { LogFields } from '../core/shared/ports.js'
import type { TraceLogFields } from '../core/telemetry/trace-context.js'

/** Per-request variables every route and middleware may use. */
export interface AppEnv {
  Variables: {
    requestId: string
    /** Clock time the request arrived: latency budgets count from here. */
    startedAt: number
    /** Extra fields for the access log line (hashes and sizes, never content). */
    logFields: LogFields
    /** Who is calling, as far as authentication tells: scopes idempotency keys and jobs. */
    clientId: string
    /** The request span's `trace_id` and `span_id`, for the access log line ({} without a trace). */
    traceFields: TraceLogFields
    /** The request span's context: work that outlives the request (a delivery) continues its trace. */
    traceContext: TraceContext
  }
}
