import { describe, expect, it } from 'vitest'
import { CLASSIFIER_SCAN_CHARS } from '../../src/core/local/text-parts.js'
import { measureStall } from '../helpers/event-loop-stall.js'
import { buildService } from '../helpers/service.js'
import { useFakeGemini } from '../helpers/use-fake-gemini.js'

const gemini = useFakeGemini()

type Body = { source: string; safe: boolean; action: string; signals?: string[]; categories: string[] }

// Shapes that made a pass over the text super-linear or blew it up: a backtracking sentence split
// (9-12 s for 50 KB of ".!"), NFKC's 18-fold expansion of U+FDFA (0.3-0.45 s), patterns with
// bounded gaps repeated back to back. Each is within the 50,000-character text limit.
const HOSTILE: Record<string, string> = {
  'punctuation with no space after it': '.!'.repeat(24_999) + 'x',
  'CJK full stops mixed with ASCII ones': '。!'.repeat(24_999) + 'x',
  'punctuation runs between letters': ('.!'.repeat(10) + 'a').repeat(2_380),
  'one character NFKC makes 18': '\uFDFA'.repeat(30_000),
  'injection keywords back to back': 'ignore all '.repeat(4_545),
  'handles the classifier expands': '@a '.repeat(16_666),
  'one letter': 'a'.repeat(50_000),
  // The strict policy's e-mail pattern was tried from every position of a run: 5 s.
  'a run of address characters (strict policy)': 'z' + '.a'.repeat(24_999),
  'ligatures NFKC turns into an address run (strict policy)': '\uFB03.'.repeat(25_000),
}

// Generous: the figures before the fix were 300-12,000 ms, after it under 15 ms (bench/README.md).
const STALL_BOUND_MS = 1_000

describe('hostile text costs milliseconds, not seconds, and every caller is still answered', () => {
  for (const [name, text] of Object.entries(HOSTILE)) {
    it(`answers a verdict without stalling the event loop: ${name}`, async () => {
      const { moderate } = await buildService()
      await moderate({ text: 'warm up the path' })
      const { result, stallMs } = await measureStall(() => moderate({ text, policy: name.includes('strict') ? 'strict' : undefined }))
      expect(result.status).toBe(200)
      const verdict = (await result.json()) as Body
      expect(verdict.source).toBe('local')
      expect(stallMs).toBeLessThan(STALL_BOUND_MS)
    })
  }
})

describe('text longer than the local checks read is never passed on their word alone', () => {
  const sentence = 'I watered the tomatoes this morning and the library opens at nine. '
  const longBenign = sentence.repeat(Math.ceil((CLASSIFIER_SCAN_CHARS * 2) / sentence.length))

  it('without a model: at least review, not safe, and the verdict says the text was read in part', async () => {
    const { moderate } = await buildService()
    const verdict = (await (await moderate({ text: longBenign })).json()) as Body
    expect(verdict).toMatchObject({ source: 'local', safe: false, action: 'review' })
    expect(verdict.signals).toContain('text_partly_scanned')
  })

  it('a short benign text is still read whole and allowed', async () => {
    const { moderate } = await buildService()
    const verdict = (await (await moderate({ text: sentence })).json()) as Body
    expect(verdict.signals ?? []).not.toContain('text_partly_scanned')
  })

  it('text that NFKC expands past the local limit is read in part, and says so', async () => {
    const { moderate } = await buildService()
    const verdict = (await (await moderate({ text: '\uFDFA'.repeat(30_000) })).json()) as Body
    expect(verdict).toMatchObject({ safe: false })
    expect(verdict.signals).toContain('text_partly_scanned')
  })

  it('with a model: the model (which reads it all) decides, and the signal says the local scores are from a sample', async () => {
    gemini.script({ verdict: { safe: true, categories: [], confidence: 0.97 } })
    const { moderate } = await buildService({ gemini })
    const verdict = (await (await moderate({ text: longBenign })).json()) as Body
    expect(verdict).toMatchObject({ source: 'model', safe: true, action: 'allow' })
    expect(verdict.signals).toContain('text_partly_scanned')
  })
})
