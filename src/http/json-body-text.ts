import type { z } from 'zod'
import { excerpt, problem, type Checked } from '../core/shared/problem.js'
import { checkJsonShape } from './json-shape.js'

export interface ParseJsonOptions<S extends z.ZodType> {
  schema: S
  /**
   * Counts to refuse on the parsed value before the schema walks it element by element (array
   * lengths, key counts), with a message that names the limit.
   */
  precheck?: (raw: unknown) => Checked<never> | undefined
}

/**
 * Parses a JSON body's text: its shape is checked first (depth, value count; json-shape.ts), then
 * JSON.parse, the precheck, and the schema. A schema failure names the first issue's path and
 * message, each cut short, since paths hold the caller's keys.
 */
export function parseJsonBody<S extends z.ZodType>(text: string, { schema, precheck }: ParseJsonOptions<S>): Checked<z.infer<S>> {
  const refusal = checkJsonShape(text)
  if (refusal) return problem('invalid_request', refusal)
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return problem('invalid_request', 'body is not valid JSON')
  }
  const refused = precheck?.(raw)
  if (refused && !refused.ok) return refused
  const parsed = schema.safeParse(raw)
  if (parsed.success) return { ok: true, value: parsed.data }
  const issue = parsed.error.issues[0]!
  const path = issue.path.slice(0, 8).map((key) => excerpt(String(key), 40)).join('.')
  return problem('invalid_request', `${path || 'body'}: ${excerpt(issue.message, 200)}`)
}

/** The value at `key` of a parsed body, when the body is an object. */
export const field = (raw: unknown, key: string): unknown => (raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>)[key] : undefined)
