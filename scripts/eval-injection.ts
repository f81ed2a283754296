/**
 * Evaluates the prompt-injection detector: leave-one-source-out (train without a source, score
 * it) over the training data, and the shipped model on sets never trained on (the cases written
 * with the rules; Tensor Trust's benchmarks where the mirror holds them). Prints both tables.
 *
 * Usage: npm run eval:injection [-- --shipped]   (--shipped: only the shipped model on the
 * evaluation-only sets, without the leave-one-source-out folds)
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { loadInjectionModel } from '../src/core/local/injection-model.js'
import { DATA_DIR, loadEvaluationOnlyRows, loadInjectionRows } from './injection-data.js'
import { chooseThreshold, everydayFlagged, leaveOneSourceOut, scoreRow, tablePerSource } from './injection-training.js'

const model = loadInjectionModel(readFileSync(resolve(DATA_DIR, '../../models/injection-detector.bin')))
if (!process.argv.includes('--shipped')) leaveOneSourceOutReport(model.threshold)

console.log(`shipped model (threshold ${model.threshold}) on sets it never trained on`)
console.table(tablePerSource((await loadEvaluationOnlyRows()).map((row) => scoreRow(model, row)), model.threshold))
console.log("everyday texts flagged (%, the half the threshold's floor never read):", everydayFlagged(model))

/** At the shipped threshold: the one chosen on these scores, or the everyday floor above it. */
function leaveOneSourceOutReport(threshold: number) {
  const rows = loadInjectionRows()
  const scored = leaveOneSourceOut(rows)
  console.log(`leave-one-source-out at the shipped threshold ${threshold} (chosen on these scores alone: ${chooseThreshold(scored)})`)
  const table = tablePerSource(scored, threshold)
  console.table(table)
  const attacks = scored.filter((s) => s.row.label === 1)
  const benign = scored.filter((s) => s.row.label === 0)
  const pct = (n: number, d: number) => `${((n / d) * 100).toFixed(1)}%`
  console.log(`attacks caught, pooled: ${pct(attacks.filter((s) => s.rules || s.score >= threshold).length, attacks.length)} of ${attacks.length}`)
  console.log(`benign flagged, pooled: ${pct(benign.filter((s) => s.rules || s.score >= threshold).length, benign.length)} of ${benign.length}`)
  for (const style of [...new Set(attacks.map((s) => s.row.style))].sort()) {
    const own = attacks.filter((s) => s.row.style === style)
    console.log(`  ${style}: ${pct(own.filter((s) => s.rules || s.score >= threshold).length, own.length)} of ${own.length}`)
  }
}
