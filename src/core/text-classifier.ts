import { normalize } from './local-rules.js'
import { CLASSIFIER_SCAN_CHARS, MIN_SPAN, sampleText, spans } from './text-parts.js'

/**
 * The embedded text classifier: hashed character n-grams and word n-grams into a linear model,
 * one logistic output per category it was trained for. Pure TypeScript, no allocation beyond a
 * string per call, the same on Node and in workerd. Trained by `scripts/train-local.ts`, which
 * uses `textFeatures` from here, so training and serving read text the same way.
 */

/** What the artifact's header says about itself. */
export interface TextModelHeader {
  format: 'moderation-text-classifier/1'
  /** log2 of the number of hash buckets per category. */
  bucketBits: number
  /** See `featureValue`. */
  lengthDamping: number
  categories: string[]
  /** Per category: weight = int8 × scale. */
  scales: number[]
  bias: number[]
  /** Per category, chosen on a validation split: see the README's evaluation table. */
  thresholds: Record<string, CategoryThresholds>
  /** Languages with training data, per category. */
  languages: Record<string, string[]>
  /** Data sets the model was trained from (repository and commit). */
  trainedOn: string[]
}

export interface CategoryThresholds {
  /** Score at or above which content is suspicious: best F1 on the validation split. */
  review_at: number
  /** Score at or above which the hit is clear: precision ≥ 0.9 on the validation split. */
  block_at: number
  /** Scores below this are a confident pass: at most 2% of positives score lower. */
  pass_below: number
}

export interface TextClassifier {
  header: TextModelHeader
  /**
   * Per-category scores (0..1) for the categories the model knows: the highest over the whole
   * text, each sentence, and windows of long sentences, so padding cannot dilute a hit away.
   */
  score(text: string): Record<string, number>
}

const MAGIC = 'MODTXT01'
const NGRAM_MIN = 1
const NGRAM_MAX = 5
const WORD_SEED = 0x9747b28c
const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193

/** What the classifier reads: the rule lists' normalisation, then the noise of social-media text removed. */
export function prepareText(text: string): string {
  return normalize(text)
    .replace(/https?:\/\/\S+|www\.\S+/g, ' url ')
    .replace(/@[\p{L}\p{N}_]+/gu, ' @user ')
    .replace(/&amp;/g, '&')
    .replace(/&(?:lt|gt|quot|#\d+);/g, ' ')
    .replace(/(.)\1{3,}/gu, '$1$1$1')
    .replace(/\s+/g, ' ')
    .trim()
}

// murmur3's finaliser: spreads FNV's weak low bits over the whole word.
function mix(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

// Letters, marks and digits of any script (and @, for @user) make words; punctuation, symbols
// and emoji (surrogate pairs) do not. Non-ASCII answers are cached per code unit.
const WORD_CHAR = /^[\p{L}\p{M}\p{N}]$/u
const wordCharCache = new Uint8Array(0x10000)
function isWordChar(code: number): boolean {
  if (code < 0x80) return (code >= 0x30 && code <= 0x39) || (code >= 0x61 && code <= 0x7a) || code === 0x40
  if (code >= 0xd800 && code <= 0xdfff) return false
  let known = wordCharCache[code]!
  if (known === 0) {
    known = WORD_CHAR.test(String.fromCharCode(code)) ? 1 : 2
    wordCharCache[code] = known
  }
  return known === 1
}

/**
 * Calls `emit` with the hash of every feature of already prepared text, and where it starts (a
 * character n-gram) or ends (a word) in the text padded with a space each side: character
 * 1..5-grams, and word unigrams and bigrams. Returns the number of features.
 */
export function textFeatures(prepared: string, emit: (hash: number, position: number) => void): number {
  const padded = ` ${prepared} `
  const length = padded.length
  let count = 0
  for (let start = 0; start < length; start++) {
    let h = FNV_OFFSET
    const end = Math.min(length, start + NGRAM_MAX)
    for (let i = start; i < end; i++) {
      h = Math.imul(h ^ padded.charCodeAt(i), FNV_PRIME)
      if (i - start + 1 >= NGRAM_MIN) {
        emit(mix(h), start)
        count++
      }
    }
  }
  let previous = 0
  let h = WORD_SEED
  let inWord = false
  for (let i = 0; i <= length; i++) {
    const code = i < length ? padded.charCodeAt(i) : 0x20
    if (isWordChar(code)) {
      h = Math.imul(h ^ code, FNV_PRIME)
      inWord = true
    } else if (inWord) {
      const word = mix(h)
      emit(word, i)
      count++
      if (previous !== 0) {
        emit(mix(Math.imul(previous, 31) ^ word ^ 0x5bd1e995), i)
        count++
      }
      previous = word
      h = WORD_SEED
      inWord = false
    }
  }
  return count
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z))

/**
 * Each feature of a text with n features weighs 1/sqrt(n + damping): a long text is normalised,
 * and with damping a two-word text does not ride on a handful of n-grams.
 */
export const featureValue = (count: number, damping: number) => 1 / Math.sqrt(count + damping)

/** Encodes a trained model: magic, header length, header JSON, then int8 weights per category. */
export function encodeTextModel(header: TextModelHeader, weights: Int8Array[]): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header))
  const buckets = 1 << header.bucketBits
  const out = new Uint8Array(MAGIC.length + 4 + json.length + buckets * header.categories.length)
  out.set(new TextEncoder().encode(MAGIC), 0)
  new DataView(out.buffer).setUint32(MAGIC.length, json.length, true)
  out.set(json, MAGIC.length + 4)
  let offset = MAGIC.length + 4 + json.length
  for (const w of weights) {
    out.set(new Uint8Array(w.buffer, w.byteOffset, w.byteLength), offset)
    offset += w.length
  }
  return out
}

