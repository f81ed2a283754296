/**
 * The labelled sets in ../shared/datasets, read into one shape, mapped onto the service's
 * taxonomy, and split deterministically by row id: the same rows are held out on every run and
 * on every machine; a text and its duplicates are always in the same split. Used by `scripts/train-local.ts` and `scripts/eval-local.ts`.
 *
 * Label mapping (1 positive, 0 negative, null: the row says nothing about the category and is
 * left out of that category's training and evaluation):
 *
 * | set | row | hate | harassment |
 * | --- | --- | --- | --- |
 * | davidson (en) | hate_speech | 1 | null |
 * | | offensive_language (casual profanity) | 0 | null |
 * | | neither | 0 | 0 |
 * | mlma (en, fr, ar) | `normal` alone | 0 | 0 |
 * | | contains `hateful` (without `normal`) | 1 | null |
 * | | other hostile labels only | null | 1 |
 * | | `normal` mixed with hostile labels | left out | left out |
 * | germeval2018 (de) | ABUSE | 1 | null |
 * | | INSULT | null | 1 |
 * | | PROFANITY | left out | left out |
 * | | OTHER | 0 | 0 |
 * | korean_hate_speech (ko) | hate | 1 | null |
 * | | offensive | 0 | 1 |
 * | | none | 0 | 0 |
 * | cold (zh; race, region and gender topics) | offensive | 1 | null |
 * | | 0 | 0 | 0 |
 * | toxigen demonstrations (en) | hate | 1 | null |
 * | | neutral (mentions a group: hard negatives) | 0 | 0 |
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { prepareText } from '../src/core/text-classifier.js'

export const CATEGORIES = ['hate', 'harassment'] as const
export type Category = (typeof CATEGORIES)[number]
export type Label = 0 | 1 | null

export interface Row {
  id: string
  text: string
  lang: string
  set: string
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

export function defaultDataDir(root: string): string {
  return resolve(process.env.LOCAL_DATASETS ?? join(root, '..', 'shared', 'datasets'))
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

type Mapped = { lang: string; hate: Label; harassment: Label; identityNeutral?: boolean } | undefined

const MAPPINGS: Record<string, (labels: Record<string, unknown>) => Mapped> = {
  davidson_hate_offensive: (l) =>
    l.class_name === 'hate_speech'
      ? { lang: 'en', hate: 1, harassment: null }
      : l.class_name === 'offensive_language'
        ? { lang: 'en', hate: 0, harassment: null }
        : { lang: 'en', hate: 0, harassment: 0 },
  mlma_hate_speech: (l) => {
    const labels = (l.sentiment_labels as string[] | undefined) ?? String(l.sentiment).split('_')
    const lang = String(l.language)
    const normal = labels.includes('normal')
    if (normal && labels.length === 1) return { lang, hate: 0, harassment: 0 }
    if (normal) return undefined
    if (labels.includes('hateful')) return { lang, hate: 1, harassment: null }
    return { lang, hate: null, harassment: 1 }
  },
  germeval2018: (l) => {
    if (l.task2 === 'ABUSE') return { lang: 'de', hate: 1, harassment: null }
    if (l.task2 === 'INSULT') return { lang: 'de', hate: null, harassment: 1 }
    if (l.task2 === 'PROFANITY') return undefined
    return { lang: 'de', hate: 0, harassment: 0 }
  },
  korean_hate_speech: (l) =>
    l.hate === 'hate'
      ? { lang: 'ko', hate: 1, harassment: null }
      : l.hate === 'offensive'
        ? { lang: 'ko', hate: 0, harassment: 1 }
        : { lang: 'ko', hate: 0, harassment: 0 },
  cold_chinese_offensive: (l) => (String(l.label) === '1' ? { lang: 'zh', hate: 1, harassment: null } : { lang: 'zh', hate: 0, harassment: 0 }),
  toxigen_demonstrations: (l) =>
    l.label === 'hate' ? { lang: 'en', hate: 1, harassment: null } : { lang: 'en', hate: 0, harassment: 0, identityNeutral: true },
}

export interface Dataset {
  rows: Row[]
  /** "github:owner/repo@commit (licence)" per set, for the artifact and the README. */
  sources: string[]
}

/** Every labelled row of every known set under `dir`, in file order. */
export function readDatasets(dir: string): Dataset {
  if (!existsSync(dir)) {
    throw new Error(`no training data at ${dir}: put the shared datasets there or set LOCAL_DATASETS`)
  }
  const rows: Row[] = []
  const sources: string[] = []
  for (const set of Object.keys(MAPPINGS)) {
    const folder = join(dir, set)
    if (!existsSync(folder)) throw new Error(`${folder} is missing`)
    const meta = JSON.parse(readFileSync(join(folder, 'meta.json'), 'utf8')) as { repo: string; commit: string; licence: string }
    sources.push(`${meta.repo}@${meta.commit.slice(0, 12)} (${meta.licence})`)
    for (const file of readdirSync(folder).filter((name) => name.endsWith('.jsonl')).sort()) {
      for (const raw of readJsonl(join(folder, file))) {
        const mapped = MAPPINGS[set]!(raw.labels)
        if (!mapped || !raw.text?.trim()) continue
        rows.push({
          id: raw.id,
          text: raw.text,
          lang: mapped.lang,
          set,
          labels: { hate: mapped.hate, harassment: mapped.harassment },
          identityNeutral: mapped.identityNeutral ?? false,
          split: splitOf(raw.text, set),
        })
      }
    }
  }
  return { rows, sources }
}
