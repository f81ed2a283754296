import type { LogFields } from '../core/ports.js'

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
  }
}
