/**
 * Limits on the shape of a JSON body, checked in one linear pass over the text before
 * JSON.parse. Our bodies nest about 4 deep and hold a few dozen values; without this, a body of
 * 2M `[` or 2M array elements (4 MiB, inside the body limit) cost 1-16 s of blocked event loop in
 * JSON.parse and the schema's walk over it (bench/hostile-inputs.ts).
 */
export interface JsonShapeLimits {
  maxDepth: number
  /** Array elements and object members in the whole body, counted as `,` plus containers. */
  maxValues: number
}

export const JSON_SHAPE_LIMITS: JsonShapeLimits = { maxDepth: 32, maxValues: 10_000 }

const BACKSLASH = 0x5c
// Escaped quotes each cost a search inside a string: more than any text within the limits holds.
const MAX_ESCAPED_QUOTES = 250_000
const STRUCTURAL = ['[', ']', '{', '}', ',', '"'] as const

/**
 * Why `text` is refused, or undefined. Jumps from one structural character to the next with
 * native searches (indexOf: a few hundredths of a nanosecond per character) instead of reading
 * every character (2-10 ns each here: 10 MiB of spaces took 100-170 ms that way), and stops at
 * the first limit passed. Every search is counted against a limit (values, strings, escaped
 * quotes) or ends the scan (a close without an open), so the calls are bounded too. Malformed
 * JSON is left to JSON.parse.
 *
 * @example
 * const refusal = checkJsonShape(text)
 * if (refusal) throw new ApiError('invalid_request', refusal)
 */
export function checkJsonShape(text: string, { maxDepth, maxValues }: JsonShapeLimits = JSON_SHAPE_LIMITS): string | undefined {
  // In JSON every string is a value or a member's key: more strings than that is no JSON of ours.
  const maxStrings = 2 * maxValues + 2
  let depth = 0
  let values = 0
  let strings = 0
  let escapedQuotes = 0
  // The next position of each structural character at or after `at` (Infinity: none left).
  const next = STRUCTURAL.map((char) => find(text, char, 0))
  let at = 0
  for (;;) {
    let which = 0
    for (let k = 1; k < next.length; k++) if (next[k]! < next[which]!) which = k
    const i = next[which]!
    if (i === Number.POSITIVE_INFINITY) return undefined
    at = i + 1
    switch (STRUCTURAL[which]) {
      case '"': {
        if (++strings > maxStrings) return tooManyValues(maxValues)
        const end = stringEnd(text, i)
        escapedQuotes += end.escapedQuotes
        if (escapedQuotes > MAX_ESCAPED_QUOTES) return `JSON body has more than ${MAX_ESCAPED_QUOTES} escaped quotes; at most ${MAX_ESCAPED_QUOTES}`
        at = end.at + 1
        break
      }
      case '[':
      case '{':
        if (++depth > maxDepth) return `JSON body nests more than ${maxDepth} levels deep; at most ${maxDepth}`
        if (++values > maxValues) return tooManyValues(maxValues)
        break
      case ']':
      case '}':
        // More closes than opens is malformed: JSON.parse says so at once.
        if (--depth < 0) return undefined
        break
      default:
        if (++values > maxValues) return tooManyValues(maxValues)
    }
    // Positions passed (this one, and any inside a string just skipped) are searched again from here.
    for (let k = 0; k < next.length; k++) if (next[k]! < at) next[k] = find(text, STRUCTURAL[k]!, at)
  }
}

const find = (text: string, char: string, from: number) => {
  const at = text.indexOf(char, from)
  return at < 0 ? Number.POSITIVE_INFINITY : at
}

const tooManyValues = (max: number) => `JSON body has more than ${max} values (array elements and object members); at most ${max}`

/**
 * The quote closing the string opened at `open` (or the text's end), and how many escaped quotes
 * it passed. indexOf does the scanning; a quote preceded by an odd run of backslashes is escaped.
 * Each backslash run is counted once, for the quote that follows it, so the pass stays linear.
 */
function stringEnd(text: string, open: number): { at: number; escapedQuotes: number } {
  let at = open
  let escapedQuotes = 0
  for (;;) {
    at = text.indexOf('"', at + 1)
    if (at < 0) return { at: text.length, escapedQuotes }
    let backslashes = 0
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++
    if (backslashes % 2 === 0) return { at, escapedQuotes }
    if (++escapedQuotes > MAX_ESCAPED_QUOTES) return { at, escapedQuotes }
  }
}
