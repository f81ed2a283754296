/**
 * `npm run train:local`: trains the embedded text classifier from the labelled sets in
 * ../shared/datasets (or LOCAL_DATASETS) into models/text-classifier.bin. Deterministic: the same
 * data gives the same bytes (the SHA-256 is printed to check). Its thresholds are chosen on
 * leave-one-source-out scores (one more model per set: about 40 s in all on one core), with
 * review_at raised where needed so that at most 2% of the everyday calibration texts of any
 * language reach it. Then run `npm run eval:local`.
 */
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { encodeTextModel, loadTextClassifier, readTextModel } from '../src/core/local/text-classifier.js'
import { leaveOneSourceOut, shippedThresholds } from './leave-one-source-out.js'
import { CATEGORIES, defaultDataDir, readDatasets } from './local-data.js'
import { trainTextModel, type TrainingOptions } from './train-text-model.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const ARTIFACT = resolve(root, 'models/text-classifier.bin')

const started = performance.now()
const { rows, sources } = readDatasets(defaultDataDir(root))
const counts = { train: 0, valid: 0, test: 0 }
for (const row of rows) counts[row.split]++
console.error(`rows: ${rows.length} (train ${counts.train}, valid ${counts.valid}, held-out test ${counts.test})`)
const options: Omit<TrainingOptions, 'trainedOn'> = { categories: CATEGORIES, bucketBits: Number(process.env.LOCAL_BUCKET_BITS ?? 19) }
// The held-out rows are passed along but never read by training or threshold selection.
const draft = trainTextModel(rows, { ...options, trainedOn: sources })
const validation = rows.filter((row) => row.split === 'valid')
const model = loadTextClassifier(draft)
const validScores = validation.map((row) => ({ row, scores: model.score(row.text) }))
const loso = leaveOneSourceOut(rows, options)
const thresholds = shippedThresholds(model, loso, validScores, CATEGORIES, (line) => console.error(line))
const { header, weights } = readTextModel(draft)
const artifact = encodeTextModel({ ...header, thresholds }, weights)
writeFileSync(process.env.LOCAL_ARTIFACT ?? ARTIFACT, artifact)
console.log(
  `wrote ${process.env.LOCAL_ARTIFACT ?? 'models/text-classifier.bin'}: ${(artifact.length / 1024).toFixed(0)} KiB, ` +
    `sha256 ${createHash('sha256').update(artifact).digest('hex').slice(0, 16)}, ${((performance.now() - started) / 1000).toFixed(1)} s`,
)
