/**
 * core/shared/: What every layer shares: the verdict shape (DESIGN.md's contract, this file), the
 * model port (model.ts), the ports the core calls through (ports.ts: clock, logger, cache),
 * problems (problem.ts), hashing, base64 and the address guard (ssrf.ts).
 *
 * May import: zod only; nothing of this service.
 */
import { z } from 'zod'

export const actionSchema = z.enum(['allow', 'review', 'block'])
export type Action = z.infer<typeof actionSchema>

export const sourceSchema = z.enum(['model', 'cache', 'local', 'fallback'])
export type VerdictSource = z.infer<typeof sourceSchema>

export const fallbackReasonSchema = z.enum([
  'timeout',
  'invalid_output',
  'upstream_error',
  'rate_limited',
  'circuit_open',
  'overloaded',
])
export type FallbackReason = z.infer<typeof fallbackReasonSchema>

/** The answer to every moderation request (DESIGN.md). */
export const verdictSchema = z.object({
  id: z.string(),
  safe: z.boolean(),
  action: actionSchema,
  categories: z.array(z.string()),
  confidence: z.number().min(0).max(1),
  source: sourceSchema,
  fallback_reason: fallbackReasonSchema.optional(),
  // Extra facts a client may act on: model_safety_block, local_block_list, image_not_judged, ...
  signals: z.array(z.string()).optional(),
  // With the frames_not_judged signal: which frames of which image (0-based, in request order) no one judged.
  unjudged_frames: z.array(z.object({ image: z.number().int(), first: z.number().int(), last: z.number().int() })).optional(),
  // The embedded classifier's scores (0..1) for the categories it knows, whenever it read the text.
  local_scores: z.record(z.string(), z.number().min(0).max(1)).optional(),
  policy: z.string(),
  policy_version: z.string(),
  model: z.string(),
  latency_ms: z.number(),
  budget_ms: z.number(),
})
export type Verdict = z.infer<typeof verdictSchema>

/** The part of a verdict that depends only on the content and the policy: what the cache stores. */
export const judgementSchema = verdictSchema.pick({ safe: true, action: true, categories: true, confidence: true, model: true, signals: true })
export type Judgement = z.infer<typeof judgementSchema>

const ACTION_RANK: Record<Action, number> = { allow: 0, review: 1, block: 2 }

export function strictestAction(...actions: Action[]): Action {
  return actions.reduce((worst, action) => (ACTION_RANK[action] > ACTION_RANK[worst] ? action : worst), 'allow')
}
