/**
 * compat/: Other APIs' shapes: OpenAI's /v1/moderations (this file) and Perspective's
 * comments:analyze and its discovery document.
 *
 * May import: http, core/*.
 */
import { z } from 'zod'
import { verdictSchema, type Verdict } from '../core/shared/verdict.js'
import { budgetMsSchema } from '../http/read-moderation-body.js'

/** The request body of OpenAI's POST /v1/moderations, plus our two optional extensions. */
export const openAiModerationRequestSchema = z.object({
  input: z.union([
    z.string(),
    z.array(z.string()).min(1),
    z
      .array(
        z.discriminatedUnion('type', [
          z.object({ type: z.literal('text'), text: z.string() }),
          z.object({ type: z.literal('image_url'), image_url: z.object({ url: z.string().min(1) }) }),
        ]),
      )
      .min(1),
  ]),
  model: z.string().optional(),
  // Ours, not OpenAI's: the policy to apply and a lower budget (also as X-Moderation-Policy / -Budget-Ms).
  policy: z.string().min(1).optional(),
  budget_ms: budgetMsSchema.optional(),
})
export type OpenAiModerationRequest = z.infer<typeof openAiModerationRequestSchema>

export const OPENAI_CATEGORIES = [
  'harassment',
  'harassment/threatening',
  'hate',
  'hate/threatening',
  'illicit',
  'illicit/violent',
  'self-harm',
  'self-harm/intent',
  'self-harm/instructions',
  'sexual',
  'sexual/minors',
  'violence',
  'violence/graphic',
] as const
type OpenAiCategory = (typeof OPENAI_CATEGORIES)[number]

/**
 * How our taxonomy scores OpenAI's 13 categories (README: "OpenAI category mapping"). A score is
 * the verdict's confidence for each of our categories it flagged, 0 for the others. Where our
 * taxonomy has no sub-category, the parent's score stands for it ("intent", "instructions",
 * "graphic"); a "threatening"/"violent" variant needs `violence` flagged too, and takes the lower
 * of the two scores.
 */
const MAPPING: Record<OpenAiCategory, (score: (ours: string) => number) => number> = {
  harassment: (s) => s('harassment'),
  'harassment/threatening': (s) => Math.min(s('harassment'), s('violence')),
  hate: (s) => s('hate'),
  'hate/threatening': (s) => Math.min(s('hate'), s('violence')),
  illicit: (s) => s('illicit'),
  'illicit/violent': (s) => Math.min(s('illicit'), s('violence')),
  'self-harm': (s) => s('self_harm'),
  'self-harm/intent': (s) => s('self_harm'),
  'self-harm/instructions': (s) => s('self_harm'),
  sexual: (s) => Math.max(s('sexual'), s('sexual_minors')),
  'sexual/minors': (s) => s('sexual_minors'),
  violence: (s) => s('violence'),
  'violence/graphic': (s) => s('violence'),
}

export type InputType = 'text' | 'image'

const perCategory = <T>(value: (category: OpenAiCategory) => T) =>
  Object.fromEntries(OPENAI_CATEGORIES.map((category) => [category, value(category)])) as Record<OpenAiCategory, T>

/**
 * One OpenAI `results[]` entry from our verdict, which rides along as `moderation`. A fallback
 * is always flagged: never silently unflagged. When a flagged result maps onto none of OpenAI's
 * categories (a fallback, a low-confidence review, a category OpenAI lacks such as `pii`), every
 * score is 1: the service cannot say which, and a client thresholding scores must hold it too.
 */
export function openAiResult(verdict: Verdict, inputTypes: InputType[]) {
  const flagged = verdict.action !== 'allow' || verdict.source === 'fallback'
  const score = (ours: string) => (verdict.categories.includes(ours) ? verdict.confidence : 0)
  const mapped = perCategory((category) => MAPPING[category](score))
  const unmapped = flagged && (verdict.source === 'fallback' || Object.values(mapped).every((value) => value === 0))
  const scores = unmapped ? perCategory(() => 1) : mapped
  return {
    flagged,
    categories: perCategory((category) => flagged && scores[category] > 0),
    category_scores: scores,
    category_applied_input_types: perCategory(() => inputTypes),
    moderation: verdict,
  }
}

/** The entry for an item of a batch that could not be judged (bad input): flagged, with the error. */
export function openAiErrorResult(code: string, message: string) {
  return {
    flagged: true,
    categories: perCategory(() => false),
    category_scores: perCategory(() => 0),
    category_applied_input_types: perCategory((): InputType[] => []),
    moderation: { error: { code, message } },
  }
}

const categoryRecord = <T extends z.ZodType>(value: T) => z.object(Object.fromEntries(OPENAI_CATEGORIES.map((category) => [category, value])) as Record<OpenAiCategory, T>)

/** The response of POST /v1/moderations: OpenAI's shape, our verdict (or an item's error) as `moderation`. */
export const openAiModerationResponseSchema = z.object({
  id: z.string(),
  model: z.string(),
  results: z.array(
    z.object({
      flagged: z.boolean(),
      categories: categoryRecord(z.boolean()),
      category_scores: categoryRecord(z.number().min(0).max(1)),
      category_applied_input_types: categoryRecord(z.array(z.enum(['text', 'image']))),
      moderation: z.union([verdictSchema, z.object({ error: z.object({ code: z.string(), message: z.string() }) })]),
    }),
  ),
})
