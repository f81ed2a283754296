import { describe, expect, it } from 'vitest'
import { classifyLocally } from '../../src/core/local-rules.js'
import { compilePolicy } from '../../src/core/policy.js'

const policy = await compilePolicy(
  'p.yaml',
  `
description: test
categories:
  illicit: { description: drugs, review_at: 0.5, block_at: 0.8 }
  harassment: { description: insults, review_at: 0.5, block_at: 0.8 }
  hate: { description: hate, review_at: 0.5, block_at: 0.8 }
local:
  block:
    illicit: [buy cocaine, meth]
    hate: ['/\\bgo back to your country\\b/']
  review:
    harassment: [idiot]
    illicit: [cocaine]
  allow: [cocaine bear]
`,
)
const classify = (text: string) => classifyLocally(policy.local, text)

describe('local rules', () => {
  it('matches phrases case-insensitively, across any whitespace', () => {
    expect(classify('Where can I BUY   cocaine?')).toEqual({ block: ['illicit'], review: [] })
  })

  it('matches whole words only', () => {
    expect(classify('the method works; something amethyst')).toEqual({ block: [], review: [] })
    expect(classify('selling meth here')).toEqual({ block: ['illicit'], review: [] })
  })

  it('matches regular-expression terms', () => {
    expect(classify('You should go back to your country')).toEqual({ block: ['hate'], review: [] })
  })

  it('puts review-list hits apart from block-list hits, and a block hit wins for its category', () => {
    expect(classify('you idiot')).toEqual({ block: [], review: ['harassment'] })
    expect(classify('cocaine is bad')).toEqual({ block: [], review: ['illicit'] })
    expect(classify('buy cocaine, idiot')).toEqual({ block: ['illicit'], review: ['harassment'] })
  })

  it('removes allow-list phrases before matching', () => {
    expect(classify('Watching Cocaine Bear tonight')).toEqual({ block: [], review: [] })
    expect(classify('watching cocaine tonight')).toEqual({ block: [], review: ['illicit'] })
  })

  it('is not fooled by zero-width characters or full-width letters', () => {
    expect(classify('buy co\u200bcaine')).toEqual({ block: ['illicit'], review: [] })
    expect(classify('ｂｕｙ ｃｏｃａｉｎｅ')).toEqual({ block: ['illicit'], review: [] })
  })

  it('finds nothing in empty text', () => {
    expect(classify('')).toEqual({ block: [], review: [] })
  })
})

describe('bounded normalisation', () => {
  it('gives the same text as NFKC of the whole, chunk boundaries and all', async () => {
    const { nfkcBounded } = await import('../../src/core/local-rules.js')
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

  it('stops at the limit when NFKC expands a text (U+FDFA is 18 characters), and says so', async () => {
    const { nfkcBounded, MAX_NORMALIZED_CHARS } = await import('../../src/core/local-rules.js')
    const bounded = nfkcBounded('\uFDFA'.repeat(30_000))
    expect(bounded.complete).toBe(false)
    expect(bounded.text.length).toBe(MAX_NORMALIZED_CHARS)
  })
})
