/**
 * core/local/: Local judgement that needs no model: the embedded text classifier (this file), the
 * injection detector and its model, the policy's word lists and patterns (local-rules.ts), bounded
 * NFKC and text parts. Every pass is linear in the text and bounded.
 *
 * May import: core/shared. Not policies: core/moderation applies these to a policy.
 */
import { normalize } from './local-rules.js'
import { CLASSIFIER_SCAN_CHARS, MIN_SPAN, sampleText, spans } from './text-parts.js'

/**
 * The embedded text classifier: hashed character n-grams and word n-grams into a linear model,
 * one logistic output per category it was trained for. Pure TypeScript, buffers reused from call
 * to call, the same on Node and in workerd. Trained by `scripts/train-local.ts`, which uses
 * `textVector` from here, so training and serving read text the same way.
 */

/**
 * How a text's features become its vector. `presence`: each distinct feature counts once;
 * `log-tf`: 1 + ln(repeats); both then L2-normalised (with `lengthDamping` added to the squared
 * norm). `counts`, the first format's weighting, is kept for the linear baseline of the evaluation:
 * every repeat counts, divided by the square root of the feature count.
 */
export type FeatureWeighting = 'presence' | 'log-tf' | 'counts'
export const FEATURE_WEIGHTINGS: readonly FeatureWeighting[] = ['presence', 'log-tf', 'counts']

/** What the artifact's header says about itself. */
export interface TextModelHeader {
  format: 'moderation-text-classifier/2'
  /** log2 of the number of hash buckets per category. */
  bucketBits: number
  weighting: FeatureWeighting
  /** Added to the squared norm: a two-word text does not ride on a handful of n-grams. */
  lengthDamping: number
  /**
   * Each part of a text (sentence, window) is scored on its own with its logit lowered by
   * partPenalty × ln(1 + k), k the number of parts; the text scores the highest of these and the
   * whole text's own. null: the whole text only.
   */
  partPenalty: number | null
  /** Texts shorter than this (prepared, in characters) are scored whole: their parts are too short to tell. */
  partsFromChars: number
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
   * text and its parts (sentences, windows of long sentences), each part's logit lowered by a
   * penalty that grows with the number of parts, so padding cannot dilute a hit away and a long
   * benign text does not drift up by having many parts.
   */
  score(text: string): Record<string, number>
}

const MAGIC = 'MODTXT02'
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

/** The value of a feature seen `repeats` times, before normalisation. */
export function termValue(weighting: FeatureWeighting, repeats: number): number {
  return weighting === 'presence' ? 1 : weighting === 'log-tf' ? 1 + Math.log(repeats) : repeats
}

/** The normaliser of a vector from its values' sum of squares and total repeats. */
export function vectorNorm(weighting: FeatureWeighting, squares: number, repeats: number, damping: number): number {
  return 1 / Math.sqrt((weighting === 'counts' ? repeats : squares) + damping)
}

/**
 * The vector of prepared text, as training reads it (scoring computes the same per part):
 * distinct buckets and their normalised values.
 */
export function textVector(prepared: string, bucketBits: number, weighting: FeatureWeighting, damping: number): { buckets: Uint32Array; values: Float32Array } {
  const mask = (1 << bucketBits) - 1
  const repeats = new Map<number, number>()
  textFeatures(prepared, (hash) => {
    const bucket = hash & mask
    repeats.set(bucket, (repeats.get(bucket) ?? 0) + 1)
  })
  const buckets = Uint32Array.from([...repeats.keys()].sort((a, b) => a - b))
  const values = new Float32Array(buckets.length)
  let squares = 0
  let total = 0
  buckets.forEach((bucket, i) => {
    const n = repeats.get(bucket)!
    values[i] = termValue(weighting, n)
    squares += values[i]! * values[i]!
    total += n
  })
  const norm = vectorNorm(weighting, squares, total, damping)
  for (let i = 0; i < values.length; i++) values[i]! *= norm
  return { buckets, values }
}

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

/** Checks and splits an artifact: its header, and its weights per category (views, not copies). */
export function readTextModel(bytes: Uint8Array): { header: TextModelHeader; weights: Int8Array[] } {
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
  const weightsStart = start + headerLength
  if (bytes.length !== weightsStart + buckets * header.categories.length) throw new Error('text classifier artifact is truncated')
  const weights = header.categories.map((_, c) => new Int8Array(bytes.buffer, bytes.byteOffset + weightsStart + c * buckets, buckets))
  return { header, weights }
}

/**
 * Reads the artifact (once per process or isolate) into a classifier. Scoring a text is linear
 * in its length: its features are sorted by position once (a counting sort), and each part reads
 * its own range of them; every character is in the whole text, one sentence and at most four
 * windows.
 *
 * @example
 * const classifier = loadTextClassifier(readFileSync('models/text-classifier.bin'))
 * classifier.score('you people are vermin') // { hate: 0.97, harassment: 0.71 }
 */
