import { describe, expect, it } from 'vitest'
import { loadTextClassifier } from '../../src/core/local/text-classifier.js'
import { everydayCalibration, everydayReport, everydayTexts } from '../../scripts/everyday-texts.js'
import { auc, everydayFloor, leaveOneSourceOut, sourceHeldOutThresholds } from '../../scripts/leave-one-source-out.js'
import type { Row } from '../../scripts/local-data.js'
import { trainTextModel } from '../../scripts/train-text-model.js'

// Three small written sources: two English, one in a made-up language only it has.
const benign = ['the weather is lovely', 'my garden needs water', 'the train was late again', 'our team won on sunday', 'this recipe tastes good', 'the film made me laugh']
const hateful = ['zorbians are filthy vermin', 'the zorb people should be driven out', 'all zorbs are subhuman trash', 'zorbian families ruin everything']
const rowsOf = (set: string, lang: string, texts: string[], hate: 0 | 1, wrap = (t: string) => t): Row[] =>
  texts.map((text, i) => ({ id: `${set}-${hate}-${i}`, text: wrap(text), lang, set, source: set, labels: { hate, harassment: null }, identityNeutral: false, split: i % 5 === 4 ? 'valid' : 'train' }))
const rows: Row[] = [
  ...rowsOf('a', 'en', benign, 0), ...rowsOf('a', 'en', hateful, 1),
  ...rowsOf('b', 'en', benign, 0, (t) => `${t} today`), ...rowsOf('b', 'en', hateful, 1, (t) => `honestly ${t}`),
  ...rowsOf('c', 'xx', ['ka lo mi', 'ta ne su', 'pa ri do'], 0), ...rowsOf('c', 'xx', ['zorb ka vermin', 'zorb ta trash'], 1),
]

describe('leave-one-source-out', () => {
  it('scores every row of each set with a model that never saw the set, the same on every run', () => {
    const options = { categories: ['hate'], bucketBits: 12 }
    const first = leaveOneSourceOut(rows, options)
    expect(first.map(({ row }) => row.id).sort()).toEqual(rows.map((row) => row.id).sort())
    expect(leaveOneSourceOut(rows, options)).toEqual(first)
    // Set b's hate is learned from set a alone, and still ranks above its benign rows.
    const b = first.filter(({ row }) => row.set === 'b').map(({ row, scores }) => ({ score: scores.hate!, positive: row.labels.hate === 1 }))
    expect(auc(b)).toBeGreaterThan(0.9)
    // Only set c has language xx: its scores come from a model with no xx at all.
    expect(first.filter(({ row }) => row.set === 'c').every(({ covered }) => covered?.hate === false)).toBe(true)
    expect(first.filter(({ row }) => row.set === 'a').every(({ covered }) => covered?.hate === true)).toBe(true)
  })

  it('chooses thresholds on covered rows only when there are enough of them, and says which it used', () => {
    const loso = leaveOneSourceOut(rows, { categories: ['hate'], bucketBits: 12 })
    const { chosenOn } = sourceHeldOutThresholds(loso, loso, ['hate'])
    expect(chosenOn.hate).toMatch(/^validation split \(leave-one-source-out has \d+ positives/)
  })
})

describe('the everyday probe', () => {
  it('has at least 200 distinct texts in each of nine languages, split into two halves', () => {
    expect(Object.keys(everydayTexts).sort()).toEqual(['ar', 'de', 'en', 'es', 'fr', 'it', 'ko', 'pt', 'zh'])
    for (const [lang, texts] of Object.entries(everydayTexts)) {
      expect(new Set(texts).size, lang).toBe(texts.length)
      expect(texts.length, lang).toBeGreaterThanOrEqual(200)
      expect(everydayCalibration[lang]!.length + everydayReport[lang]!.length).toBe(texts.length)
    }
  })

  it('gives the floor that at most 2% of each language reaches', () => {
    const model = loadTextClassifier(trainTextModel(rows, { categories: ['hate'], bucketBits: 12, trainedOn: [] }))
    const texts = { en: Array.from({ length: 100 }, (_, i) => `${benign[i % benign.length]} ${i}`), zz: ['zorbians are vermin', ...benign] }
    const floor = everydayFloor(model, texts, 'hate')
    for (const list of Object.values(texts)) {
      const over = list.filter((text) => model.score(text).hate! >= floor).length
      expect(over).toBeLessThanOrEqual(Math.floor(list.length * 0.02))
    }
    expect(floor).toBeGreaterThan(model.score('zorbians are vermin').hate!)
  })
})
