/**
 * Trains the prompt-injection model (models/injection-detector.bin) from scripts/injection-data/:
 * first each source is left out in turn to choose the threshold on sources the model never saw,
 * then the model is trained on every source with that threshold. Deterministic: the same data
 * gives the same bytes. Writes models/injection-detector.eval.json with the per-source table.
 *
 * Usage: npm run train:injection
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { DATA_DIR, loadInjectionRows } from './injection-data.js'
import { BENIGN_FLAGGED_BUDGET, chooseThreshold, leaveOneSourceOut, tablePerSource, trainInjectionModel } from './injection-training.js'

const root = resolve(DATA_DIR, '../..')
const rows = loadInjectionRows()
const manifest = JSON.parse(readFileSync(resolve(DATA_DIR, 'manifest.json'), 'utf8')) as { sources: { name: string; repository?: string; commit?: string; licence: string; use: string }[] }
const trainedOn = manifest.sources
  .filter((s) => s.use.startsWith('train'))
  .map((s) => (s.repository ? `github:${s.repository}@${s.commit!.slice(0, 12)} (${s.licence})` : `${s.name}: written for this project`))

const scored = leaveOneSourceOut(rows)
const threshold = chooseThreshold(scored)
const table = tablePerSource(scored, threshold)
const bytes = trainInjectionModel(rows, threshold, trainedOn)
writeFileSync(resolve(root, 'models/injection-detector.bin'), bytes)
writeFileSync(
  resolve(root, 'models/injection-detector.eval.json'),
  JSON.stringify({ threshold, benignFlaggedBudget: BENIGN_FLAGGED_BUDGET, rows: rows.length, leaveOneSourceOut: table }, null, 2) + '\n',
)
console.table(table)
console.log(`threshold ${threshold}; wrote models/injection-detector.bin (${(bytes.length / 1024).toFixed(0)} KiB)`)
