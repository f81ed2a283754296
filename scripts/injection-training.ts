/**
 * Training and leave-one-source-out scoring for the prompt-injection model, shared by
 * `npm run train:injection` and `npm run eval:injection`. The model is the text classifier's
 * trainer and format with one category, `prompt_injection`, and fewer buckets.
 */
import { detectPromptInjection } from '../src/core/local/injection-detector.js'
import { INJECTION_CATEGORY, injectionScore, loadInjectionModel, type InjectionModel } from '../src/core/local/injection-model.js'
import { encodeTextModel, type TextModelHeader } from '../src/core/local/text-classifier.js'
import { everydayCalibration, everydayReport } from './everyday-texts.js'
import type { InjectionRow } from './injection-data.js'
import { everydayFloor } from './leave-one-source-out.js'
import { trainTextModel, type TrainingRow } from './train-text-model.js'

export const BUCKET_BITS = 16
// Length damping 0-30, 10-20 epochs and L2 1e-7-1e-5 all gave leave-one-source-out ROC-AUC 0.855-0.859.
// Presence features, as the classifier: repeat counts caught more attacks but flagged long benign
// text (32k characters of an ordinary sentence repeated), whose counts grow without bound.
// Its own part penalty, not the classifier's: 0.3 is what the shipped detector was chosen and
// measured with (the classifier's default moved to 0.2 later, which changed this model too, and
// npm run train:injection no longer wrote the shipped bytes).
const TRAINING = { epochs: 10, lengthDamping: 0, partPenalty: 0.3 }
/** Benign texts the detector may flag, on average over the sources left out in turn: issue 13's ceiling. */
export const BENIGN_FLAGGED_BUDGET = 0.1

export function trainInjectionModel(rows: InjectionRow[], threshold: number, trainedOn: string[] = []): Uint8Array {
  const training: TrainingRow[] = rows.map((row) => ({ text: row.text, lang: row.lang, labels: { [INJECTION_CATEGORY]: row.label }, split: 'train' }))
  // The trainer picks thresholds on a validation split: a placeholder here, replaced below.
  const placeholder = training.slice(0, 50).map((row) => ({ ...row, split: 'valid' as const }))
  const bytes = trainTextModel([...training, ...placeholder], { categories: [INJECTION_CATEGORY], bucketBits: BUCKET_BITS, ...TRAINING, trainedOn })
  return withThreshold(bytes, threshold)
}

/** The artifact with `review_at` set to the given threshold (chosen leaving sources out). */
export function withThreshold(bytes: Uint8Array, threshold: number): Uint8Array {
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true)
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength))) as TextModelHeader
  const t = Math.round(threshold * 1000) / 1000
  header.thresholds[INJECTION_CATEGORY] = { pass_below: t, review_at: t, block_at: Math.max(t, header.thresholds[INJECTION_CATEGORY]!.block_at) }
  return encodeTextModel(header, [new Int8Array(bytes.slice(12 + headerLength).buffer)])
}

export interface ScoredRow {
  row: InjectionRow
  /** The model's score, from a model that never saw the row's source. */
  score: number
  /** Whether the written patterns alone catch it. */
  rules: boolean
}

/** Each source scored by a model trained on all the others. */
export function leaveOneSourceOut(rows: InjectionRow[]): ScoredRow[] {
  const scored: ScoredRow[] = []
  for (const source of [...new Set(rows.map((row) => row.source))].sort()) {
    const model = loadInjectionModel(trainInjectionModel(rows.filter((row) => row.source !== source), 0.5))
    for (const row of rows.filter((r) => r.source === source)) scored.push(scoreRow(model, row))
  }
  return scored
}

/**
 * The lowest score above every everyday calibration text (greetings, captions, "first comment":
 * scripts/everyday-texts.ts, never trained on): a floor under the threshold, as for the
 * classifier's `review_at`. Every data source is prompts and instructions, so a threshold chosen
 * on them alone says nothing of a short "مرحبا". Stricter than the classifier's 2%: a flag here
 * overrides the model's verdict, and with 2% of the calibration half 11% of the other half's
 * Arabic texts were flagged.
 */
export function everydayThreshold(model: InjectionModel): number {
  return everydayFloor(model.classifier, everydayCalibration, INJECTION_CATEGORY, 0)
}

/** Share flagged (patterns or model) of each language's everyday texts kept for reporting. */
export function everydayFlagged(model: InjectionModel): Record<string, number> {
  return Object.fromEntries(
    Object.entries(everydayReport).map(([lang, texts]) => [lang, Math.round((texts.filter((text) => detectPromptInjection(text, model)).length / texts.length) * 1000) / 10]),
  )
}

export function scoreRow(model: InjectionModel, row: InjectionRow): ScoredRow {
  return { row, score: injectionScore(model, row.text), rules: detectPromptInjection(row.text) }
}

/** Share of a source's rows the detector flags (rules or model score ≥ threshold). */
export function flaggedShare(scored: ScoredRow[], threshold: number): number {
  return scored.filter((s) => s.rules || s.score >= threshold).length / Math.max(1, scored.length)
}

/**
 * The lowest threshold at which the benign sources left out in turn are flagged, on average,
 * at most BENIGN_FLAGGED_BUDGET (rules included): the most attacks caught within that budget.
 */
export function chooseThreshold(scored: ScoredRow[]): number {
  const benign = scored.filter((s) => s.row.label === 0)
  const benignSources = [...new Set(benign.map((s) => s.row.source))]
  const benignFlagged = (t: number) =>
    benignSources.reduce((sum, source) => sum + flaggedShare(benign.filter((s) => s.row.source === source), t), 0) / benignSources.length
  for (let t = 0.3; t < 0.99; t += 0.005) if (benignFlagged(t) <= BENIGN_FLAGGED_BUDGET) return Math.round(t * 1000) / 1000
  return 0.99
}

/** Per source and kind: rows, share flagged by the rules alone, by the model alone, and by both together. */
export function tablePerSource(scored: ScoredRow[], threshold: number) {
  const groups = [...new Set(scored.map((s) => `${s.row.source}\t${s.row.label}`))].sort()
  return groups.map((group) => {
    const [source, label] = group.split('\t')
    const own = scored.filter((s) => s.row.source === source && String(s.row.label) === label)
    const share = (flag: (s: ScoredRow) => boolean) => Math.round((own.filter(flag).length / own.length) * 1000) / 10
    return {
      source,
      kind: own[0]!.row.label === 1 ? 'attacks' : 'benign',
      rows: own.length,
      rules_pct: share((s) => s.rules),
      model_pct: share((s) => s.score >= threshold),
      detector_pct: share((s) => s.rules || s.score >= threshold),
    }
  })
}
