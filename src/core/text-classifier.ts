import { normalize } from './local-rules.js'

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
  /** Per-category scores (0..1) for the categories the model knows. */
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
    .replace(/@\w+/g, ' @user ')
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

const isWordChar = (code: number) =>
  (code >= 0x30 && code <= 0x39) || (code >= 0x61 && code <= 0x7a) || code >= 0xc0 || code === 0x40

/**
 * Calls `emit` with the hash of every feature of already prepared text: character 1..5-grams over
 * the text padded with spaces, and word unigrams and bigrams. Returns the number of features.
 */
export function textFeatures(prepared: string, emit: (hash: number) => void): number {
  const padded = ` ${prepared} `
  const length = padded.length
  let count = 0
  for (let start = 0; start < length; start++) {
    let h = FNV_OFFSET
    const end = Math.min(length, start + NGRAM_MAX)
    for (let i = start; i < end; i++) {
      h = Math.imul(h ^ padded.charCodeAt(i), FNV_PRIME)
      if (i - start + 1 >= NGRAM_MIN) {
        emit(mix(h))
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
      emit(word)
      count++
      if (previous !== 0) {
        emit(mix(Math.imul(previous, 31) ^ word ^ 0x5bd1e995))
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
  const magic = new TextDecoder().decode(bytes.subarray(0, MAGIC.length))
  if (magic !== MAGIC) throw new Error('not a text classifier artifact (bad magic)')
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(MAGIC.length, true)
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(MAGIC.length + 4, MAGIC.length + 4 + headerLength))) as TextModelHeader
  if (header.format !== 'moderation-text-classifier/1') throw new Error(`unknown text classifier format ${String(header.format)}`)
  const sized = (list: unknown) => Array.isArray(list) && list.length === header.categories.length && list.every((x) => typeof x === 'number')
  if (!Number.isInteger(header.bucketBits) || typeof header.lengthDamping !== 'number' || !sized(header.scales) || !sized(header.bias)) {
    throw new Error('text classifier header is incomplete')
  }
  const buckets = 1 << header.bucketBits
  const mask = buckets - 1
  const start = MAGIC.length + 4 + headerLength
  const categories = header.categories
  if (bytes.length !== start + buckets * categories.length) throw new Error('text classifier artifact is truncated')
  const weights = new Int8Array(bytes.buffer, bytes.byteOffset + start, buckets * categories.length)
  const sums = new Float64Array(categories.length)

  return {
    header,
    score(text) {
      sums.fill(0)
      const n = textFeatures(prepareText(text), (hash) => {
        const bucket = hash & mask
        for (let c = 0; c < categories.length; c++) sums[c]! += weights[c * buckets + bucket]!
      })
      const scale = featureValue(n, header.lengthDamping)
      const scores: Record<string, number> = {}
      for (let c = 0; c < categories.length; c++) {
        scores[categories[c]!] = Math.round(sigmoid(header.bias[c]! + sums[c]! * header.scales[c]! * scale) * 1000) / 1000
      }
      return scores
    },
  }
}
