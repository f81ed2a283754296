/**
 * `npm run data:public`: reads every set of `public-manifest.ts` from its git mirror at the
 * recorded commit, normalises rows to the schema of ../shared/datasets
 * (`{"id","text","labels":{original columns},"source":"github:owner/repo@commit"}`), and writes
 * `<out>/<set>/train.jsonl` and `<out>/<set>/meta.json`, out = LOCAL_PUBLIC_DATASETS or
 * ../shared/public-datasets. Mirrors are found under PUBLIC_DATA_MIRRORS (default /work/.mirror)
 * as `owner+name/repo`.
 *
 * A text (keyed as the classifier reads it, `prepareText`) is kept once: rows repeating a text of
 * ../shared/datasets, of an earlier set, of the same set, or of an upstream test split are dropped.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { prepareText } from '../src/core/local/text-classifier.js'
import { parseDelimited } from './delimited.js'
import { defaultDataDir } from './local-data.js'
import { MAPPINGS } from './label-mappings.js'
import { LEFT_OUT, MANIFEST, TEST_SUITES, type PublicSet } from './public-manifest.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const out = resolve(process.env.LOCAL_PUBLIC_DATASETS ?? join(root, '..', 'shared', 'public-datasets'))
const mirrors = resolve(process.env.PUBLIC_DATA_MIRRORS ?? '/work/.mirror')

function gitDir(repo: string): string {
  const dir = join(mirrors, repo.replace('/', '+'), 'repo')
  if (!existsSync(dir)) throw new Error(`no mirror of ${repo} at ${dir}: fetch github:${repo} first`)
  return dir
}

function git(repo: string, args: string[]): Buffer {
  return execFileSync('git', ['--git-dir', gitDir(repo), ...args], { maxBuffer: 256 * 1024 * 1024 })
}

/** Files at `commit` for each path; a path ending in `/` stands for every file under it. */
function filesOf(repo: string, commit: string, paths: string[]): string[] {
  return paths.flatMap((path) =>
    path.endsWith('/')
      ? git(repo, ['ls-tree', '-r', '--name-only', commit, '--', path]).toString('utf8').split('\n').filter(Boolean).sort()
      : [path],
  )
}

// Most files are UTF-8; the German corpus's germeval2018.csv is UTF-16 with a byte-order mark.
function show(repo: string, commit: string, path: string): string {
  const bytes = git(repo, ['show', `${commit}:${path}`])
  return bytes[0] === 0xff && bytes[1] === 0xfe ? bytes.subarray(2).toString('utf16le') : bytes.toString('utf8')
}

type Fields = Record<string, string>

function recordsOf(set: PublicSet, content: string): Fields[] {
  const { format } = set
  const table = parseDelimited(content, format)
  const header = format.columns ?? table[0] ?? []
  const body = format.columns && table[0]?.join('\t') !== format.columns.join('\t') ? table : table.slice(1)
  return body.map((cells) => Object.fromEntries(header.map((name, i) => [name, cells[i] ?? ''])))
}

/** Texts of upstream test splits and test suites, as keys. */
function testKeys(): Set<string> {
  const keys = new Set<string>()
  const suites = [...MANIFEST.map((set) => ({ ...set, paths: set.testPaths, delimiter: set.format.delimiter })), ...TEST_SUITES]
  for (const { repo, commit, paths, delimiter } of suites) {
    for (const path of filesOf(repo, commit, paths)) {
      const table = parseDelimited(show(repo, commit, path), { delimiter, quotes: true })
      // Every cell is a candidate text: cheaper than naming each file's text column, and labels never collide with texts.
      for (const row of table) for (const cell of row) if (cell.length > 3) keys.add(prepareText(cell))
    }
  }
  return keys
}

function sharedKeys(): Set<string> {
  const dir = defaultDataDir(root)
  const keys = new Set<string>()
  if (!existsSync(dir)) return keys
  for (const set of readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory())) {
    for (const file of readdirSync(join(dir, set.name)).filter((name) => name.endsWith('.jsonl'))) {
      for (const line of readFileSync(join(dir, set.name, file), 'utf8').split('\n')) {
        if (line.trim()) keys.add(prepareText((JSON.parse(line) as { text: string }).text))
      }
    }
  }
  return keys
}

const tests = testKeys()
const seen = sharedKeys()
const report: string[][] = [['set', 'lang', 'read', 'kept', 'hate+', 'harass+', 'dup in set', 'dup other set', 'test overlap', 'unmapped/empty']]
for (const set of MANIFEST) {
  const counts = { read: 0, kept: 0, hate: 0, harassment: 0, dupSet: 0, dupOther: 0, test: 0, unmapped: 0 }
  const mine = new Set<string>()
  const lines: string[] = []
  const source = `github:${set.repo}@${set.commit}`
  for (const path of filesOf(set.repo, set.commit, set.paths)) {
    recordsOf(set, show(set.repo, set.commit, path)).forEach((record, index) => {
      counts.read++
      const text = (record[set.format.text] ?? '').replace(/<LF>/g, '\n').trim()
      const key = prepareText(text)
      const mapped = MAPPINGS[set.set]!(record)
      if (!key || !mapped) return void counts.unmapped++
      if (tests.has(key) || (set.format.keep && !set.format.keep(record))) return void counts.test++
      if (mine.has(key)) return void counts.dupSet++
      if (seen.has(key)) return void counts.dupOther++
      mine.add(key)
      counts.kept++
      if (mapped.hate === 1) counts.hate++
      if (mapped.harassment === 1) counts.harassment++
      const { [set.format.text]: _text, ...labels } = record
      const id = `${set.set}:${set.format.id ? record[set.format.id] : `${path}#${index}`}`
      lines.push(JSON.stringify({ id, text, labels, source }))
    })
  }
  for (const key of mine) seen.add(key)
  const folder = join(out, set.set)
  mkdirSync(folder, { recursive: true })
  writeFileSync(join(folder, 'train.jsonl'), lines.join('\n') + '\n')
  const { format: _format, rowsKept: _rowsKept, ...meta } = set
  writeFileSync(join(folder, 'meta.json'), JSON.stringify({ ...meta, repo: `github:${set.repo}`, rows: counts.kept, counts }, null, 1) + '\n')
  if (counts.kept !== set.rowsKept) console.error(`${set.set}: ${counts.kept} rows kept, the manifest says ${set.rowsKept}`)
  const c = counts
  report.push([set.set, set.langs.join(','), ...[c.read, c.kept, c.hate, c.harassment, c.dupSet, c.dupOther, c.test, c.unmapped].map(String)])
}

const widths = report[0]!.map((_, i) => Math.max(...report.map((row) => row[i]!.length)))
for (const row of report) console.log(row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '))
console.log(`\nwrote ${out}; left out:`)
for (const { set, reason } of LEFT_OUT) console.log(`- ${set}: ${reason}`)
