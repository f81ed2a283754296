import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { encodeTextModel, loadTextClassifier, prepareText, readTextModel, textFeatures, textVector } from '../../../src/core/local/text-classifier.js'
import { CLASSIFIER_SCAN_CHARS, sampleText, sentenceEnds } from '../../../src/core/local/text-parts.js'

const shipped = loadTextClassifier(readFileSync('models/text-classifier.bin'))

describe('the shipped text classifier', () => {
  it('scores hate and harassment, with thresholds and the languages it was trained on', () => {
    expect(shipped.header.categories).toEqual(['hate', 'harassment'])
    for (const category of ['hate', 'harassment']) {
      const t = shipped.header.thresholds[category]!
      expect(t.pass_below).toBeLessThanOrEqual(t.review_at)
      expect(t.review_at).toBeLessThanOrEqual(t.block_at)
    }
    expect(shipped.header.languages.hate).toEqual(expect.arrayContaining(['ar', 'de', 'en', 'fr', 'ko', 'zh']))
    // The six shared sets, the nine public ones, and the written neutral texts naming groups.
    expect(shipped.header.trainedOn.length).toBe(16)
    expect(shipped.header.trainedOn).toContain('scripts/identity-training.ts (written for this service)')
  })

  it('scores attacks on groups far above everyday text, in several languages', () => {
    const benign = ['What a lovely day for a walk in the park with the kids', 'Die Bahn hat heute wieder Verspätung, aber das Wetter ist schön', '오늘 날씨가 정말 좋네요 산책하러 가요']
    const hateful = ['black people are subhuman animals', 'les arabes sont des parasites', '黑人都是垃圾，滚出中国']
    const review = shipped.header.thresholds.hate!.review_at
    for (const text of benign) expect(shipped.score(text).hate).toBeLessThan(review - 0.3)
    for (const text of hateful) expect(shipped.score(text).hate).toBeGreaterThan(review)
    // Under the line since it was raised so that neutral texts naming groups stay under it (0.826),
    // still far above everyday text: 0.739 and 0.755.
    for (const text of ['those people are vermin and should be thrown out of the country', '黑人就是低等的，滚出中国']) {
      expect(shipped.score(text).hate).toBeGreaterThan(0.7)
    }
  })

  it('gives scores in 0..1 for empty, huge and odd text', () => {
    for (const text of ['', '   ', '🙂'.repeat(5000), 'a'.repeat(100_000), '\u200b\u200b']) {
      for (const score of Object.values(shipped.score(text))) expect(score).toBeGreaterThanOrEqual(0), expect(score).toBeLessThanOrEqual(1)
    }
  })
})

