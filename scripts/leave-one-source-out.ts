/**
 * The evaluation that predicts text from somewhere new: for each source (a row's `source`, the
 * upstream collection: COLD's dev and train splits are one), a model trained on every other
 * source's training rows scores all of that source's rows. train-local.ts
 * chooses the shipped thresholds on these scores; eval-local.ts reports their ROC-AUC per set.
 * Deterministic (the trainer is): the same rows give the same scores.
 */
import { loadTextClassifier, type CategoryThresholds, type TextClassifier } from '../src/core/local/text-classifier.js'
import { everydayCalibration } from './everyday-texts.js'
import { identityCalibration } from './identity-texts.js'
import type { Row } from './local-data.js'
import { chooseThresholds, trainTextModel, type TrainingOptions } from './train-text-model.js'

export interface ScoredRow {
  row: Row
  scores: Record<string, number>
  /**
   * Per category: the fold's training rows had positives in this row's language. Where they had
   * none (a set that is its language's only source), the score measures nothing the shipped
   * model does, so thresholds are not chosen on it.
   */
  covered?: Record<string, boolean>
}

export type FoldOptions = Omit<TrainingOptions, 'trainedOn' | 'thresholds'>

/** Every row of every set, scored by a model that never saw that set. */
export function leaveOneSourceOut(rows: Row[], options: FoldOptions): ScoredRow[] {
  // A source with no positives (the written neutral texts) has nothing to rank: it is only trained on.
  const sources = [...new Set(rows.filter((row) => options.categories.some((c) => row.labels[c as keyof Row['labels']] === 1)).map((row) => row.source))]
  const placeholder = Object.fromEntries(options.categories.map((c) => [c, { pass_below: 0, review_at: 0.5, block_at: 1 }]))
  return sources.flatMap((source) => {
    const others = rows.filter((row) => row.source !== source)
    const model = loadTextClassifier(trainTextModel(others, { ...options, trainedOn: [], thresholds: placeholder }))
    const { languages } = model.header
    return rows.filter((row) => row.source === source).map((row) => ({
      row,
      scores: model.score(row.text),
      covered: Object.fromEntries(options.categories.map((c) => [c, languages[c]!.includes(row.lang)])),
    }))
  })
}

/** Thresholds per category from scored rows (see `chooseThresholds`), over the rows labelled for it. */
export function thresholdsFrom(scored: ScoredRow[], categories: readonly string[]): Record<string, CategoryThresholds> {
  return Object.fromEntries(categories.map((category) => [category, chooseThresholds(pointsOf(scored, category))]))
}

/** At least this many positives and negatives among covered rows, or a category's thresholds come from elsewhere. */
export const MIN_COVERED = 200

/**
 * The shipped thresholds: per category, from the leave-one-source-out scores of the rows whose
 * language the fold had trained on (where those are too few, a category whose positives in a
 * language all come from one set: from `fallback`, the validation split's scores, and says so).
 * Chosen by the share of negatives flagged, not by precision or F1: sources label differently
 * and hold different shares of positives, so a precision line learnt on the others does not
 * carry to a new one (for `hate` no line reached even 70% precision on the sources left out, and
 * the best F1 sat at 0.28), while the share of a new source's ordinary text that a line flags
 * does carry. See `linesAtFlaggedShare`.
 */
export function sourceHeldOutThresholds(loso: ScoredRow[], fallback: ScoredRow[], categories: readonly string[]) {
  const chosenOn: Record<string, string> = {}
  const thresholds = Object.fromEntries(
    categories.map((category) => {
      const points = pointsOf(loso.filter((x) => x.covered?.[category]), category)
      const positives = points.filter((p) => p.positive).length
      const enough = positives >= MIN_COVERED && points.length - positives >= MIN_COVERED
      chosenOn[category] = enough
        ? `leave-one-source-out (${positives} / ${points.length - positives} rows in covered languages)`
        : `validation split (leave-one-source-out has ${positives} positives in covered languages)`
      return [category, linesAtFlaggedShare(enough ? points : pointsOf(fallback, category))]
    }),
  )
  return { thresholds, chosenOn }
}

