import { Hono } from 'hono'
import { z } from 'zod'
import type { AppEnv } from '../http/app-env.js'
import { errorResponse } from '../http/errors.js'

export interface Readiness {
  /** Undefined when ready; otherwise why not (e.g. "shutting down"). */
  notReadyReason(): string | undefined
}

export const healthSchema = z.object({ status: z.literal('ok') })
export const readySchema = z.object({
  status: z.literal('ready'),
  mode: z.enum(['gemini', 'local']),
  policies: z.number(),
  // The model circuit: open means calls are refused and answered with the conservative verdict.
  circuit: z.enum(['closed', 'open', 'half_open', 'none']),
})

export const alwaysReady: Readiness = { notReadyReason: () => undefined }

/** GET /healthz (the process answers) and GET /readyz (it should get traffic). */
export function healthRoutes({ readiness, mode, policyCount, circuit }: { readiness: Readiness; mode: string; policyCount: number; circuit: () => string }) {
  const app = new Hono<AppEnv>()
  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  app.get('/readyz', (c) => {
    const reason = readiness.notReadyReason()
    if (reason) return errorResponse(c, 'service_unavailable', reason, { 'Retry-After': '5' })
    // Still ready with the circuit open: the service answers, conservatively, within budget.
    return c.json({ status: 'ready', mode, policies: policyCount, circuit: circuit() })
  })
  return app
}
