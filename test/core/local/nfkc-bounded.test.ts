import { describe, expect, it } from 'vitest'
import { MAX_NORMALIZED_CHARS, nfkcBounded } from '../../../src/core/local/nfkc-bounded.js'

describe('bounded normalisation', () => {
  it('gives the same text as NFKC of the whole, chunk boundaries and all', () => {
    const pieces = ['ｆｕｌｌ', 'e\u0301', '\u1100\u1161\u11a8', '한국어', 'ﬁ', '①', ' ', 'x', '\u0301\u0327', '😀']
    let seed = 7
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32)
    for (let run = 0; run < 20; run++) {
      let text = ''
      while (text.length < 12_000) text += pieces[Math.floor(random() * pieces.length)]
      const bounded = nfkcBounded(text, 1_000_000)
      expect(bounded.complete).toBe(true)
      expect(bounded.text === text.normalize('NFKC')).toBe(true)
    }
  })

  it('stops at the limit when NFKC expands a text (U+FDFA is 18 characters), and says so', () => {
    const bounded = nfkcBounded('\uFDFA'.repeat(30_000))
    expect(bounded.complete).toBe(false)
    expect(bounded.text.length).toBe(MAX_NORMALIZED_CHARS)
  })
})
