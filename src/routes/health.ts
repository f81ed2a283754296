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
  // Where shared state lives (Node): the process (`memory`: lost on restart, not shared between
  // instances) or Redis, and whether Redis answers now. Absent on Workers.
  store: z.object({ kind: z.enum(['memory', 'redis']), connected: z.boolean().optional() }).optional(),
})

export type StoreStatus = z.infer<typeof readySchema>['store']

export const alwaysReady: Readiness = { notReadyReason: () => undefined }

/** GET /healthz (the process answers) and GET /readyz (it should get traffic). */
export function healthRoutes({ readiness, mode, policyCount, circuit, store }: { readiness: Readiness; mode: string; policyCount: number; circuit: () => string; store?: () => StoreStatus }) {
  const app = new Hono<AppEnv>()
  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  app.get('/readyz', (c) => {
    const reason = readiness.notReadyReason()
    if (reason) return errorResponse(c, 'service_unavailable', reason, { 'Retry-After': '5' })
    // Still ready with the circuit open: the service answers, conservatively, within budget.
    // Still ready with Redis down: verdicts come without the shared cache.
    return c.json({ status: 'ready', mode, policies: policyCount, circuit: circuit(), store: store?.() })
  })
  return app
}
