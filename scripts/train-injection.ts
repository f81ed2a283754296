/**
 * Trains the prompt-injection model (models/injection-detector.bin) from scripts/injection-data/:
 * first each source is left out in turn to choose the threshold on sources the model never saw,
 * then the model is trained on every source with that threshold, raised where needed to the
 * everyday floor (at most 2% of each language's everyday calibration texts flagged). Deterministic: the same data
 * gives the same bytes. Writes models/injection-detector.eval.json with the per-source table.
 *
 * Usage: npm run train:injection
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { DATA_DIR, loadInjectionRows } from './injection-data.js'
import { loadInjectionModel } from '../src/core/local/injection-model.js'
import { BENIGN_FLAGGED_BUDGET, chooseThreshold, everydayFlagged, everydayThreshold, leaveOneSourceOut, tablePerSource, trainInjectionModel, withThreshold } from './injection-training.js'

const root = resolve(DATA_DIR, '../..')
const rows = loadInjectionRows()
const manifest = JSON.parse(readFileSync(resolve(DATA_DIR, 'manifest.json'), 'utf8')) as { sources: { name: string; repository?: string; commit?: string; licence: string; use: string }[] }
const trainedOn = manifest.sources
  .filter((s) => s.use.startsWith('train'))
  .map((s) => (s.repository ? `github:${s.repository}@${s.commit!.slice(0, 12)} (${s.licence})` : `${s.name}: written for this project`))

const scored = leaveOneSourceOut(rows)
const chosen = chooseThreshold(scored)
const trained = trainInjectionModel(rows, chosen, trainedOn)
// Raised, where it must be, to the floor that keeps everyday short texts out of review.
const everydayFloor = everydayThreshold(loadInjectionModel(trained))
const threshold = Math.max(chosen, everydayFloor)
const bytes = withThreshold(trained, threshold)
const table = tablePerSource(scored, threshold)
const everyday = everydayFlagged(loadInjectionModel(bytes))
writeFileSync(resolve(root, 'models/injection-detector.bin'), bytes)
writeFileSync(
  resolve(root, 'models/injection-detector.eval.json'),
  JSON.stringify({ threshold, chosenLeavingSourcesOut: chosen, everydayFloor, benignFlaggedBudget: BENIGN_FLAGGED_BUDGET, rows: rows.length, leaveOneSourceOut: table, everydayFlaggedPct: everyday }, null, 2) + '\n',
)
console.table(table)
console.log('everyday texts flagged (%):', everyday)
console.log(`threshold ${threshold} (leaving sources out ${chosen}, everyday floor ${everydayFloor}); wrote models/injection-detector.bin (${(bytes.length / 1024).toFixed(0)} KiB)`)
