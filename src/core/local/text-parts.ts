/**
 * The parts of a text the classifier scores on their own: where sentences end (one linear pass),
 * the sentences and windows of a text, and the bounded sample of a long one. Plain string work,
 * no model: text-classifier.ts scores what these pick out.
 */

/**
 * The most characters the classifier reads of one text: about 5 ms of CPU (it costs about 0.3 ms
 * per 1,000 characters: each part deduplicates its own features). Longer texts are read in part:
 * see `sampleText`.
 */
export const CLASSIFIER_SCAN_CHARS = 16_000
const SAMPLE_EDGE = 6_000
const SAMPLE_WINDOWS = 8

/**
 * A bounded part of a long text that cannot be steered to miss what matters most: always the
 * first and the last 6,000 characters, and 8 windows spread evenly over the middle, joined as
 * separate sentences. `partial` says the rest went unread, so the verdict can say so.
 */
export function sampleText(text: string, maxChars = CLASSIFIER_SCAN_CHARS): { text: string; partial: boolean } {
  if (text.length <= maxChars) return { text, partial: false }
  const edge = Math.min(SAMPLE_EDGE, Math.floor(maxChars * 0.375))
  const window = Math.floor((maxChars - 2 * edge) / SAMPLE_WINDOWS)
  const middle = text.length - 2 * edge
  const parts = [text.slice(0, edge)]
  for (let i = 0; i < SAMPLE_WINDOWS; i++) {
    const at = edge + Math.floor(((middle - window) * i) / (SAMPLE_WINDOWS - 1))
    parts.push(text.slice(at, at + window))
  }
  parts.push(text.slice(text.length - edge))
  return { text: parts.join(' . '), partial: true }
}

export const MIN_SPAN = 24
const WINDOWS = [96, 48]

// Sentence-ending punctuation; the CJK full stops end a sentence even without a space after them.
const isTerminal = (code: number) => code === 0x2e || code === 0x21 || code === 0x3f || code === 0x61f || code === 0x0a || isCjkTerminal(code)
const isCjkTerminal = (code: number) => code === 0x3002 || code === 0xff01 || code === 0xff1f
const isSpace = (code: number) => code === 0x20 || (code >= 0x09 && code <= 0x0d) || (code >= 0x80 && SPACE.test(String.fromCharCode(code)))
const SPACE = /^\s$/

function lastSpaceBetween(text: string, from: number, to: number): number {
  for (let k = to - 1; k > from; k--) if (isSpace(text.charCodeAt(k))) return k
  return -1
}

/**
 * Where sentences end, in one pass: a run of terminal punctuation followed by a space or the end,
 * or a run of CJK full stops anywhere. [start, end) of each run. A regular expression did this
 * before, and backtracked: 50 KB of ".!.!...x" took 9 s (issue 12).
 */
export function sentenceEnds(text: string): [number, number][] {
  const ends: [number, number][] = []
  const length = text.length
  let i = 0
  while (i < length) {
    if (!isTerminal(text.charCodeAt(i))) {
      i++
      continue
    }
    let j = i
    while (j < length && isTerminal(text.charCodeAt(j))) j++
    const endsAtSpace = j === length || isSpace(text.charCodeAt(j))
    const newline = endsAtSpace ? -1 : lastSpaceBetween(text, i, j)
    if (endsAtSpace) ends.push([i, j])
    else if (newline > i) {
      // A newline is both: the run ends before the last one in it, which starts the next run.
      ends.push([i, newline])
      i = newline
      continue
    }
    else {
      // Not followed by a space: only its CJK full stops end a sentence.
      for (let k = i; k < j; ) {
        if (!isCjkTerminal(text.charCodeAt(k))) {
          k++
          continue
        }
        const from = k
        while (k < j && isCjkTerminal(text.charCodeAt(k))) k++
        ends.push([from, k])
      }
    }
    i = j
  }
  return ends
}

/**
 * The parts of a text scored on their own besides the whole: its sentences (short ones merged
 * into the one before), and windows of 96 and 48 characters, half overlapping, over long ones.
 * text-classifier.ts scores them only in texts of 200 characters or more, each with a penalty
 * that grows with their number (the README's padding table has what that keeps and costs).
 * Positions are slots: a feature at position p sits in slot p + 1.
 */
export function spans(padded: string): [number, number][] {
  // Sentences end before their punctuation (which is not part of any sentence's span).
  const sentences: [number, number][] = []
  let start = 0
  for (const [from, to] of sentenceEnds(padded)) {
    if (from - start < MIN_SPAN) continue
    sentences.push([start, from])
    start = to
  }
  const end = padded.length + 1
  const last = sentences[sentences.length - 1]
  if (end - start < MIN_SPAN && last) last[1] = end
  else sentences.push([start, end])
  const out: [number, number][] = []
  for (const [from, to] of sentences) {
    out.push([from, to])
    for (const window of WINDOWS) {
      if (to - from <= window) continue
      for (let at = from; at < to - window / 2; at += window / 2) out.push([at, Math.min(to, at + window)])
    }
  }
  return out
}

