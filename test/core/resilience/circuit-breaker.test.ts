import { describe, expect, it } from 'vitest'
import { createCallLimiter } from '../../../src/core/resilience/call-limiter.js'
import { createCircuitBreaker, type CircuitBreaker, type CircuitState } from '../../../src/core/resilience/circuit-breaker.js'
import { createManualClock } from '../../helpers/manual-clock.js'

describe('circuit breaker', () => {
  const record = (breaker: CircuitBreaker, outcomes: string) => {
    for (const c of outcomes) breaker.record(c === 'F' ? 'failure' : c === 'S' ? 'success' : 'ignored')
  }

  it('opens when the failure rate reaches the threshold over at least the minimum number of calls, not before', () => {
    const breaker = createCircuitBreaker({ clock: createManualClock(1_000), failureRate: 0.5, minCalls: 10 })
    record(breaker, 'FFFFFFFFF') // nine failures in a row: a burst, not yet a trend
    expect(breaker.state()).toBe('closed')
    record(breaker, 'S')
    expect(breaker.state()).toBe('open') // ten calls, nine failed
  })

  it('stays closed below the failure rate however many calls fail, and opens once the rate is reached', () => {
    const breaker = createCircuitBreaker({ clock: createManualClock(1_000), failureRate: 0.5, minCalls: 10 })
    record(breaker, 'SSFSSFSSFSSFSSFSSFSS') // 6 of 20
    expect(breaker.state()).toBe('closed')
    record(breaker, 'FFFF') // 10 of 24
    expect(breaker.state()).toBe('closed')
    record(breaker, 'FF') // 12 of 26
    expect(breaker.state()).toBe('closed')
    record(breaker, 'FF') // 14 of 28
    expect(breaker.state()).toBe('open')
  })

  it('forgets calls older than the window', async () => {
    const clock = createManualClock(1_000)
    const breaker = createCircuitBreaker({ clock, failureRate: 0.5, minCalls: 4, windowMs: 10_000 })
    record(breaker, 'FFF')
    await clock.advance(10_000)
    record(breaker, 'F') // the three earlier failures have left the window: one call
    expect(breaker.state()).toBe('closed')
    record(breaker, 'FFF')
    expect(breaker.state()).toBe('open')
  })

  it('counts ignored calls neither as successes nor as failures', () => {
    const breaker = createCircuitBreaker({ clock: createManualClock(1_000), failureRate: 0.5, minCalls: 2 })
    record(breaker, 'IIIIIIIIIIIIIIIIIIIIF') // twenty ignored timeouts do not reach the minimum
    expect(breaker.state()).toBe('closed')
    record(breaker, 'IIIIIIIIIIIIIIIIIIIIS') // nor do they dilute the rate
    expect(breaker.state()).toBe('open')
  })

  it('refuses while open, probes once after the cool-down, closes on success with a fresh window', async () => {
    const clock = createManualClock(1_000)
    const changes: CircuitState[] = []
    const breaker = createCircuitBreaker({ clock, failureRate: 0.5, minCalls: 2, cooldownMs: 5_000, onChange: (s) => changes.push(s) })
    record(breaker, 'FF')
    expect(breaker.allow()).toBe(false)
    record(breaker, 'S') // a call from before the circuit opened lands: it closes nothing
    await clock.advance(4_999)
    expect(breaker.state()).toBe('open')
    await clock.advance(1)
    expect(breaker.state()).toBe('half_open')
    expect(breaker.allow()).toBe(true) // the probe
    expect(breaker.allow()).toBe(false) // only one
    breaker.record('success')
    expect(breaker.state()).toBe('closed')
    record(breaker, 'F') // one call in the fresh window: the failures before the circuit opened are gone
    expect(breaker.state()).toBe('closed')
    expect(changes).toEqual(['open', 'half_open', 'closed'])
  })

  it('reopens when the probe fails, and frees the probe when it never went out or told nothing', async () => {
    const clock = createManualClock(1_000)
    const breaker = createCircuitBreaker({ clock, failureRate: 0.5, minCalls: 1, cooldownMs: 1_000 })
    breaker.record('failure')
    await clock.advance(1_000)
    expect(breaker.allow()).toBe(true)
    breaker.cancel() // no slot
    expect(breaker.allow()).toBe(true)
    breaker.record('ignored') // cut short by a busy process
    expect(breaker.state()).toBe('half_open')
    expect(breaker.allow()).toBe(true)
    breaker.record('failure')
    expect(breaker.state()).toBe('open')
    expect(breaker.allow()).toBe(false)
  })
})

describe('call limiter', () => {
  it('grants up to the bound, queues the rest in order, and gives up when a waiter\'s signal aborts', async () => {
    const limiter = createCallLimiter({ maxConcurrent: 1 })
    const first = await limiter.acquire(new AbortController().signal)
    expect(typeof first).toBe('function')
    const secondBudget = new AbortController()
    const second = limiter.acquire(secondBudget.signal)
    const third = limiter.acquire(new AbortController().signal)
    expect(limiter.waiting()).toBe(2)
    secondBudget.abort() // the second's budget ends
    expect(await second).toBe('overloaded')
    expect(limiter.waiting()).toBe(1)
    ;(first as () => void)()
    expect(typeof (await third)).toBe('function')
    expect(limiter.inUse()).toBe(1)
    expect(await limiter.acquire(AbortSignal.abort())).toBe('overloaded')
  })
})
