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

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d

/**
 * Why `text` is refused, or undefined. Stops at the first limit passed, so a hostile body costs
 * no more than the part of it read up to there. Malformed JSON is left to JSON.parse.
 *
 * @example
 * const refusal = checkJsonShape(text)
 * if (refusal) throw new ApiError('invalid_request', refusal)
 */
export function checkJsonShape(text: string, { maxDepth, maxValues }: JsonShapeLimits = JSON_SHAPE_LIMITS): string | undefined {
  let depth = 0
  let values = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code === QUOTE) {
      i = stringEnd(text, i)
    } else if (code === OPEN_ARRAY || code === OPEN_OBJECT) {
      if (++depth > maxDepth) return `JSON body nests more than ${maxDepth} levels deep; at most ${maxDepth}`
      if (++values > maxValues) return tooManyValues(maxValues)
    } else if (code === CLOSE_ARRAY || code === CLOSE_OBJECT) {
      depth--
    } else if (code === COMMA && ++values > maxValues) {
      return tooManyValues(maxValues)
    }
  }
  return undefined
}

const tooManyValues = (max: number) => `JSON body has more than ${max} values (array elements and object members); at most ${max}`

/**
 * The index of the quote closing the string opened at `open` (or the text's end). indexOf does
 * the scanning; a quote preceded by an odd run of backslashes is escaped. Each backslash run is
 * counted once, for the quote that follows it, so the pass stays linear.
 */
function stringEnd(text: string, open: number): number {
  let at = open
  for (;;) {
    at = text.indexOf('"', at + 1)
    if (at < 0) return text.length
    let backslashes = 0
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++
    if (backslashes % 2 === 0) return at
  }
}
