import type { ModelResult, ThinkingLevel } from '../core/shared/model.js'

export interface Posted {
  status: number
  /** The body parsed as JSON; undefined when it was not JSON (a gateway's HTML error page). */
  json: unknown
  text: string
}

/**
 * POSTs JSON and reads the whole answer, whatever its status. Throws only when there is no
 * answer (network failure, abort).
 */
export async function postJson(fetchFn: typeof fetch, url: string, body: unknown, headers: Record<string, string>, signal: AbortSignal): Promise<Posted> {
  const res = await fetchFn(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal })
  const text = await res.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: res.status, json, text }
}

const LEVELS: ThinkingLevel[] = ['minimal', 'low', 'medium', 'high']

/** The next thinking level up, for a model that refused one; undefined past the highest. */
export const nextLevel = (level: ThinkingLevel): ThinkingLevel | undefined => LEVELS[LEVELS.indexOf(level) + 1]

/**
 * Failure details are logged: this takes the key out of them (an upstream error may echo it), and
 * any credentials written into a URL.
 */
export function scrubber(secret: string | undefined): (text: string) => string {
  return (text) => {
    let clean = text.replace(/(\/\/)[^/@\s]*@/g, '$1[redacted]@')
    if (secret && secret.length >= 6) clean = clean.split(secret).join('[redacted]')
    return clean
  }
}

/** A request that got no answer: the budget's abort, or the network. */
export function noAnswer(error: unknown, signal: AbortSignal, scrub: (text: string) => string): ModelResult {
  if (signal.aborted) return { kind: 'failure', reason: 'timeout', detail: 'aborted at the end of the budget' }
  return { kind: 'failure', reason: 'upstream_error', detail: scrub((error as Error)?.message ?? String(error)) }
}

/** An HTTP error status as a failure: 429 is rate limiting, anything else an upstream error. */
export function httpFailure(status: number, message: string, scrub: (text: string) => string): ModelResult {
  return { kind: 'failure', reason: status === 429 ? 'rate_limited' : 'upstream_error', detail: scrub(`HTTP ${status}: ${message.slice(0, 200)}`), status }
}

export const dataUrl = (mimeType: string, base64: string) => `data:${mimeType};base64,${base64}`
