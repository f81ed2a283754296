/**
 * Unicode NFKC with a bound on what it produces: the one normalisation every local check reads
 * text through (word lists, classifier, injection detector), whatever the text expands to.
 */

/**
 * The most characters of normalised text the local checks read. NFKC can make a text 18 times
 * longer (U+FDFA), so the input's limit does not bound it: 30,000 of those became 540,000
 * characters and stalled the event loop for 0.3-0.45 s (issue 12). Twice the default text limit.
 */
export const MAX_NORMALIZED_CHARS = 100_000
const NFKC_CHUNK = 4_096

/** Text after NFKC, cut at `maxChars`; `complete` is false when it was cut. */
export interface Normalized {
  text: string
  complete: boolean
}

/**
 * NFKC in chunks, stopping once the output passes `maxChars`: the cost follows what is kept, not
 * what the input could expand to. Chunks end before an ASCII character where there is one (an
 * ASCII character never composes with what precedes it), else before a character that starts a
 * new cluster, so the result is the same as normalising the whole text.
 */
export function nfkcBounded(text: string, maxChars = MAX_NORMALIZED_CHARS): Normalized {
  if (text.length * 18 <= maxChars) return { text: text.normalize('NFKC'), complete: true }
  const out: string[] = []
  let kept = 0
  let at = 0
  while (at < text.length) {
    const end = chunkEnd(text, at)
    const part = text.slice(at, end).normalize('NFKC')
    out.push(part)
    kept += part.length
    at = end
    if (kept > maxChars) return { text: out.join('').slice(0, maxChars), complete: false }
  }
  return { text: out.join(''), complete: true }
}

function chunkEnd(text: string, from: number): number {
  const limit = from + NFKC_CHUNK
  if (limit >= text.length) return text.length
  for (let i = limit; i > from + NFKC_CHUNK / 2; i--) if (text.charCodeAt(i) < 0x80) return i
  for (let i = limit; i > from + NFKC_CHUNK / 2; i--) if (startsCluster(text.charCodeAt(i))) return i
  return limit
}

// Not a low surrogate, a combining mark, or a Hangul vowel or final consonant (which compose backwards).
const MARK = /^[\p{M}\u1160-\u11ff\ud7b0-\ud7ff]$/u
const startsCluster = (code: number) => !(code >= 0xdc00 && code <= 0xdfff) && !MARK.test(String.fromCharCode(code))

