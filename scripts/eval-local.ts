/**
 * `npm run eval:local`: measures the shipped text classifier (models/text-classifier.bin) on the
 * held-out split that training and threshold selection never saw. Prints a Markdown table (the
 * one in the README) and writes models/text-classifier.eval.json. Also times scoring.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadTextClassifier } from '../src/core/text-classifier.js'
import { everydayTexts } from './everyday-texts.js'
import { CATEGORIES, defaultDataDir, readDatasets, type Row } from './local-data.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const artifact = readFileSync(process.env.LOCAL_ARTIFACT ?? resolve(root, 'models/text-classifier.bin'))
const classifier = loadTextClassifier(artifact)
const test = readDatasets(defaultDataDir(root)).rows.filter((row) => row.split === 'test')
const scored = test.map((row) => ({ row, scores: classifier.score(row.text) }))

/** ROC-AUC by ranks (ties averaged). */
function auc(points: { score: number; positive: boolean }[]): number {
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

const uncovered: string[] = []
interface Line { category: string; lang: string; positives: number; negatives: number; auc: number; f1: number; precision: number; recall: number; blockPrecision: number; blockRecall: number }
const lines: Line[] = []
for (const category of CATEGORIES) {
  const { review_at, block_at } = classifier.header.thresholds[category]!
  const labelled = scored.filter(({ row }) => row.labels[category] !== null)
  const langs = ['all', ...new Set(labelled.map(({ row }) => row.lang))]
  for (const lang of langs) {
    const points = labelled
      .filter(({ row }) => lang === 'all' || row.lang === lang)
      .map(({ row, scores }) => ({ score: scores[category] ?? 0, positive: row.labels[category] === 1 }))
    const positives = points.filter((p) => p.positive).length
    if (positives === 0) {
      uncovered.push(`${category}/${lang}`)
      continue
    }
    const review = at(points, review_at)
    const block = at(points, block_at)
    lines.push({ category, lang, positives, negatives: points.length - positives, auc: auc(points), ...review, blockPrecision: block.precision, blockRecall: block.recall })
  }
}

// Benign texts that mention identity groups (toxigen's neutral examples), held out.
const neutral = scored.filter(({ row }: { row: Row }) => row.identityNeutral)
const threshold = (category: string) => classifier.header.thresholds[category]!
const fpr = (key: 'review_at' | 'block_at') =>
  neutral.length === 0 ? NaN : neutral.filter(({ scores }) => CATEGORIES.some((c) => (scores[c] ?? 0) >= threshold(c)[key])).length / neutral.length

// Everyday benign texts written for this probe (scripts/everyday-texts.ts), per language.
const everyday = Object.entries(everydayTexts).map(([lang, texts]) => {
  const over = (key: 'review_at' | 'block_at') => texts.filter((text) => CATEGORIES.some((c) => (classifier.score(text)[c] ?? 0) >= threshold(c)[key])).length
  return { lang, n: texts.length, flagged: over('review_at'), blocked: over('block_at') }
})

// Speed: every held-out text scored once more, timed as a whole, after the pass above warmed up.
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

const pct = (x: number) => (Number.isNaN(x) ? 'n/a' : x.toFixed(3))
const table = [
  '| category | language | held-out positives / negatives | ROC-AUC | F1 at review_at | precision / recall at review_at | precision / recall at block_at |',
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...lines.map((l) => `| ${l.category} | ${l.lang} | ${l.positives} / ${l.negatives} | ${pct(l.auc)} | ${pct(l.f1)} | ${pct(l.precision)} / ${pct(l.recall)} | ${pct(l.blockPrecision)} / ${pct(l.blockRecall)} |`),
].join('\n')
const thresholds = CATEGORIES.map((c) => `${c}: review_at ${threshold(c).review_at}, block_at ${threshold(c).block_at}, pass_below ${threshold(c).pass_below}`).join('; ')
console.log(table)
console.log()
console.log(`Shipped thresholds: ${thresholds}.`)
console.log(`Benign texts mentioning identity groups (toxigen neutral, held out, n=${neutral.length}): flagged at review_at ${(fpr('review_at') * 100).toFixed(1)}%, at block_at ${(fpr('block_at') * 100).toFixed(1)}%.`)
console.log(`Everyday benign texts (written probe, scripts/everyday-texts.ts) at review_at / block_at: ${everyday.map((e) => `${e.lang} ${e.flagged}/${e.n} / ${e.blocked}/${e.n}`).join(', ')}.`)
if (uncovered.length > 0) console.log(`No labelled positives, so not scored as a language of that category: ${uncovered.join(', ')}.`)
console.log(`Speed: ${perText.toFixed(1)} µs per text on one core (${scored.length} held-out texts, mean ${Math.round(chars / scored.length)} characters); ${byLength.map((b) => `${b.ms.toFixed(2)} ms at ${b.chars / 1000}k characters`).join(', ')}. Artifact ${(artifact.length / 1024).toFixed(0)} KiB.`)
writeFileSync(resolve(root, 'models/text-classifier.eval.json'), JSON.stringify({ lines, thresholds: classifier.header.thresholds, identityNeutral: { n: neutral.length, fprReview: fpr('review_at'), fprBlock: fpr('block_at') }, everyday, microsecondsPerText: perText, byLength, uncovered, heldOut: scored.length }, null, 2) + '\n')
