import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { prepareText } from '../../src/core/local/text-classifier.js'
import { defaultDataDir, defaultPublicDataDir, readDatasets, type Row } from '../../scripts/local-data.js'
import { IDENTITY_TRAINING_SET } from '../../scripts/identity-training.js'
import { MANIFEST } from '../../scripts/public-manifest.js'

type Case = [id: string, labels: Record<string, unknown>, hate: 0 | 1 | null | undefined, harassment: 0 | 1 | null | undefined]

// A few hand-written rows per set, with the upstream columns the mapping reads; `undefined` heads
// (both) mean the row is left out.
const SHARED: Record<string, Case[]> = {
  davidson_hate_offensive: [
    ['d-hate', { class_name: 'hate_speech' }, 1, null],
    ['d-off', { class_name: 'offensive_language' }, 0, null],
    ['d-none', { class_name: 'neither' }, 0, 0],
  ],
  mlma_hate_speech: [
    ['m-normal', { sentiment: 'normal', language: 'fr' }, 0, 0],
    ['m-hateful', { sentiment: 'hateful_offensive', language: 'en' }, 1, null],
    ['m-abusive', { sentiment: 'abusive', language: 'ar' }, null, 1],
  ],
  germeval2018: [
    ['g-abuse', { task2: 'ABUSE' }, 1, null],
    ['g-insult', { task2: 'INSULT' }, null, 1],
    ['g-profanity', { task2: 'PROFANITY' }, undefined, undefined],
    ['g-other', { task2: 'OTHER' }, 0, 0],
  ],
  korean_hate_speech: [
    ['k-hate', { hate: 'hate' }, 1, null],
    ['k-off', { hate: 'offensive' }, 0, 1],
    ['k-none', { hate: 'none' }, 0, 0],
  ],
  cold_chinese_offensive: [
    ['c-off', { label: '1' }, 1, null],
    ['c-safe', { label: '0' }, 0, 0],
  ],
  toxigen_demonstrations: [
    ['t-hate', { label: 'hate' }, 1, null],
    ['t-neutral', { label: 'neutral' }, 0, 0],
  ],
}

const PUBLIC: Record<string, Case[]> = {
  olid_en: [
    ['o-not', { subtask_a: 'NOT', subtask_b: 'NULL', subtask_c: 'NULL' }, 0, 0],
    ['o-ind', { subtask_a: 'OFF', subtask_b: 'TIN', subtask_c: 'IND' }, 0, 1],
    ['o-unt', { subtask_a: 'OFF', subtask_b: 'UNT', subtask_c: 'NULL' }, 0, 1],
    ['o-grp', { subtask_a: 'OFF', subtask_b: 'TIN', subtask_c: 'GRP' }, null, 1],
  ],
  dynahate_en: [
    ['dy-hate', { label: '1', split: 'train' }, 1, null],
    ['dy-not', { label: '0', split: 'dev' }, 0, null],
  ],
  mhs_en: [
    ['mh-hate', { label: '1' }, 1, null],
    ['mh-not', { label: '0' }, 0, null],
  ],
  fortuna_pt: [['f-hate', { label: '1' }, 1, null]],
  cold_train_zh: [
    ['ct-off', { label: '1', split: 'train', topic: 'race' }, 1, 1],
    ['ct-safe', { label: '0', split: 'train', topic: 'gender' }, 0, 0],
  ],
  kmhas_ko: [
    ['km-none', { label: '8' }, 0, 0],
    ['km-profanity', { label: '3' }, 0, 1],
    ['km-gender-profanity', { label: '3,5' }, 1, 1],
    ['km-origin', { label: '0,2' }, 1, null],
  ],
  german_hs_de: [
    ['gh-hs', { label: 'hs' }, 1, null],
    ['gh-p', { label: 'p' }, 0, 1],
    ['gh-n', { label: 'n' }, 0, 0],
  ],
  lhsab_ar: [
    ['l-hate', { Class: 'hate' }, 1, 1],
    ['l-abusive', { Class: 'abusive' }, 0, 1],
    ['l-normal', { Class: 'normal' }, 0, 0],
  ],
  osact2022_ar: [
    ['os-hs', { Offensive: 'OFF', Hate: 'HS6' }, 1, 1],
    ['os-off', { Offensive: 'OFF', Hate: 'NOT_HS' }, 0, 1],
    ['os-not', { Offensive: 'NOT_OFF', Hate: 'NOT_HS' }, 0, 0],
  ],
}

