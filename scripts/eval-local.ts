/**
 * `npm run eval:local`: measures the shipped text classifier (models/text-classifier.bin) on the
 * held-out split that training and threshold selection never saw, and on sources it never saw
 * (leave-one-source-out: one model per set, trained on the others), each beside a plain linear
 * baseline (the same n-grams counted, whole text only). Also the padding defence, the everyday
 * probe and the speed. Prints the README's tables and writes models/text-classifier.eval.json.
 * About a minute and a half on one core (13 models are trained).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { encodeTextModel, loadTextClassifier, readTextModel, type TextClassifier } from '../src/core/local/text-classifier.js'
import { everydayReport, everydayTexts } from './everyday-texts.js'
import { identityReport, identityTexts } from './identity-texts.js'
import { auc, leaveOneSourceOut, pointsOf, type FoldOptions, type ScoredRow } from './leave-one-source-out.js'
import { CATEGORIES, defaultDataDir, readDatasets } from './local-data.js'
import { trainTextModel } from './train-text-model.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const artifact = readFileSync(process.env.LOCAL_ARTIFACT ?? resolve(root, 'models/text-classifier.bin'))
const classifier = loadTextClassifier(artifact)
const { header } = classifier
const { rows } = readDatasets(defaultDataDir(root))
const test = rows.filter((row) => row.split === 'test')
const scoreAll = (model: TextClassifier, list = test): ScoredRow[] => list.map((row) => ({ row, scores: model.score(row.text) }))
const scored = scoreAll(classifier)

// The shipped model's own settings for the folds; the baseline: counts, whole text only.
const shippedOptions: FoldOptions = { categories: CATEGORIES, bucketBits: header.bucketBits, weighting: header.weighting, lengthDamping: header.lengthDamping, partPenalty: header.partPenalty, partsFromChars: header.partsFromChars }
const baselineOptions: FoldOptions = { ...shippedOptions, weighting: 'counts', lengthDamping: 0, partPenalty: null, partsFromChars: 0 }
const placeholder = header.thresholds
const baseline = scoreAll(loadTextClassifier(trainTextModel(rows, { ...baselineOptions, trainedOn: [], thresholds: placeholder })))
const loso = leaveOneSourceOut(rows, shippedOptions)
const losoBaseline = leaveOneSourceOut(rows, baselineOptions)

function at(points: { score: number; positive: boolean }[], threshold: number) {
  let tp = 0, fp = 0, fn = 0
  for (const p of points) {
    if (p.score >= threshold) p.positive ? tp++ : fp++
    else if (p.positive) fn++
  }
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp)
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn)
  return { precision, recall, f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall) }
}
const threshold = (category: string) => header.thresholds[category]!
const sameRows = (list: ScoredRow[], keep: (s: ScoredRow) => boolean) => list.filter(keep)

const uncovered: string[] = []
interface Line { category: string; lang: string; positives: number; negatives: number; auc: number; baselineAuc: number; f1: number; precision: number; recall: number; blockPrecision: number; blockRecall: number }
const lines: Line[] = []
for (const category of CATEGORIES) {
  const langs = ['all', ...new Set(scored.filter(({ row }) => row.labels[category] !== null).map(({ row }) => row.lang))]
  for (const lang of langs) {
    const keep = ({ row }: ScoredRow) => lang === 'all' || row.lang === lang
    const points = pointsOf(sameRows(scored, keep), category)
    const positives = points.filter((p) => p.positive).length
    if (positives === 0) {
      uncovered.push(`${category}/${lang}`)
      continue
    }
    const review = at(points, threshold(category).review_at)
    const block = at(points, threshold(category).block_at)
    lines.push({ category, lang, positives, negatives: points.length - positives, auc: auc(points), baselineAuc: auc(pointsOf(sameRows(baseline, keep), category)), ...review, blockPrecision: block.precision, blockRecall: block.recall })
  }
}

// Leave-one-source-out, per set and language (MLMA holds three), per head.
interface SourceLine { set: string; lang: string; category: string; positives: number; negatives: number; auc: number; baselineAuc: number; recall: number; flaggedNegatives: number; covered: boolean }
const sourceLines: SourceLine[] = []
for (const set of [...new Set(rows.map((row) => row.set))]) {
  for (const lang of [...new Set(rows.filter((row) => row.set === set).map((row) => row.lang))]) {
    const keep = ({ row }: ScoredRow) => row.set === set && row.lang === lang
    for (const category of CATEGORIES) {
      const mine = sameRows(loso, keep)
      const points = pointsOf(mine, category)
      const positives = points.filter((p) => p.positive).length
      if (positives === 0 || positives === points.length) continue
      const review = at(points, threshold(category).review_at)
      const negatives = points.filter((p) => !p.positive)
      sourceLines.push({
        set, lang, category, positives, negatives: negatives.length, auc: auc(points), baselineAuc: auc(pointsOf(sameRows(losoBaseline, keep), category)),
        recall: review.recall, flaggedNegatives: negatives.filter((p) => p.score >= threshold(category).review_at).length / negatives.length,
        covered: mine.some((x) => x.covered?.[category]),
      })
    }
  }
}

// Benign texts that mention identity groups (toxigen's neutral examples), held out.
const neutral = scored.filter(({ row }) => row.identityNeutral)
const flags = (scores: Record<string, number>, key: 'review_at' | 'block_at') => CATEGORIES.some((c) => (scores[c] ?? 0) >= threshold(c)[key])
const fpr = (key: 'review_at' | 'block_at') => (neutral.length === 0 ? NaN : neutral.filter(({ scores }) => flags(scores, key)).length / neutral.length)

// Everyday benign texts written for this probe (scripts/everyday-texts.ts), per language: all of
// them, and the half that training's everyday floor never read.
const everyday = Object.entries(everydayTexts).map(([lang, texts]) => {
  const all = texts.map((text) => classifier.score(text))
  const byHead = Object.fromEntries(CATEGORIES.map((c) => [c, all.filter((s) => (s[c] ?? 0) >= threshold(c).review_at).length]))
  const unseen = everydayReport[lang]!.filter((text) => flags(classifier.score(text), 'review_at')).length
  return { lang, n: texts.length, flagged: all.filter((s) => flags(s, 'review_at')).length, blocked: all.filter((s) => flags(s, 'block_at')).length, byHead, unseenN: everydayReport[lang]!.length, unseenFlagged: unseen }
})

// Benign texts naming identity groups written for this probe (scripts/identity-texts.ts), per
// language: all of them, and the half that training's identity floor never read.
const identity = Object.entries(identityTexts).map(([lang, texts]) => {
  const all = texts.map((text) => classifier.score(text))
  const unseen = identityReport[lang]!.filter((text) => flags(classifier.score(text), 'review_at')).length
  return { lang, n: texts.length, flagged: all.filter((s) => flags(s, 'review_at')).length, blocked: all.filter((s) => flags(s, 'block_at')).length, unseenN: identityReport[lang]!.length, unseenFlagged: unseen }
})

// Padding: each held-out hate positive under 200 characters that reaches review_at on its own,
// put in the middle of 2,000 characters of ordinary sentences: the share still at review_at (all
// such hits, and the clear ones, at block_at on their own). Against it, long benign text: held-out
// English rows negative for both heads and under both lines on their own, joined into texts of
// 2,000 and 10,000 characters: the share flagged. For the shipped scoring and the alternatives.
const PADDING = 'I watered the tomatoes this morning. The library opens at nine on weekdays. Please find the invoice attached. We took the early train to the coast and had lunch by the harbour. My sister bought a new bike for the summer. The meeting moved to Thursday afternoon. Thanks for the photos from the weekend, they look lovely. The bakery on the corner sells the best bread in town. '
const filler = PADDING.repeat(Math.ceil(2000 / PADDING.length)).slice(0, 2000)
const padded = (text: string) => `${filler.slice(0, 1000)} ${text}. ${filler.slice(1000)}`
const { weights } = readTextModel(artifact)
const variant = (partPenalty: number | null, partsFromChars: number) => loadTextClassifier(encodeTextModel({ ...header, partPenalty, partsFromChars }, weights))
const hits = scored.filter(({ row, scores }) => row.labels.hate === 1 && row.text.length < 200 && (scores.hate ?? 0) >= threshold('hate').review_at)
const clearHits = hits.filter(({ scores }) => (scores.hate ?? 0) >= threshold('hate').block_at)
const quiet = scored.filter(({ row, scores }) => row.lang === 'en' && row.labels.hate === 0 && row.labels.harassment === 0 && !flags(scores, 'review_at')).map(({ row }) => row.text.trim())
const compilations = (size: number) => {
  const out: string[] = []
  let text = ''
  for (const part of quiet) if ((text += `${part}. `).length >= size) (out.push(text), (text = ''))
  return out
}
const long = { 2000: compilations(2000), 10000: compilations(10000) }
const scorings: [string, number | null, number][] = [
  ['shipped', header.partPenalty, header.partsFromChars],
  ['whole text only', null, 0],
  ['maximum over parts (the old scoring)', 0, 0],
  ...[0, 0.1, 0.2, 0.5].filter((p) => p !== header.partPenalty).map((p): [string, number, number] => ['alternative', p, header.partsFromChars]),
  ['the issue\'s study', 0.5, 0],
]
const padding = scorings.map(([scoring, partPenalty, partsFromChars]) => {
  const model = variant(partPenalty, partsFromChars)
  const held = scoreAll(model)
  const kept = (list: ScoredRow[]) => list.filter(({ row }) => (model.score(padded(row.text)).hate ?? 0) >= threshold('hate').review_at).length
  const longFlagged = (list: string[]) => list.filter((text) => flags(model.score(text), 'review_at')).length
  return {
    scoring, partPenalty, partsFromChars, hateAuc: auc(pointsOf(held, 'hate')), harassmentAuc: auc(pointsOf(held, 'harassment')),
    kept: kept(hits), of: hits.length, clearKept: kept(clearHits), clearOf: clearHits.length,
    long2k: longFlagged(long[2000]), long2kOf: long[2000].length, long10k: longFlagged(long[10000]), long10kOf: long[10000].length,
  }
})

// Speed: every held-out text scored once more, timed as a whole, after the passes above warmed up.
const started = performance.now()
let chars = 0
for (const { row } of scored) {
  classifier.score(row.text)
  chars += row.text.length
}
const perText = ((performance.now() - started) * 1000) / scored.length
// And by length: held-out texts joined into one text of 1k, 10k and 50k characters (the default
// MODERATION_MAX_TEXT_CHARS), each scored 20 times.
const joined = scored.map(({ row }) => row.text).join(' ')
const byLength = [1_000, 10_000, 50_000].map((length) => {
  const text = joined.slice(0, length)
  classifier.score(text)
  const t0 = performance.now()
  for (let i = 0; i < 20; i++) classifier.score(text)
  return { chars: length, ms: (performance.now() - t0) / 20 }
})

const n = (x: number) => (Number.isNaN(x) ? 'n/a' : x.toFixed(3))
const pct = (x: number) => `${(x * 100).toFixed(1)}%`
console.log([
  '| category | language | held-out positives / negatives | ROC-AUC | baseline ROC-AUC | F1 at review_at | precision / recall at review_at | precision / recall at block_at |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ...lines.map((l) => `| ${l.category} | ${l.lang} | ${l.positives} / ${l.negatives} | ${n(l.auc)} | ${n(l.baselineAuc)} | ${n(l.f1)} | ${n(l.precision)} / ${n(l.recall)} | ${n(l.blockPrecision)} / ${n(l.blockRecall)} |`),
].join('\n'))
console.log()
console.log([
  '| left-out set | language | category | positives / negatives | ROC-AUC | baseline ROC-AUC | recall at review_at | negatives flagged at review_at | language in the other sets |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...sourceLines.map((l) => `| ${l.set} | ${l.lang} | ${l.category} | ${l.positives} / ${l.negatives} | ${n(l.auc)} | ${n(l.baselineAuc)} | ${n(l.recall)} | ${pct(l.flaggedNegatives)} | ${l.covered ? 'yes' : 'no'} |`),
].join('\n'))
console.log()
console.log([
  '| scoring | part penalty × ln(1 + parts) | parts from | held-out ROC-AUC hate / harassment | padded hits still at review_at: all / clear | long benign texts flagged: 2k / 10k characters |',
  '| --- | --- | --- | --- | --- | --- |',
  ...padding.map((p) => `| ${p.scoring} | ${p.partPenalty ?? 'no parts'} | ${p.partPenalty === null ? '' : `${p.partsFromChars} characters`} | ${n(p.hateAuc)} / ${n(p.harassmentAuc)} | ${p.kept} / ${p.of}, ${p.clearKept} / ${p.clearOf} | ${p.long2k} / ${p.long2kOf}, ${p.long10k} / ${p.long10kOf} |`),
].join('\n'))
console.log()
console.log([
  '| language | everyday texts | at review_at | share | of which hate / harassment | at block_at | unseen half at review_at |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...everyday.map((e) => `| ${e.lang} | ${e.n} | ${e.flagged} | ${pct(e.flagged / e.n)} | ${e.byHead.hate} / ${e.byHead.harassment} | ${e.blocked} | ${e.unseenFlagged} / ${e.unseenN} (${pct(e.unseenFlagged / e.unseenN)}) |`),
].join('\n'))
console.log()
console.log([
  '| language | texts naming groups | at review_at | share | at block_at | unseen half at review_at |',
  '| --- | --- | --- | --- | --- | --- |',
  ...identity.map((e) => `| ${e.lang} | ${e.n} | ${e.flagged} | ${pct(e.flagged / e.n)} | ${e.blocked} | ${e.unseenFlagged} / ${e.unseenN} (${pct(e.unseenFlagged / e.unseenN)}) |`),
].join('\n'))
console.log()
console.log(`Shipped thresholds: ${CATEGORIES.map((c) => `${c}: review_at ${threshold(c).review_at}, block_at ${threshold(c).block_at}, pass_below ${threshold(c).pass_below}`).join('; ')}.`)
console.log(`Benign texts mentioning identity groups (toxigen neutral, held out, n=${neutral.length}): flagged at review_at ${pct(fpr('review_at'))}, at block_at ${pct(fpr('block_at'))}.`)
if (uncovered.length > 0) console.log(`No labelled positives, so not scored as a language of that category: ${uncovered.join(', ')}.`)
console.log(`Speed: ${perText.toFixed(1)} µs per text on one core (${scored.length} held-out texts, mean ${Math.round(chars / scored.length)} characters); ${byLength.map((b) => `${b.ms.toFixed(2)} ms at ${b.chars / 1000}k characters`).join(', ')}. Artifact ${(artifact.length / 1024).toFixed(0)} KiB.`)
writeFileSync(
  resolve(root, 'models/text-classifier.eval.json'),
  JSON.stringify({ lines, leaveOneSourceOut: sourceLines, padding, thresholds: header.thresholds, identityNeutral: { n: neutral.length, fprReview: fpr('review_at'), fprBlock: fpr('block_at') }, everyday, identity, microsecondsPerText: perText, byLength, uncovered, heldOut: scored.length }, null, 2) + '\n',
)
