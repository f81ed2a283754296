/**
 * The labelled sets in ../shared/datasets, and the public sets `npm run data:public` writes to
 * ../shared/public-datasets (when that folder exists), read into one shape, mapped onto the
 * service's taxonomy, and split deterministically by text: the same rows are held out on every
 * run and on every machine; a text and its duplicates are always in the same split. Used by
 * `scripts/train-local.ts` and `scripts/eval-local.ts`. Each row names its `set` and its `source`
 * (the upstream collection, for leave-one-source-out: COLD's dev and train splits are one source).
 *
 * Label mapping (1 positive, 0 negative, null: the row says nothing about the category and is
 * left out of that category's training and evaluation; implemented in `label-mappings.ts`).
 * (*) The shipped model's mapping for these shared sets. Counting them as harassment positives
 * (issue 13) was tried: with the thresholds chosen leaving each source out, the model then
 * failed the clear-hit tests, so it is not shipped; the change waits for that work.
 * `hate` is for attacks on groups and identity; `harassment` for insults, offensive and abusive
 * language, profanity included.
 *
 * | set | row | hate | harassment |
 * | --- | --- | --- | --- |
 * | davidson_hate_offensive (en) | hate_speech | 1 | null |
 * | | offensive_language | 0 | null (*) |
 * | | neither | 0 | 0 |
 * | mlma_hate_speech (en, fr, ar) | `normal` alone | 0 | 0 |
 * | | contains `hateful` (without `normal`) | 1 | null |
 * | | other hostile labels only | null | 1 |
 * | | `normal` mixed with hostile labels | left out | left out |
 * | germeval2018 (de) | ABUSE | 1 | null |
 * | | INSULT | null | 1 |
 * | | PROFANITY | left out (*) | left out (*) |
 * | | OTHER | 0 | 0 |
 * | korean_hate_speech (ko) | hate | 1 | null |
 * | | offensive | 0 | 1 |
 * | | none | 0 | 0 |
 * | cold_chinese_offensive (zh; race, region, gender topics) | 1 (offensive) | 1 | null (*) |
 * | cold_train_zh (the same collection; individual vs group not labelled outside test) | 1 (offensive) | 1 | 1 |
 * | | 0 | 0 | 0 |
 * | toxigen_demonstrations (en) | hate | 1 | null |
 * | | neutral (mentions a group: hard negatives) | 0 | 0 |
 * | olid_en | NOT | 0 | 0 |
 * | | OFF, target IND / OTH / untargeted | 0 | 1 |
 * | | OFF, target GRP | null | 1 |
 * | dynahate_en (adversarial) | hate | 1 | null |
 * | | nothate | 0 | null |
 * | mhs_en | 1 (hate speech) | 1 | null |
 * | | 0 | 0 | null |
 * | fortuna_pt | 1 (hate) | 1 | null |
 * | | 0 | 0 | null |
 * | kmhas_ko | 8 (not hate speech) | 0 | 0 |
 * | | 3 (profanity) alone | 0 | 1 |
 * | | origin, physical, politics, age, gender, race or religion, with profanity | 1 | 1 |
 * | | the same without profanity | 1 | null |
 * | german_hs_de | hs (threats, incitement) | 1 | null |
 * | | p (problematic: insults) | 0 | 1 |
 * | | n | 0 | 0 |
 * | | unlabelled | left out | left out |
 * | lhsab_ar | hate (abusive and demeaning an identity) | 1 | 1 |
 * | | abusive | 0 | 1 |
 * | | normal | 0 | 0 |
 * | osact2022_ar | OFF with a hate type HS1-HS6 | 1 | 1 |
 * | | OFF, NOT_HS | 0 | 1 |
 * | | NOT_OFF | 0 | 0 |
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { prepareText } from '../src/core/local/text-classifier.js'
import { identityTrainingRows } from './identity-training.js'
import { MAPPINGS, SOURCE_OF, type Label } from './label-mappings.js'

export const CATEGORIES = ['hate', 'harassment'] as const
export type Category = (typeof CATEGORIES)[number]
export type { Label }

export interface Row {
  id: string
  text: string
  lang: string
  set: string
  /** The upstream collection the row comes from: the unit of leave-one-source-out. */
  source: string
  labels: Record<Category, Label>
  /** A neutral text that mentions an identity group: the false-positive probe. */
  identityNeutral: boolean
  split: 'train' | 'valid' | 'test'
}

