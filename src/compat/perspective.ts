import { z } from 'zod'
import type { Policy } from '../core/moderation/policy.js'
import { verdictSchema, type Verdict } from '../core/shared/verdict.js'

/** The request body of Perspective's comments:analyze. */
export const perspectiveRequestSchema = z.object({
  comment: z.object({ text: z.string(), type: z.literal('PLAIN_TEXT').optional() }),
  requestedAttributes: z
    .record(z.string(), z.object({ scoreType: z.literal('PROBABILITY').optional(), scoreThreshold: z.number().min(0).max(1).optional() }))
    .refine((attributes) => Object.keys(attributes).length > 0, { message: 'at least one attribute must be requested' }),
  languages: z.array(z.string()).optional(),
  doNotStore: z.boolean().optional(),
  clientToken: z.string().optional(),
  sessionId: z.string().optional(),
  spanAnnotations: z.boolean().optional(),
  // Ours, not Perspective's: the policy to apply (also as X-Moderation-Policy).
  policy: z.string().min(1).optional(),
})
export type PerspectiveRequest = z.infer<typeof perspectiveRequestSchema>

export const PERSPECTIVE_ATTRIBUTES = ['TOXICITY', 'SEVERE_TOXICITY', 'IDENTITY_ATTACK', 'INSULT', 'PROFANITY', 'THREAT'] as const
export type PerspectiveAttribute = (typeof PERSPECTIVE_ATTRIBUTES)[number]

type Score = (ours: string) => number
// What the policy decided sets a floor, whatever category of ours triggered it (sexual_minors,
// illicit, self_harm, pii, a low-confidence review): a client's threshold must hold it.
const TOXICITY_FLOOR = { allow: 0, review: 0.8, block: 1 } as const
const toxicity = (s: Score, verdict: Verdict) =>
  Math.max(s('harassment'), s('hate'), s('violence'), s('sexual'), TOXICITY_FLOOR[verdict.action])
/**
 * How each supported attribute is scored from our verdict (README: "Perspective attribute
 * mapping"): the verdict's confidence for a flagged category of ours, 0 for the others.
 */
const ATTRIBUTES: Record<PerspectiveAttribute, (s: Score, verdict: Verdict) => number> = {
  TOXICITY: toxicity,
  // Severity is the policy's call: the TOXICITY score when the policy blocks, half of it on review.
  SEVERE_TOXICITY: (s, verdict) => toxicity(s, verdict) * (verdict.action === 'block' ? 1 : verdict.action === 'review' ? 0.5 : 0),
  IDENTITY_ATTACK: (s) => s('hate'),
  INSULT: (s) => s('harassment'),
  // No profanity category of our own: insults stand for it; swearing at no one is allowed by our policies.
  PROFANITY: (s) => s('harassment'),
  THREAT: (s) => s('violence'),
}

export const isSupportedAttribute = (name: string): name is PerspectiveAttribute => (PERSPECTIVE_ATTRIBUTES as readonly string[]).includes(name)

/**
 * The answer for the requested attributes. A fallback scores every attribute 1 (0 for a policy
 * that fails open), so a client's threshold holds the comment instead of passing it silently;
 * our verdict rides along as `moderation`.
 */
export function perspectiveResponse(request: PerspectiveRequest, verdict: Verdict, policy: Policy) {
  const score: Score = (ours) => (verdict.categories.includes(ours) ? verdict.confidence : 0)
  const fallbackScore = policy.onFailure === 'allow' ? 0 : 1
  const attributeScores = Object.fromEntries(
    Object.entries(request.requestedAttributes)
      .filter(([name]) => isSupportedAttribute(name))
      .map(([name, options]) => {
        const value = verdict.source === 'fallback' ? fallbackScore : ATTRIBUTES[name as PerspectiveAttribute](score, verdict)
        return [name, Math.round(value * 10_000) / 10_000, options.scoreThreshold ?? 0] as const
      })
      // Perspective leaves out an attribute scored below the threshold the client asked for.
      .filter(([, value, threshold]) => value >= threshold)
      .map(([name, value]) => [name, { summaryScore: { value, type: 'PROBABILITY' } }]),
  )
  return {
    attributeScores,
    languages: request.languages?.length ? request.languages : ['en'],
    ...(request.clientToken ? { clientToken: request.clientToken } : {}),
    moderation: verdict,
  }
}

/** The response of comments:analyze: Perspective's shape, our verdict as `moderation`. */
export const perspectiveResponseSchema = z.object({
  attributeScores: z.partialRecord(z.enum(PERSPECTIVE_ATTRIBUTES), z.object({ summaryScore: z.object({ value: z.number().min(0).max(1), type: z.literal('PROBABILITY') }) })),
  languages: z.array(z.string()),
  clientToken: z.string().optional(),
  moderation: verdictSchema,
})

/** A Google API error, as Perspective clients expect, with our reason and request id in details. */
export const googleErrorSchema = z.object({
  error: z.object({
    code: z.number().int(),
    message: z.string(),
    status: z.string(),
    details: z.array(z.object({ '@type': z.string(), reason: z.string(), metadata: z.object({ request_id: z.string() }) })),
  }),
})
