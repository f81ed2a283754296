import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { prepareText } from '../../src/core/text-classifier.js'
import { defaultDataDir, readDatasets } from '../../scripts/local-data.js'

// The shared datasets sit beside the repository on the team's machines, not in a fresh clone.
const dir = defaultDataDir(process.cwd())

describe.skipIf(!existsSync(dir))('the training data split', () => {
  it('never puts the same text in two splits, and holds out a fifth or more of every set', () => {
    const { rows, sources } = readDatasets(dir)
    expect(sources).toHaveLength(6)
    const splitOf = new Map<string, string>()
    for (const row of rows) {
      const key = prepareText(row.text)
      const seen = splitOf.get(key)
      if (seen) expect(seen).toBe(row.split)
      splitOf.set(key, row.split)
    }
    for (const set of new Set(rows.map((row) => row.set))) {
      const mine = rows.filter((row) => row.set === set)
      expect(mine.filter((row) => row.split === 'test').length / mine.length).toBeGreaterThan(0.17)
    }
  })
})
