/**
 * `npm run train:local`: trains the embedded text classifier from the labelled sets in
 * ../shared/datasets (or LOCAL_DATASETS) into models/text-classifier.bin. Deterministic: the same
 * data gives the same bytes (the SHA-256 is printed to check). Then run `npm run eval:local`.
 */
import { createHash } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CATEGORIES, defaultDataDir, readDatasets } from './local-data.js'
import { trainTextModel } from './train-text-model.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const ARTIFACT = resolve(root, 'models/text-classifier.bin')

const started = performance.now()
const { rows, sources } = readDatasets(defaultDataDir(root))
const counts = { train: 0, valid: 0, test: 0 }
for (const row of rows) counts[row.split]++
console.error(`rows: ${rows.length} (train ${counts.train}, valid ${counts.valid}, held-out test ${counts.test})`)
const bucketBits = Number(process.env.LOCAL_BUCKET_BITS ?? 19)
// The held-out rows are passed along but never read by training or threshold selection.
const artifact = trainTextModel(rows, { categories: CATEGORIES, trainedOn: sources, bucketBits })
writeFileSync(process.env.LOCAL_ARTIFACT ?? ARTIFACT, artifact)
console.log(
  `wrote ${process.env.LOCAL_ARTIFACT ?? 'models/text-classifier.bin'}: ${(artifact.length / 1024).toFixed(0)} KiB, ` +
    `sha256 ${createHash('sha256').update(artifact).digest('hex').slice(0, 16)}, ${((performance.now() - started) / 1000).toFixed(1)} s`,
)
