import { describe, expect, it } from 'vitest'
import { classifyLocally } from '../../../src/core/local/local-rules.js'
import { compilePolicy } from '../../../src/core/moderation/policy.js'

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
