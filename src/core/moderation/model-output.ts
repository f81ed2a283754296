import { z } from 'zod'
import type { Policy } from './policy.js'

/**
 * The one schema for what the model must answer: it generates the response schema sent to the
 * model and validates what comes back. Categories are limited to the policy's taxonomy.
 *
 * @example
 * modelOutputSchema(['hate', 'sexual']).safeParse({ safe: true, categories: [], confidence: 0.97 })
 */
export function modelOutputSchema(categoryNames: string[]) {
  return z
    .object({
      safe: z.boolean(),
      categories: z.array(z.enum(categoryNames as [string, ...string[]])).max(categoryNames.length),
      confidence: z.number().min(0).max(1),
      rationale: z.string().max(400).optional(),
    })
    .strict()
    .refine((o) => !(o.safe && o.categories.length > 0), { message: 'safe: true with categories listed' })
    .refine((o) => o.safe || o.categories.length > 0, { message: 'safe: false without a category' })
}

export type ModelOutput = z.infer<ReturnType<typeof modelOutputSchema>>

const schemaCache = new WeakMap<Policy, { schema: ReturnType<typeof modelOutputSchema>; json: Record<string, unknown> }>()

/** The validating schema and its JSON Schema twin for a policy, built once per policy. */
export function outputSchemaFor(policy: Policy) {
  let entry = schemaCache.get(policy)
  if (!entry) {
    const schema = modelOutputSchema(policy.categoryNames)
    const { $schema: _ignored, ...json } = z.toJSONSchema(schema) as Record<string, unknown>
    entry = { schema, json }
    schemaCache.set(policy, entry)
  }
  return entry
}

export type OutputCheck = { ok: true; output: ModelOutput } | { ok: false; problem: string }

/** Parses and validates the model's text; anything but exactly the schema is a problem, never a guess. */
export function checkModelOutput(policy: Policy, text: string): OutputCheck {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return { ok: false, problem: 'output is not JSON' }
  }
  const parsed = outputSchemaFor(policy).schema.safeParse(raw)
  if (parsed.success) return { ok: true, output: parsed.data }
  const issue = parsed.error.issues[0]
  return { ok: false, problem: `${issue?.path.join('.') || 'output'}: ${issue?.message ?? 'invalid'}` }
}
