import { describe, expect, it } from 'vitest'
import { hedged } from '../../../src/core/resilience/hedge.js'
import type { ModelOutcome } from '../../../src/core/shared/model.js'
import { createManualClock } from '../../helpers/manual-clock.js'

const judged: ModelOutcome = { kind: 'judged', judgement: { safe: true, action: 'allow', categories: [], confidence: 0.9, model: 'm' } }

describe('hedged calls', () => {
  it('turns a throwing attempt into a failure instead of an unhandled rejection, and frees the hedge slot', async () => {
    const clock = createManualClock(1_000)
    let released = 0
    const attempts: ((o: ModelOutcome | Error) => void)[] = []
    const attempt = () =>
      new Promise<ModelOutcome>((resolve, reject) => attempts.push((o) => (o instanceof Error ? reject(o) : resolve(o))))
    const result = hedged(attempt, new AbortController().signal, 2_000, { afterMs: 100, clock, trySlot: () => () => void released++ })
    await clock.advance(100)
    expect(attempts).toHaveLength(2)
    attempts[0]!({ kind: 'failed', reason: 'upstream_error', detail: 'x' })
    attempts[1]!(new Error('adapter bug'))
    expect(await result).toMatchObject({ kind: 'failed' })
    expect(released).toBe(1)
  })

  it('does not hedge when too little budget would be left for the second call', async () => {
    const clock = createManualClock(1_000)
    let calls = 0
    const attempt = () => {
      calls++
      return new Promise<ModelOutcome>(() => {})
    }
    void hedged(attempt, new AbortController().signal, 1_000 + 150, { afterMs: 100, clock })
    await clock.advance(100)
    expect(calls).toBe(1)
  })

  it('takes the first judged answer', async () => {
    const clock = createManualClock(1_000)
    const result = hedged(async () => judged, new AbortController().signal, 5_000, { afterMs: 100, clock })
    expect(await result).toBe(judged)
  })
})