/** Negatives flagged at most: `review_at` 5%, `block_at` 1%; `pass_below` keeps at most 2% of positives under it. */
export const FLAGGED_AT_REVIEW = 0.05
export const FLAGGED_AT_BLOCK = 0.01

export function linesAtFlaggedShare(points: { score: number; positive: boolean }[]): CategoryThresholds {
  const negatives = points.filter((p) => !p.positive).map((p) => p.score).sort((a, b) => b - a)
  const line = (share: number) => (negatives.length === 0 ? 1 : Math.min(1, Math.round((negatives[Math.floor(negatives.length * share)]! + 0.001) * 1000) / 1000))
  const review = line(FLAGGED_AT_REVIEW)
  const positives = points.filter((p) => p.positive).map((p) => p.score).sort((a, b) => a - b)
  const passBelow = positives.length === 0 ? 0 : positives[Math.floor(positives.length * 0.02)]!
  return { review_at: review, block_at: Math.max(review, line(FLAGGED_AT_BLOCK)), pass_below: Math.min(passBelow, review) }
}

export function pointsOf(scored: ScoredRow[], category: string): { score: number; positive: boolean }[] {
  return scored
    .filter(({ row }) => row.labels[category as keyof Row['labels']] !== null)
    .map(({ row, scores }) => ({ score: scores[category] ?? 0, positive: row.labels[category as keyof Row['labels']] === 1 }))
}

/** ROC-AUC by ranks (ties averaged); NaN without both classes. */
export function auc(points: { score: number; positive: boolean }[]): number {
  const sorted = [...points].sort((a, b) => a.score - b.score)
  let rankSum = 0
  let positives = 0
  for (let i = 0; i < sorted.length; ) {
    let j = i
    while (j < sorted.length && sorted[j]!.score === sorted[i]!.score) j++
    const rank = (i + j + 1) / 2
    for (let k = i; k < j; k++) if (sorted[k]!.positive) (rankSum += rank), positives++
    i = j
  }
  const negatives = sorted.length - positives
  return positives === 0 || negatives === 0 ? NaN : (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives)
}

/**
 * The lowest review line that at most `share` of each language's everyday texts reach: a floor
 * under `review_at`, since the labelled sets hold almost no ordinary text and a line chosen on
 * them alone sends greetings and captions to review.
 */
export function everydayFloor(model: TextClassifier, texts: Record<string, string[]>, category: string, share = 0.02): number {
  let floor = 0
  for (const list of Object.values(texts)) {
    const scores = list.map((text) => model.score(text)[category] ?? 0).sort((a, b) => b - a)
    const allowed = Math.floor(list.length * share)
    if (allowed < scores.length) floor = Math.max(floor, Math.round((scores[allowed]! + 0.001) * 1000) / 1000)
  }
  return floor
}

/**
 * The thresholds train-local.ts ships: `sourceHeldOutThresholds`, then review_at (and block_at
 * with it) raised to the everyday and identity floors, so that at most 2% of each language's
 * everyday texts and of its neutral texts naming groups (the calibration halves) reach review.
 */
export function shippedThresholds(model: TextClassifier, loso: ScoredRow[], validScores: ScoredRow[], categories: readonly string[], log: (line: string) => void) {
  const { thresholds, chosenOn } = sourceHeldOutThresholds(loso, validScores, categories)
  for (const category of categories) {
    const t = thresholds[category]!
    const everyday = everydayFloor(model, everydayCalibration, category)
    const identity = everydayFloor(model, identityCalibration, category)
    log(`${category}: ${JSON.stringify(t)}, chosen on ${chosenOn[category]}; everyday floor ${everyday}, identity floor ${identity}`)
    // Raised to the floors: review_at and block_at; pass_below stays (it is only ever lower).
    t.review_at = Math.max(t.review_at, everyday, identity)
    t.block_at = Math.max(t.block_at, t.review_at)
  }
  return thresholds
}
