/** A request the service cannot judge: it becomes a 4xx with the error envelope, never a verdict. */
export type ProblemCode = 'invalid_request' | 'payload_too_large' | 'unsupported_media_type' | 'unprocessable_content'

export interface Problem {
  code: ProblemCode
  message: string
}

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: Problem }

export const problem = (code: ProblemCode, message: string): { ok: false; problem: Problem } => ({
  ok: false,
  problem: { code, message },
})

/**
 * A piece of the caller's input short enough to quote in an error message: messages are read by
 * people and logged, and must not echo a megabyte back.
 */
export const excerpt = (value: string, max = 64): string => (value.length <= max ? value : `${value.slice(0, max)}…`)
