import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { verdictSchema } from '../../src/core/shared/verdict.js'
import type { FakeReply } from '../helpers/fake-gemini.js'
import { buildService } from '../helpers/service.js'
import { useFakeGemini } from '../helpers/use-fake-gemini.js'

const gemini = useFakeGemini()

// A small deterministic PRNG: the same mix of faults on every run.
function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const FAULTS: [string, (r: () => number) => FakeReply][] = [
  ['ok', () => ({ verdict: { safe: true, categories: [], confidence: 0.95 } })],
  ['unsafe', () => ({ verdict: { safe: false, categories: ['hate'], confidence: 0.9 } })],
  ['slow', (r) => ({ delayMs: 50 + Math.floor(r() * 400), then: { verdict: { safe: true, categories: [], confidence: 0.9 } } })],
  ['hang', () => ({ hang: true })],
  ['reset', () => ({ drop: true })],
  ['malformed', () => ({ text: '{"safe": maybe' })],
  ['truncated', () => ({ text: '{"safe":true,"categ', finishReason: 'MAX_TOKENS' })],
  ['429', () => ({ status: 429 })],
  ['500', () => ({ status: 500 })],
  ['blocked', () => ({ blockReason: 'SAFETY', categories: ['harassment'] })],
]

describe('fault mix: every failure the model can produce, under concurrency', () => {
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => unhandled.push(reason)
  beforeAll(() => {
    process.on('unhandledRejection', onUnhandled)
  })
  afterAll(() => {
    process.off('unhandledRejection', onUnhandled)
  })

  it('answers 300 requests with valid verdicts inside budget + margin; the breaker opens and closes; nothing crashes', async () => {
    const random = mulberry32(42)
    const { moderate, app, logs } = await buildService({
      gemini,
      // About 4 in 10 of the mix are the model's failures (hangs, resets, 429s, 500s, some slow
      // answers); the rate is set below that so the storm opens the circuit.
      env: { MODERATION_BREAKER_MIN_CALLS: '10', MODERATION_BREAKER_FAILURE_RATE: '0.25', MODERATION_BREAKER_COOLDOWN_MS: '100', MODERATION_MAX_MODEL_CALLS: '16' },
    })
    const budget = 300
    const margin = 150
    const counts = new Map<string, number>()
    // Phases: a storm of faults, then a calm stretch so the breaker can close again.
    gemini.setDefault(() => {
      const [, make] = FAULTS[Math.floor(random() * FAULTS.length)]!
      return make(random)
    })
    const run = async (index: number) => {
      const started = performance.now()
      const res = await moderate({ text: `fault mix request ${index} ${random()}`, budget_ms: budget })
      const elapsed = performance.now() - started
      expect(res.status).toBe(200)
      const verdict = verdictSchema.parse(await res.json())
      expect(elapsed, `request ${index} took ${elapsed.toFixed(0)} ms`).toBeLessThan(budget + margin)
      if (verdict.source === 'fallback') expect(verdict.safe).toBe(false)
      const key = verdict.fallback_reason ?? verdict.source
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    for (let batch = 0; batch < 12; batch++) await Promise.all(Array.from({ length: 20 }, (_, i) => run(batch * 20 + i)))
    gemini.setDefault({ verdict: { safe: true, categories: [], confidence: 0.95 } })
    await new Promise((resolve) => setTimeout(resolve, 200)) // the cool-down, on the real clock the service uses
    for (let batch = 12; batch < 15; batch++) await Promise.all(Array.from({ length: 20 }, (_, i) => run(batch * 20 + i)))

    console.info('fault mix outcomes', Object.fromEntries(counts))
    const states = logs.filter((line) => line.msg === 'circuit breaker').map((line) => line.state)
    expect(states).toContain('open')
    expect(states.at(-1)).toBe('closed')
    expect(await (await app.request('/readyz')).json()).toMatchObject({ circuit: 'closed' })
    for (const reason of ['timeout', 'invalid_output', 'upstream_error', 'circuit_open']) expect(counts.get(reason) ?? 0, reason).toBeGreaterThan(0)
    expect(unhandled).toEqual([])
  }, 60_000)
})
