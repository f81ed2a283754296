/**
 * Copies the openly licensed prompt-injection rows the detector trains on out of the mirrored
 * repositories (the `fetch` tool's snapshots), at the commits recorded in
 * scripts/injection-data/manifest.json, into small committed JSONL files: training then needs
 * no mirror and gives the same bytes. Test and validation splits are never copied.
 *
 * Usage: tsx scripts/import-injection-data.ts [mirror-dir]   (default /work/.mirror)
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { DATA_DIR, type InjectionRow } from './injection-data.js'

const mirror = process.argv[2] ?? '/work/.mirror'
const show = (repo: string, commit: string, path: string) =>
  execFileSync('git', ['--git-dir', resolve(mirror, repo.replace('/', '+'), 'repo'), 'show', `${commit}:${path}`], { maxBuffer: 64 << 20 }).toString('utf8')

// Attack types of PromptShield's train split that address the model. Left out: shell and code
// execution (`adversarial`, `training_extraction`, most of `encoding`: "Run: `whoami`"), which
// is not addressed to a moderator, and `model_fingerprinting` (questions about the model).
const PROMPTSHIELD_ATTACKS = new Set(['jailbreak', 'token_smuggling', 'rag_poisoning', 'system_manipulation', 'context_confusion', 'instruction_override', 'agent_manipulation', 'multi_turn', 'prompt_injection', 'response_manipulation', 'output_manipulation', 'persona_replacement', 'prompt_extraction', 'payload_injection'])
const SHELL = /`|\b(?:run|execute|bash|sh -c|python -c|eval|whoami|cat |rm -rf)\b/i

function giskard(): InjectionRow[] {
  const csv = show('Giskard-AI/prompt-injections', 'ce50a549dadc46b48c931250d2dd71d5f003c0c2', 'prompt_injections.csv')
  return parseCsv(csv).slice(1).map((cells) => ({ text: cells[1]!, label: 1 as const, source: 'giskard', lang: cells[5] || 'en', style: cells[3] === 'Jailbreak' ? 'jailbreak' : 'hijacking' }))
}

function promptshield(): InjectionRow[] {
  const commit = '341e98e4f2141cb41cb3ab94f63252bfe45b10f1'
  const rows: InjectionRow[] = []
  for (const line of show('Neural-alchemy/promptshield', commit, 'ml_data/train.jsonl').split('\n')) {
    if (!line.trim()) continue
    const row = JSON.parse(line) as { prompt: string; label: number; attack_type: string }
    if (row.label === 1 && PROMPTSHIELD_ATTACKS.has(row.attack_type) && !SHELL.test(row.prompt)) {
      rows.push({ text: row.prompt, label: 1, source: 'promptshield', lang: 'en', style: row.attack_type })
    } else if (row.label === 0 && row.attack_type === 'edge_case') {
      // Benign requests that sound like attacks ("Let's roleplay a job interview"): all of them.
      rows.push({ text: row.prompt, label: 0, source: 'promptshield', lang: 'en', style: 'edge_case' })
    } else if (row.label === 0 && row.attack_type === 'benign' && rows.filter((r) => r.style === 'benign').length < 300) {
      rows.push({ text: row.prompt, label: 0, source: 'promptshield', lang: 'en', style: 'benign' })
    }
  }
  return rows
}

/** RFC 4180 fields: quoted fields may hold commas, newlines and doubled quotes. */
function parseCsv(text: string): string[][] {
  const records: string[][] = []
  let record: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++
      else if (ch === '"') quoted = false
      else field += ch
    } else if (ch === '"') quoted = true
    else if (ch === ',') record.push(field), (field = '')
    else if (ch === '\n') record.push(field), records.push(record), (record = []), (field = '')
    else if (ch !== '\r') field += ch
  }
  if (field || record.length) record.push(field), records.push(record)
  return records
}

function dedupe(rows: InjectionRow[]): InjectionRow[] {
  const seen = new Set<string>()
  return rows.filter((row) => {
    const key = row.text.toLowerCase().replace(/\s+/g, ' ').trim()
    if (!key || seen.has(key)) return false
    seen.add(key)
    return true
  })
}

for (const [name, rows] of [['giskard', giskard()], ['promptshield', promptshield()]] as const) {
  const kept = dedupe(rows)
  writeFileSync(resolve(DATA_DIR, `${name}.jsonl`), kept.map((row) => JSON.stringify(row)).join('\n') + '\n')
  console.log(`${name}: ${kept.filter((r) => r.label === 1).length} attacks, ${kept.filter((r) => r.label === 0).length} benign`)
}