/**
 * Reads the artifact (once per process or isolate) into a classifier.
 *
 * @example
 * const classifier = loadTextClassifier(readFileSync('models/text-classifier.bin'))
 * classifier.score('you people are vermin') // { hate: 0.97, harassment: 0.71 }
 */
export function loadTextClassifier(bytes: Uint8Array): TextClassifier {
  const start = MAGIC.length + 4
  if (bytes.length < start || new TextDecoder().decode(bytes.subarray(0, MAGIC.length)) !== MAGIC) {
    throw new Error('not a text classifier artifact (bad magic)')
  }
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(MAGIC.length, true)
  if (start + headerLength > bytes.length) throw new Error('text classifier artifact is truncated')
  let header: TextModelHeader
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(start, start + headerLength))) as TextModelHeader
  } catch {
    throw new Error('text classifier header is not JSON')
  }
  checkHeader(header)
  const buckets = 1 << header.bucketBits
  const mask = buckets - 1
  const categories = header.categories
  const weightsStart = start + headerLength
  if (bytes.length !== weightsStart + buckets * categories.length) throw new Error('text classifier artifact is truncated')
  const C = categories.length
  // Stored per category; kept per bucket, so one feature's weights share a cache line.
  const stored = new Int8Array(bytes.buffer, bytes.byteOffset + weightsStart, buckets * C)
  const weights = new Int8Array(buckets * C)
  for (let c = 0; c < C; c++) for (let b = 0; b < buckets; b++) weights[b * C + c] = stored[c * buckets + b]!
  // Prefix sums of weights and feature counts by position, grown as longer texts arrive.
  let prefix = new Float64Array(C * 256)
  let counts = new Int32Array(256)

  function spanScore(c: number, from: number, to: number): number {
    const n = counts[to]! - counts[from]!
    const sum = prefix[to * C + c]! - prefix[from * C + c]!
    return sigmoid(header.bias[c]! + sum * header.scales[c]! * featureValue(n, header.lengthDamping))
  }

  return {
    header,
    score(text) {
      // Handles can grow text (@a -> @user): the cap holds after preparation too.
      const prepared = sampleText(prepareText(text), 4 * CLASSIFIER_SCAN_CHARS).text
      const padded = ` ${prepared} `
      const length = padded.length
      if (counts.length < length + 2) {
        counts = new Int32Array(length * 2 + 2)
        prefix = new Float64Array(C * (length * 2 + 2))
      }
      // Per position first (into slot position + 1), then accumulated.
      prefix.fill(0, 0, C * (length + 2))
      counts.fill(0, 0, length + 2)
      textFeatures(prepared, (hash, position) => {
        const bucket = hash & mask
        const slot = Math.min(position, length) + 1
        counts[slot]!++
        for (let c = 0; c < C; c++) prefix[slot * C + c]! += weights[bucket * C + c]!
      })
      for (let i = 1; i <= length + 1; i++) {
        counts[i]! += counts[i - 1]!
        for (let c = 0; c < C; c++) prefix[i * C + c]! += prefix[(i - 1) * C + c]!
      }
      const best = new Array<number>(C).fill(0)
      const end = length + 1
      const consider = (from: number, to: number) => {
        for (let c = 0; c < C; c++) best[c] = Math.max(best[c]!, spanScore(c, from, to))
      }
      consider(0, end)
      // Shorter than two sentences or one window, a text has no parts of its own.
      if (length > 2 * MIN_SPAN) for (const [from, to] of spans(padded)) if (from > 0 || to < end) consider(from, to)
      const scores: Record<string, number> = {}
      for (let c = 0; c < C; c++) scores[categories[c]!] = Math.round(best[c]! * 1000) / 1000
      return scores
    },
  }
}

function checkHeader(header: TextModelHeader): void {
  const problem = (what: string) => new Error(`text classifier header: ${what}`)
  if (header.format !== 'moderation-text-classifier/1') throw problem(`unknown format ${String(header.format)}`)
  if (!Number.isInteger(header.bucketBits) || header.bucketBits < 4 || header.bucketBits > 24) throw problem('bucketBits must be 4..24')
  if (typeof header.lengthDamping !== 'number' || header.lengthDamping < 0) throw problem('lengthDamping missing')
  const categories = header.categories
  if (!Array.isArray(categories) || categories.length === 0 || !categories.every((c) => typeof c === 'string')) throw problem('categories missing')
  const sized = (list: unknown) => Array.isArray(list) && list.length === categories.length && list.every((x) => typeof x === 'number' && Number.isFinite(x))
  if (!sized(header.scales) || !sized(header.bias)) throw problem('scales and bias need one number per category')
  for (const category of categories) {
    const t = header.thresholds?.[category]
    const valid = t && [t.pass_below, t.review_at, t.block_at].every((x) => typeof x === 'number') && t.pass_below <= t.review_at && t.review_at <= t.block_at
    if (!valid) throw problem(`thresholds.${category} must have pass_below <= review_at <= block_at`)
    if (!Array.isArray(header.languages?.[category])) throw problem(`languages.${category} missing`)
  }
}
