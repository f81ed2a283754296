import { describe, expect, it } from 'vitest'
import { loadTextClassifier, prepareText, textVector } from '../../src/core/local/text-classifier.js'
import { chooseThresholds, trainTextModel, type TrainingRow } from '../../scripts/train-text-model.js'

// A small written set: insults against a made-up group are positives, everyday sentences negatives.
const subjects = ['the weather', 'my garden', 'the train', 'our team', 'this recipe', 'the new film', 'your dog', 'the market']
const verbs = ['is lovely', 'was late again', 'looks great', 'needs water', 'won on sunday', 'tastes good', 'made me laugh', 'opens at nine']
const insults = ['are filthy vermin', 'should be driven out', 'are subhuman trash', 'ruin everything they touch', 'are all criminals', 'are a disease']
const rows: TrainingRow[] = []
subjects.forEach((s, i) => verbs.forEach((v, j) => rows.push({ text: `${s} ${v}`, lang: 'en', labels: { hate: 0 }, split: (i + j) % 5 === 0 ? 'valid' : 'train' })))
;['zorbians', 'the zorb people', 'all zorbs', 'zorbian families'].forEach((g, i) =>
  insults.forEach((x, j) => rows.push({ text: `${g} ${x}`, lang: 'en', labels: { hate: 1 }, split: (i + j) % 5 === 0 ? 'valid' : 'train' })),
)

describe('training the text classifier', () => {
  it('gives the same bytes for the same rows, and learns the split', () => {
    const options = { categories: ['hate'], bucketBits: 12, trainedOn: ['fixture'] }
    const first = trainTextModel(rows, options)
    const second = trainTextModel(rows, options)
    expect(Buffer.from(first).equals(Buffer.from(second))).toBe(true)
    const classifier = loadTextClassifier(first)
    expect(classifier.score('zorbians are vermin').hate).toBeGreaterThan(classifier.score('the garden is lovely').hate!)
    expect(classifier.header.languages).toEqual({ hate: ['en'] })
    expect(classifier.header).toMatchObject({ format: 'moderation-text-classifier/2', weighting: 'presence', partPenalty: 0.2, partsFromChars: 200 })
  })

  it('reads a text as a unit vector of its distinct features (presence), or of repeat counts for the baseline', () => {
    const norm = (values: Float32Array) => Math.hypot(...values)
    const presence = textVector(prepareText('ha ha ha ha'), 12, 'presence', 0)
    expect(norm(presence.values)).toBeCloseTo(1, 5)
    expect(new Set(presence.values).size).toBe(1)
    expect(new Set(presence.buckets).size).toBe(presence.buckets.length)
    const counts = textVector(prepareText('ha ha ha ha'), 12, 'counts', 0)
    expect(counts.buckets).toEqual(presence.buckets)
    expect(Math.max(...counts.values)).toBeGreaterThan(Math.min(...counts.values))
  })

  it('chooses thresholds: best F1 for review, 90% precision for block, 2% of positives below the pass line', () => {
    const points = [0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.55, 0.5, 0.45, 0.4, 0.3, 0.2]
      .map((score, i) => ({ score, positive: i < 9 && i !== 4 }))
    const t = chooseThresholds(points)
    expect(t.review_at).toBe(0.45)
    expect(t.pass_below).toBeLessThanOrEqual(t.review_at)
    expect(t.block_at).toBeGreaterThanOrEqual(t.review_at)
  })
})
