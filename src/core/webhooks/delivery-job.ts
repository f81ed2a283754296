import { z } from 'zod'
import { verdictSchema } from '../shared/verdict.js'

export const jobStatusSchema = z.enum(['queued', 'running', 'delivered', 'failed'])
export type JobStatus = z.infer<typeof jobStatusSchema>

/** What the 202 and GET /v1/jobs/{id} show. */
export const jobSchema = z.object({
  id: z.string(),
  status: jobStatusSchema,
  callback_url: z.string(),
  // Stable across retries: receivers deduplicate on it.
  webhook_id: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
  attempts: z.number().int(),
  verdict: verdictSchema.optional(),
  last_error: z.string().optional(),
})
export type Job = z.infer<typeof jobSchema>

/** How one delivery attempt ended. */
export type AttemptResult =
  | { kind: 'delivered' }
  | { kind: 'retry'; detail: string; retryAfterMs?: number }
  /** 410 Gone: the receiver asks never to be called again at this URL. */
  | { kind: 'gone'; detail: string }
  /** Will not succeed by retrying (the URL resolves to a forbidden address). */
  | { kind: 'refused'; detail: string }

export interface WebhookTransport {
  post(url: string, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<AttemptResult>
}
