import { describe, expect, it } from 'vitest'
import { createSharedCalls, createUnsharedCalls } from '../../../src/core/resilience/shared-calls.js'
import { createManualClock } from '../../helpers/manual-clock.js'

/** A call that settles only when the test says so, and records its abort. */
function controllableCall() {
  let settle!: (value: string) => void
  const signals: AbortSignal[] = []
  const start = (signal: AbortSignal) => {
    signals.push(signal)
    return new Promise<string>((resolve) => (settle = resolve))
  }
  return { start, signals, settle: (value: string) => settle(value) }
}

/** A manual clock, the calls under test on it, and a call the test settles itself. */
function setup(create: typeof createSharedCalls) {
  const clock = createManualClock()
  return { clock, calls: create<string>(clock), call: controllableCall() }
}

describe('shared calls', () => {
  it('runs one call for concurrent joiners and gives each the same result', async () => {
    const { calls, call } = setup(createSharedCalls)
    const a = calls.join('k', 100, call.start)
    const b = calls.join('k', 100, call.start)
    call.settle('judged')
    expect(await Promise.all([a, b])).toEqual(['judged', 'judged'])
    expect(call.signals).toHaveLength(1)
  })

  it('aborts at the latest deadline among the joiners', async () => {
    const { clock, calls, call } = setup(createSharedCalls)
    void calls.join('k', 100, call.start)
    void calls.join('k', 300, call.start)
    await clock.advance(150)
    expect(call.signals[0]?.aborted).toBe(false)
    await clock.advance(200)
    expect(call.signals[0]?.aborted).toBe(true)
  })

  it('starts a fresh call for a newcomer when the shared one was already aborted', async () => {
    const { clock, calls, call } = setup(createSharedCalls)
    void calls.join('k', 100, call.start)
    await clock.advance(101) // aborted (just after its deadline), but its promise has not settled yet
    void calls.join('k', 1000, call.start)
    expect(call.signals).toHaveLength(2)
    expect(call.signals[1]?.aborted).toBe(false)
  })

  it('does not let a newcomer join a call whose deadline passed while its abort waits in the background', async () => {
    const clock = createManualClock()
    const later: (() => void)[] = []
    const calls = createSharedCalls<string>(clock, { abortLater: (abort) => void later.push(abort) })
    const call = controllableCall()
    void calls.join('k', 100, call.start)
    await clock.advance(101) // the abort is due, but only queued
    expect(call.signals[0]?.aborted).toBe(false)
    void calls.join('k', 1_000, call.start)
    expect(call.signals).toHaveLength(2)
    for (const abort of later) abort()
    expect(call.signals.map((signal) => signal.aborted)).toEqual([true, false])
  })

  it('forgets a settled call, so the next join starts again', async () => {
    const { calls, call } = setup(createSharedCalls)
    const first = calls.join('k', 100, call.start)
    call.settle('one')
    await first
    void calls.join('k', 100, call.start)
    expect(call.signals).toHaveLength(2)
  })

  it('unshared: every caller gets its own call and its own deadline', async () => {
    const { clock, calls, call } = setup(createUnsharedCalls)
    void calls.join('k', 100, call.start)
    void calls.join('k', 300, call.start)
    expect(call.signals).toHaveLength(2)
    await clock.advance(150)
    expect(call.signals.map((s) => s.aborted)).toEqual([true, false])
  })
})