const scratch = mkdtempSync(join(tmpdir(), 'local-data-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

function writeSets(dir: string, sets: Record<string, Case[]>, meta: (set: string) => object): void {
  for (const [set, cases] of Object.entries(sets)) {
    mkdirSync(join(dir, set), { recursive: true })
    writeFileSync(join(dir, set, 'meta.json'), JSON.stringify({ repo: `github:example/${set}`, commit: 'a'.repeat(40), licence: 'MIT', ...meta(set) }))
    const lines = cases.map(([id, labels]) => JSON.stringify({ id, text: `text of ${id}`, labels, source: 'github:example' }))
    writeFileSync(join(dir, set, 'data.jsonl'), lines.join('\n') + '\n')
  }
}

describe('the label mapping', () => {
  const shared = join(scratch, 'datasets')
  const publicDir = join(scratch, 'public-datasets')
  writeSets(shared, SHARED, () => ({}))
  writeSets(publicDir, PUBLIC, (set) => ({ source: MANIFEST.find((entry) => entry.set === set)!.source }))

  it('maps every set\'s upstream labels onto hate and harassment as the table in local-data.ts says', () => {
    const byId = new Map(readDatasets(shared, publicDir).rows.map((row) => [row.id, row]))
    for (const [id, , hate, harassment] of Object.values({ ...SHARED, ...PUBLIC }).flat()) {
      expect({ id, ...byId.get(id)?.labels }).toEqual({ id, hate, harassment })
    }
  })

  it('counts offensive-but-not-hateful rows of the public sets and Korean as harassment, and DynaHate only for hate', () => {
    const rows = readDatasets(shared, publicDir).rows
    const offensive = rows.filter((row) => ['k-off', 'km-profanity', 'o-unt'].includes(row.id))
    expect(offensive.map((row) => row.labels)).toEqual(offensive.map(() => ({ hate: 0, harassment: 1 })))
    expect(rows.filter((row) => row.set === 'dynahate_en').every((row) => row.labels.harassment === null)).toBe(true)
  })

  it('gives each row its set, language and a source shared by sets from one collection', () => {
    const rows = readDatasets(shared, publicDir).rows
    const row = (id: string): Row => rows.find((candidate) => candidate.id === id)!
    expect([row('c-off').source, row('ct-off').source]).toEqual(['cold', 'cold'])
    expect(row('km-none')).toMatchObject({ set: 'kmhas_ko', source: 'kmhas', lang: 'ko' })
    expect(row('m-normal')).toMatchObject({ set: 'mlma_hate_speech', source: 'mlma_hate_speech', lang: 'fr' })
  })

  it('reads the shared sets alone when the public folder is absent', () => {
    const { rows, sources } = readDatasets(shared, join(scratch, 'nowhere'))
    // And the written neutral texts naming groups, always.
    expect(sources).toHaveLength(7)
    expect(new Set(rows.map((row) => row.set))).toEqual(new Set([...Object.keys(SHARED), IDENTITY_TRAINING_SET]))
  })
})

// The shared datasets sit beside the repository on the team's machines, not in a fresh clone.
const dir = defaultDataDir(process.cwd())

describe.skipIf(!existsSync(dir))('the training data split', () => {
  it('never puts the same text in two splits, and holds out a fifth or more of every set', () => {
    const { rows, sources } = readDatasets(dir)
    const publicSets = existsSync(defaultPublicDataDir(dir)) ? MANIFEST.length : 0
    expect(sources).toHaveLength(6 + publicSets + 1)
    const splitOf = new Map<string, string>()
    for (const row of rows) {
      const key = prepareText(row.text)
      const seen = splitOf.get(key)
      if (seen) expect(seen).toBe(row.split)
      splitOf.set(key, row.split)
    }
    // The written neutral texts naming groups are training rows only: their probe (identity-texts.ts) is their test.
    for (const set of new Set(rows.filter((row) => row.set !== IDENTITY_TRAINING_SET).map((row) => row.set))) {
      const mine = rows.filter((row) => row.set === set)
      expect(mine.filter((row) => row.split === 'test').length / mine.length).toBeGreaterThan(0.17)
    }
  })
})
