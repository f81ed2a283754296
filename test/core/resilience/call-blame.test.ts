import { describe, expect, it } from 'vitest'
import { createCallBlame, type CallBlame } from '../../../src/core/resilience/call-blame.js'
import type { CallOutcome } from '../../../src/core/resilience/circuit-breaker.js'
import type { ModelOutcome } from '../../../src/core/shared/model.js'
import { createUnsharedCalls, type SharedCalls } from '../../../src/core/resilience/shared-calls.js'
import { createManualClock } from '../../helpers/manual-clock.js'

const TIMEOUT: ModelOutcome = { kind: 'failed', reason: 'timeout', detail: 'aborted at the end of the budget' }

describe('call blame', () => {
  const setup = () => {
    const clock = createManualClock(1_000)
    const blame = createCallBlame({ clock })
    const calls = createUnsharedCalls<CallOutcome>(clock)
    return { clock, blame, calls }
  }
  // A call to a model that never answers: it ends when its deadline timer aborts it.
  const hungCall = (calls: SharedCalls<CallOutcome>, blame: CallBlame, deadline: number) =>
    calls.join('k', deadline, (signal) => {
      const timing = blame.start(signal)
      return new Promise((resolve) => signal.addEventListener('abort', () => resolve(timing.outcomeOf(TIMEOUT))))
    })

  it('blames the model for a timeout when it had its time and the abort fired on time', async () => {
    const { clock, blame, calls } = setup()
    const outcome = hungCall(calls, blame, clock.now() + 300)
    await clock.advance(301) // aborts fire a millisecond after the deadline, once the answer is out
    expect(await outcome).toBe('failure')
  })

  it('does not blame the model when the abort fired late: the process was busy', async () => {
    const { clock, blame, calls } = setup()
    const outcome = hungCall(calls, blame, clock.now() + 300)
    await clock.advance(500) // the deadline timer fires 200 ms after it was due
    expect(await outcome).toBe('ignored')
  })

  it('does not blame the model for a call cut short before it had 100 ms', async () => {
    const { clock, blame, calls } = setup()
    const outcome = hungCall(calls, blame, clock.now() + 60)
    await clock.advance(61)
    expect(await outcome).toBe('ignored')
  })

  it('does not blame a call that was out while another call\'s abort fired late, and blames the next one again', async () => {
    const { clock, blame, calls } = setup()
    const first = hungCall(calls, blame, clock.now() + 300)
    const second = hungCall(calls, blame, clock.now() + 400)
    await clock.advance(351) // the first's timer, 50 ms late
    await clock.advance(50) // the second's, on time: but its answer could have sat unread behind the stall
    expect([await first, await second]).toEqual(['ignored', 'ignored'])
    const third = hungCall(calls, blame, clock.now() + 300)
    await clock.advance(301)
    expect(await third).toBe('failure')
  })

  it('blames errors, 429s and the provider\'s own timeouts; credits answers and invalid output', () => {
    const { blame } = setup()
    const outcomeOf = (outcome: ModelOutcome) => blame.start(new AbortController().signal).outcomeOf(outcome)
    const failed = (reason: 'upstream_error' | 'rate_limited' | 'timeout' | 'invalid_output'): ModelOutcome => ({ kind: 'failed', reason, detail: '' })
    expect(outcomeOf(failed('upstream_error'))).toBe('failure')
    expect(outcomeOf(failed('rate_limited'))).toBe('failure')
    expect(outcomeOf(failed('timeout'))).toBe('failure') // not aborted by us: the provider gave up
    expect(outcomeOf(failed('invalid_output'))).toBe('success')
    // A refusal of this request's content (400, 413, ...) is not the model failing; a bad key or model is.
    expect(outcomeOf({ kind: 'failed', reason: 'upstream_error', detail: 'HTTP 400', status: 400 })).toBe('ignored')
    expect(outcomeOf({ kind: 'failed', reason: 'upstream_error', detail: 'HTTP 413', status: 413 })).toBe('ignored')
    expect(outcomeOf({ kind: 'failed', reason: 'upstream_error', detail: 'HTTP 403', status: 403 })).toBe('failure')
    expect(outcomeOf({ kind: 'failed', reason: 'upstream_error', detail: 'HTTP 503', status: 503 })).toBe('failure')
    expect(outcomeOf({ kind: 'judged', judgement: { safe: true, action: 'allow', categories: [], confidence: 0.9, model: 'm' } })).toBe('success')
  })
})