interface RawRow {
  id: string
  text: string
  labels: Record<string, unknown>
  source: string
}

interface Meta {
  repo: string
  commit: string
  licence: string
  source?: string
}

const SHARED_SETS = ['davidson_hate_offensive', 'mlma_hate_speech', 'germeval2018', 'korean_hate_speech', 'cold_chinese_offensive', 'toxigen_demonstrations']

export function defaultDataDir(root: string): string {
  return resolve(process.env.LOCAL_DATASETS ?? join(root, '..', 'shared', 'datasets'))
}

/** Where `npm run data:public` writes: LOCAL_PUBLIC_DATASETS, or `public-datasets` beside the shared sets. */
export function defaultPublicDataDir(dataDir: string): string {
  return resolve(process.env.LOCAL_PUBLIC_DATASETS ?? join(dirname(dataDir), 'public-datasets'))
}

/**
 * Which split a row is in, from its text as the classifier reads it: duplicates (retweets, the
 * same sentence in two sets) land in the same split, so no held-out text was trained on.
 * ToxiGen is small: more of it is held out.
 */
function splitOf(text: string, set: string): Row['split'] {
  const key = prepareText(text)
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
  const bucket = (h >>> 0) % 100
  const test = set === 'toxigen_demonstrations' ? 30 : 20
  return bucket < test ? 'test' : bucket < test + 10 ? 'valid' : 'train'
}

function readJsonl(file: string): RawRow[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as RawRow)
}

/** The rows of one set folder (its `*.jsonl` files and `meta.json`), mapped; unmapped rows left out. */
export function readSet(folder: string, set: string): { rows: Row[]; meta: Meta } {
  const meta = JSON.parse(readFileSync(join(folder, 'meta.json'), 'utf8')) as Meta
  const map = MAPPINGS[set]
  if (!map) throw new Error(`no label mapping for the set ${set} (scripts/label-mappings.ts)`)
  const source = meta.source ?? SOURCE_OF[set] ?? set
  const rows: Row[] = []
  for (const file of readdirSync(folder).filter((name) => name.endsWith('.jsonl')).sort()) {
    for (const raw of readJsonl(join(folder, file))) {
      const mapped = map(raw.labels)
      if (!mapped || !raw.text?.trim()) continue
      rows.push({
        id: raw.id,
        text: raw.text,
        lang: mapped.lang,
        set,
        source,
        labels: { hate: mapped.hate, harassment: mapped.harassment },
        identityNeutral: mapped.identityNeutral ?? false,
        split: splitOf(raw.text, set),
      })
    }
  }
  return { rows, meta }
}

export interface Dataset {
  rows: Row[]
  /** "github:owner/repo@commit (licence)" per set, for the artifact and the README. */
  sources: string[]
}

/**
 * Every labelled row of every known set under `dir`, in file order, then of every public set
 * under `publicDir` when that folder exists (one line on stderr says which were read).
 */
export function readDatasets(dir: string, publicDir = defaultPublicDataDir(dir)): Dataset {
  if (!existsSync(dir)) {
    throw new Error(`no training data at ${dir}: put the shared datasets there or set LOCAL_DATASETS`)
  }
  const publicSets = existsSync(publicDir)
    ? readdirSync(publicDir, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && existsSync(join(publicDir, entry.name, 'meta.json')))
        .map((entry) => entry.name)
        .sort()
    : []
  console.error(
    publicSets.length
      ? `public sets from ${publicDir}: ${publicSets.join(', ')}`
      : `no public sets: ${publicDir} is absent or empty (npm run data:public writes them)`,
  )
  const rows: Row[] = []
  const sources: string[] = []
  const folders = [...SHARED_SETS.map((set) => [join(dir, set), set]), ...publicSets.map((set) => [join(publicDir, set), set])]
  for (const [folder, set] of folders as [string, string][]) {
    if (!existsSync(folder)) throw new Error(`${folder} is missing`)
    const { rows: mine, meta } = readSet(folder, set)
    sources.push(`${meta.repo}@${meta.commit.slice(0, 12)} (${meta.licence})`)
    for (const row of mine) rows.push(row)
  }
  for (const row of identityTrainingRows()) rows.push(row)
  sources.push('scripts/identity-training.ts (written for this service)')
  return { rows, sources }
}