export function loadTextClassifier(bytes: Uint8Array): TextClassifier {
  const { header, weights: stored } = readTextModel(bytes)
  const buckets = 1 << header.bucketBits
  const mask = buckets - 1
  const { categories, weighting, lengthDamping, partPenalty } = header
  const C = categories.length
  // Stored per category; kept per bucket, so one feature's weights share a cache line.
  const weights = new Int8Array(buckets * C)
  for (let c = 0; c < C; c++) for (let b = 0; b < buckets; b++) weights[b * C + c] = stored[c]![b]!
  // Per bucket: the part that last saw it and its repeats there (no clearing between parts).
  const seenIn = new Int32Array(buckets)
  const repeats = new Int32Array(buckets)
  let part = 0
  // Features of the current text sorted by position, the first of each position, and the distinct
  // buckets of one part: grown as longer texts arrive.
  let byPosition = new Int32Array(1024)
  let unsorted = new Int32Array(1024)
  let positions = new Int32Array(1024)
  let firstAt = new Int32Array(256)
  let distinct = new Int32Array(1024)
  const sums = new Float64Array(C)

  /** Logits of the features in slots from + 1..to (a span of `spans`) into `logits`. */
  function partLogits(from: number, to: number, logits: Float64Array): void {
    if (++part === 0x7fffffff) (seenIn.fill(0), (part = 1))
    let n = 0
    const begin = firstAt[from + 1]!
    const end = firstAt[to + 1]!
    for (let i = begin; i < end; i++) {
      const bucket = byPosition[i]!
      if (seenIn[bucket] !== part) {
        seenIn[bucket] = part
        repeats[bucket] = 1
        distinct[n++] = bucket
      } else repeats[bucket]!++
    }
    sums.fill(0)
    let squares = 0
    for (let k = 0; k < n; k++) {
      const bucket = distinct[k]!
      const value = termValue(weighting, repeats[bucket]!)
      squares += value * value
      for (let c = 0; c < C; c++) sums[c]! += weights[bucket * C + c]! * value
    }
    const norm = vectorNorm(weighting, squares, end - begin, lengthDamping)
    for (let c = 0; c < C; c++) logits[c] = header.bias[c]! + sums[c]! * header.scales[c]! * norm
  }

  const whole = new Float64Array(C)
  const one = new Float64Array(C)
  return {
    header,
    score(text) {
      // Handles can grow text (@a -> @user): the cap holds after preparation too.
      const prepared = sampleText(prepareText(text), 4 * CLASSIFIER_SCAN_CHARS).text
      const padded = ` ${prepared} `
      const length = padded.length
      // At most five character n-grams per position and two word features per word.
      const most = 6 * length + 2
      if (unsorted.length < most) {
        unsorted = new Int32Array(most * 2)
        positions = new Int32Array(most * 2)
        byPosition = new Int32Array(most * 2)
        distinct = new Int32Array(most * 2)
      }
      if (firstAt.length < length + 3) firstAt = new Int32Array(length * 2 + 3)
      firstAt.fill(0, 0, length + 3)
      let n = 0
      textFeatures(prepared, (hash, position) => {
        unsorted[n] = hash & mask
        // A feature at position p is in slot p + 1 (the slots `spans` speaks in).
        const slot = Math.min(position, length) + 1
        positions[n++] = slot
        firstAt[slot + 1]!++
      })
      for (let i = 1; i < length + 3; i++) firstAt[i]! += firstAt[i - 1]!
      // firstAt[s] is now where slot s starts (slot 0 holds nothing); placing advances it, so
      // it is recomputed from the counts afterwards by shifting back one slot.
      for (let i = 0; i < n; i++) byPosition[firstAt[positions[i]!]!++] = unsorted[i]!
      for (let i = length + 2; i > 0; i--) firstAt[i] = firstAt[i - 1]!
      firstAt[0] = 0
      const end = length + 1
      partLogits(0, end, whole)
      const best = Array.from(whole)
      // Shorter than two sentences or one window, a text has no parts of its own.
      if (length > Math.max(2 * MIN_SPAN, header.partsFromChars) && partPenalty !== null) {
        const parts = spans(padded).filter(([from, to]) => from > 0 || to < end)
        const penalty = partPenalty * Math.log(1 + parts.length)
        for (const [from, to] of parts) {
          partLogits(from, to, one)
          for (let c = 0; c < C; c++) best[c] = Math.max(best[c]!, one[c]! - penalty)
        }
      }
      const scores: Record<string, number> = {}
      for (let c = 0; c < C; c++) scores[categories[c]!] = Math.round(sigmoid(best[c]!) * 1000) / 1000
      return scores
    },
  }
}

function checkHeader(header: TextModelHeader): void {
  const problem = (what: string) => new Error(`text classifier header: ${what}`)
  if (header.format !== 'moderation-text-classifier/2') throw problem(`unknown format ${String(header.format)}`)
  if (!Number.isInteger(header.bucketBits) || header.bucketBits < 4 || header.bucketBits > 24) throw problem('bucketBits must be 4..24')
  if (!FEATURE_WEIGHTINGS.includes(header.weighting)) throw problem(`unknown weighting ${String(header.weighting)}`)
  if (typeof header.lengthDamping !== 'number' || header.lengthDamping < 0) throw problem('lengthDamping missing')
  if (header.partPenalty !== null && !(typeof header.partPenalty === 'number' && header.partPenalty >= 0)) throw problem('partPenalty must be a number >= 0 or null')
  if (!Number.isInteger(header.partsFromChars) || header.partsFromChars < 0) throw problem('partsFromChars must be an integer >= 0')
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