describe('features and the artifact format', () => {
  it('reads text the same however it is styled: case, full-width letters, zero-width characters, links, handles', () => {
    const hashes = (text: string) => {
      const out: number[] = []
      textFeatures(prepareText(text), (h) => out.push(h))
      return out
    }
    expect(hashes('ＹＯＵ  A\u200bre   GREAT')).toEqual(hashes('you are great'))
    expect(prepareText('@bob look https://x.y/z &amp; sooooooo')).toBe('@user look url & sooo')
  })

  it('refuses a file that is not an artifact, is cut short, or has an incomplete header', () => {
    const header = {
      format: 'moderation-text-classifier/2' as const,
      bucketBits: 4,
      weighting: 'presence' as const,
      lengthDamping: 0,
      partPenalty: 0.3,
      partsFromChars: 200,
      categories: ['hate'],
      scales: [1],
      bias: [0],
      thresholds: { hate: { pass_below: 0.1, review_at: 0.5, block_at: 0.9 } },
      languages: { hate: ['en'] },
      trainedOn: [],
    }
    const bytes = encodeTextModel(header, [new Int8Array(16)])
    expect(loadTextClassifier(bytes).score('x')).toEqual({ hate: 0.5 })
    expect(() => loadTextClassifier(new TextEncoder().encode('{"not":"a model"}'))).toThrow(/bad magic/)
    expect(() => loadTextClassifier(new TextEncoder().encode('MODTXT01'))).toThrow(/bad magic/)
    expect(() => loadTextClassifier(bytes.subarray(0, bytes.length - 1))).toThrow(/truncated/)
    expect(() => loadTextClassifier(bytes.subarray(0, 20))).toThrow(/truncated/)
    const broken = (change: Record<string, unknown>, weights = 16) => () =>
      loadTextClassifier(encodeTextModel({ ...header, ...change } as typeof header, [new Int8Array(weights)]))
    expect(broken({ thresholds: {} })).toThrow(/thresholds\.hate/)
    expect(broken({ thresholds: { hate: { pass_below: 0.6, review_at: 0.5, block_at: 0.9 } } })).toThrow(/pass_below <= review_at <= block_at/)
    expect(broken({ bucketBits: 32 }, 1)).toThrow(/bucketBits/) // 1 << 32 is 1 in JavaScript
    expect(broken({ bias: [] })).toThrow(/bias/)
    expect(broken({ languages: {} })).toThrow(/languages\.hate/)
    expect(broken({ format: 'moderation-text-classifier/1' })).toThrow(/unknown format/)
    expect(broken({ weighting: 'tf-idf' })).toThrow(/unknown weighting/)
    expect(broken({ partPenalty: -1 })).toThrow(/partPenalty/)
    expect(broken({ partsFromChars: undefined })).toThrow(/partsFromChars/)
  })

  it('scores a short text exactly as training reads it: each distinct feature once, L2-normalised', () => {
    const { header, weights } = readTextModel(readFileSync('models/text-classifier.bin'))
    expect(header.weighting).toBe('presence')
    for (const text of ['first comment', 'you are an idiot', 'holiday pics from the lake', 'ha ha ha ha ha ha']) {
      const { buckets, values } = textVector(prepareText(text), header.bucketBits, header.weighting, header.lengthDamping)
      header.categories.forEach((category, c) => {
        let z = header.bias[c]!
        buckets.forEach((bucket, k) => (z += weights[c]![bucket]! * header.scales[c]! * values[k]!))
        expect(shipped.score(text)[category]).toBeCloseTo(1 / (1 + Math.exp(-z)), 3)
      })
    }
    // Presence: repeating a text adds only the n-grams across the joins.
    expect(Math.abs(shipped.score('idiot idiot idiot idiot idiot').hate! - shipped.score('idiot').hate!)).toBeLessThan(0.2)
  })

  it('keeps a held-out hateful sentence over the review line inside 2,000 characters of ordinary sentences', () => {
    // A ToxiGen row of the held-out split: hate 0.958 alone.
    const hit = "Trans women are men and don't deserve womanhood"
    const review = shipped.header.thresholds.hate!.review_at
    const filler = 'I watered the tomatoes this morning. The library opens at nine on weekdays. Please find the invoice attached. '.repeat(20).slice(0, 2_000)
    expect(shipped.score(hit).hate).toBeGreaterThanOrEqual(shipped.header.thresholds.hate!.block_at)
    for (const at of [0, 1_000, 2_000]) {
      const text = `${filler.slice(0, at)} ${hit}. ${filler.slice(at)}`
      expect(text.length).toBeGreaterThan(2_000)
      expect(shipped.score(text).hate, `hit at ${at}`).toBeGreaterThanOrEqual(review)
    }
    // And the filler alone stays far below it: many parts do not drift up.
    expect(shipped.score(filler).hate).toBeLessThan(review - 0.3)
    // Inside one long sentence, windows keep it over the review line.
    const oneSentence = `${'the weather was fine and we walked for an hour and '.repeat(4)}${hit}${' and then we went home and made some tea'.repeat(4)}`
    expect(shipped.score(oneSentence).hate).toBeGreaterThan(review)
  })

  it('scores a text shorter than partsFromChars as a whole: its sentences are not scored alone', () => {
    const whole = loadTextClassifier(encodeTextModel({ ...readTextModel(readFileSync('models/text-classifier.bin')).header, partPenalty: null }, readTextModel(readFileSync('models/text-classifier.bin')).weights))
    const short = 'Nice weather today. Those people are vermin. See you at the match.'
    expect(short.length).toBeLessThan(shipped.header.partsFromChars)
    expect(shipped.score(short)).toEqual(whole.score(short))
  })
})

describe('reading long and hostile text in bounded time', () => {
  // The regular expression the one-pass scanner replaced (it backtracked on long punctuation runs).
  const OLD_SENTENCE_END = /[.!?。！？؟\n]+(?=\s|$)|[。！？]+/gu
  const oldEnds = (text: string) => [...text.matchAll(OLD_SENTENCE_END)].map((m) => [m.index, m.index + m[0].length])

  it('finds the same sentence ends as the regular expression it replaced, on random text', () => {
    const alphabet = ['.', '!', '?', '。', '！', '？', '؟', '\n', ' ', '\u3000', 'a', 'b', '語', '\t']
    let seed = 42
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32)
    for (let run = 0; run < 3_000; run++) {
      const length = Math.floor(random() * 24)
      let text = ''
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)]
      expect(sentenceEnds(text), JSON.stringify(text)).toEqual(oldEnds(text))
    }
  })

  it('scores 50,000 characters of punctuation with no space after it in milliseconds (the regex took 9 s)', () => {
    const started = performance.now()
    shipped.score('.!'.repeat(24_999) + 'x')
    expect(performance.now() - started).toBeLessThan(1_000)
  })

  it('samples a long text: its start, its end and evenly spread windows, within the cap, and says so', () => {
    const text = Array.from({ length: 5_000 }, (_, i) => `w${i}`).join(' ')
    const sample = sampleText(text)
    expect(sample.partial).toBe(true)
    expect(sample.text.length).toBeLessThanOrEqual(CLASSIFIER_SCAN_CHARS + 64)
    expect(sample.text.startsWith(text.slice(0, 1_000))).toBe(true)
    expect(sample.text.endsWith(text.slice(-1_000))).toBe(true)
    expect(sampleText('short text')).toEqual({ text: 'short text', partial: false })
  })
})
