import { describe, expect, it } from 'vitest'
import { buildService } from '../helpers/service.js'
import { useFakeGemini } from '../helpers/use-fake-gemini.js'

const gemini = useFakeGemini()
let counter = 0
const fresh = () => `hedge ${++counter}-${Date.now()}`

describe('hedged model calls (MODERATION_HEDGE_AFTER_MS)', () => {
  it('starts a second call when the first is slow, takes the first answer, and aborts the other', async () => {
    const { moderate } = await buildService({ gemini, env: { MODERATION_HEDGE_AFTER_MS: '100' } })
    gemini.script({ hang: true }, { delayMs: 20, then: { verdict: { safe: true, categories: [], confidence: 0.97 } } })
    const started = performance.now()
    const verdict = (await (await moderate({ text: fresh(), budget_ms: 800 })).json()) as { source: string }
    expect(verdict.source).toBe('model')
    expect(performance.now() - started).toBeLessThan(800)
    expect(gemini.requests).toHaveLength(2)
  })

  it('does not hedge a call that answers in time, nor when the budget leaves no room', async () => {
    const { moderate } = await buildService({ gemini, env: { MODERATION_HEDGE_AFTER_MS: '300' } })
    gemini.script({ delayMs: 20, then: { verdict: { safe: true, categories: [], confidence: 0.97 } } })
    await moderate({ text: fresh() })
    expect(gemini.requests).toHaveLength(1)
    gemini.script({ hang: true })
    const verdict = (await (await moderate({ text: fresh(), budget_ms: 250 })).json()) as { fallback_reason: string }
    expect(verdict.fallback_reason).toBe('timeout')
    expect(gemini.requests).toHaveLength(2)
  })

  it('is off by default', async () => {
    const { moderate } = await buildService({ gemini })
    gemini.script({ hang: true })
    await moderate({ text: fresh(), budget_ms: 300 })
    expect(gemini.requests).toHaveLength(1)
  })
})
