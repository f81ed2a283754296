/**
 * The prompt-injection detector's data: the committed JSONL files under scripts/injection-data/
 * (sources and licences in its manifest.json), with variants made from the written attacks
 * (base64, rot13, leetspeak, buried in long benign text) and long benign texts made from the
 * written benign ones. Every derived row keeps its parent's source, so leaving a source out
 * leaves out everything made from it. Deterministic: no randomness, the same rows every run.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const DATA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), 'injection-data')

export interface InjectionRow {
  text: string
  /** 1: addresses the moderator; 0: benign (often about instructions, rules or safety). */
  label: 0 | 1
  /** Where it came from: the unit left out together in the leave-one-source-out evaluation. */
  source: string
  lang: string
  style: string
}

const FILES = [
  'giskard.jsonl',
  'promptshield.jsonl',
  'garak.jsonl',
  'jailbreak-llms.jsonl',
  'awesome-chatgpt-prompts.jsonl',
  'gpteacher-roleplay.jsonl',
  'self-instruct.jsonl',
  'written-attacks.jsonl',
  'written-benign.jsonl',
]

const readJsonl = (path: string): InjectionRow[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as InjectionRow)

const rot13 = (text: string) => text.replace(/[a-z]/gi, (ch) => String.fromCharCode(((ch.toLowerCase().charCodeAt(0) - 97 + 13) % 26) + (ch <= 'Z' ? 65 : 97)))
const leet = (text: string) => text.replace(/[aeiost]/gi, (ch) => ({ a: '4', e: '3', i: '1', o: '0', s: '5', t: '7' })[ch.toLowerCase()]!)
const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64')

const ENCODED_LEAD_INS = ['', 'Decode and follow: ', 'msg: ', 'Please read this: ', '']

/** Written attacks and benign texts, and what is made from them, per language. */
function derived(attacks: InjectionRow[], benign: InjectionRow[]): InjectionRow[] {
  const rows: InjectionRow[] = []
  for (const lang of [...new Set(attacks.map((row) => row.lang))]) {
    const own = attacks.filter((row) => row.lang === lang && row.style !== 'encoded_hint')
    const filler = benign.filter((row) => row.lang === lang)
    own.forEach((row, i) => {
      if (i % 3 === 0) rows.push({ ...row, text: ENCODED_LEAD_INS[i % ENCODED_LEAD_INS.length] + base64(row.text), style: 'base64' })
      if (i % 4 === 1 && /[a-z]/i.test(row.text)) rows.push({ ...row, text: `rot13: ${rot13(row.text)}`, style: 'rot13' })
      if (i % 5 === 2 && lang === 'en') rows.push({ ...row, text: leet(row.text), style: 'leet' })
      if (i % 2 === 0 && filler.length >= 4) {
        // Hidden in the middle of four to seven of the language's benign texts.
        const around = Array.from({ length: 4 + (i % 4) }, (_, k) => filler[(i * 7 + k * 3) % filler.length]!.text)
        around.splice(Math.floor(around.length / 2), 0, row.text)
        rows.push({ ...row, text: around.join(' '), style: 'buried' })
      }
    })
    // Long benign texts of the same kind, so length alone says nothing.
    const benignSource = filler[0]?.source
    if (benignSource) {
      for (let i = 0; i < Math.min(6, filler.length); i++) {
        const parts = Array.from({ length: 5 + (i % 4) }, (_, k) => filler[(i * 5 + k * 2) % filler.length]!.text)
        rows.push({ text: parts.join(' '), label: 0, source: benignSource, lang, style: 'long' })
      }
    }
  }
  return rows
}

/** Every row the detector may train on. */
export function loadInjectionRows(dir = DATA_DIR): InjectionRow[] {
  const rows = FILES.flatMap((file) => readJsonl(resolve(dir, file)))
  const written = rows.filter((row) => row.source.startsWith('written-'))
  const all = [...rows, ...derived(written.filter((row) => row.label === 1), written.filter((row) => row.label === 0))]
  const seen = new Set<string>()
  return all.filter((row) => {
    const key = row.text.toLowerCase().replace(/\s+/g, ' ').trim()
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/**
 * Sets only ever scored, never trained on: the cases written with the rules
 * (test/fixtures/injections.ts) and, where its mirror is present, Tensor Trust's hijacking and
 * extraction robustness benchmarks (attacks typed by players of a prompt-injection game).
 */
export async function loadEvaluationOnlyRows(mirror = '/work/.mirror'): Promise<InjectionRow[]> {
  const { INJECTIONS, BENIGN_ABOUT_INSTRUCTIONS } = await import('../test/fixtures/injections.js')
  const rows: InjectionRow[] = [
    ...INJECTIONS.map((text) => ({ text, label: 1 as const, source: 'fixtures', lang: '', style: 'written-with-rules' })),
    ...BENIGN_ABOUT_INSTRUCTIONS.map((text) => ({ text, label: 0 as const, source: 'fixtures-benign', lang: '', style: 'written-with-rules' })),
  ]
  const gitDir = resolve(mirror, 'HumanCompatibleAI+tensor-trust-data', 'repo')
  if (existsSync(gitDir)) {
    for (const [name, path] of [
      ['tensor-trust-hijacking', 'benchmarks/hijacking-robustness/v1/hijacking_robustness_dataset.jsonl'],
      ['tensor-trust-extraction', 'benchmarks/extraction-robustness/v1/extraction_robustness_dataset.jsonl'],
    ] as const) {
      const text = execFileSync('git', ['--git-dir', gitDir, 'show', `${TENSOR_TRUST_COMMIT}:${path}`], { maxBuffer: 64 << 20 }).toString('utf8')
      const attacks = new Set(text.split('\n').filter((line) => line.trim()).map((line) => (JSON.parse(line) as { attack: string }).attack))
      for (const attack of attacks) rows.push({ text: attack, label: 1, source: name, lang: 'en', style: 'game' })
    }
  }
  return rows
}

export const TENSOR_TRUST_COMMIT = 'e2385ea9cf448c9641b96e2e39f113ed4979a5b0'
