import { describe, expect, it } from 'vitest'
import { createCallLimiter } from '../../src/core/call-limiter.js'
import { createCircuitBreaker, type CircuitState } from '../../src/core/circuit-breaker.js'
import { createManualClock } from '../helpers/manual-clock.js'

describe('circuit breaker', () => {
  it('opens after consecutive failures, refuses while open, probes once after the cool-down, closes on success', async () => {
    const clock = createManualClock(1_000)
    const changes: CircuitState[] = []
    const breaker = createCircuitBreaker({ clock, failureThreshold: 3, cooldownMs: 5_000, onChange: (s) => changes.push(s) })
    for (let i = 0; i < 2; i++) {
      expect(breaker.allow()).toBe(true)
      breaker.record('failure')
    }
    breaker.record('success') // resets the count: failures must be consecutive
    for (let i = 0; i < 3; i++) breaker.record('failure')
    expect(breaker.state()).toBe('open')
    expect(breaker.allow()).toBe(false)
    await clock.advance(5_000)
    expect(breaker.state()).toBe('half_open')
    expect(breaker.allow()).toBe(true) // the probe
    expect(breaker.allow()).toBe(false) // only one
    breaker.record('success')
    expect(breaker.state()).toBe('closed')
    expect(changes).toEqual(['open', 'half_open', 'closed'])
  })

  it('reopens when the probe fails, and frees the probe when it never went out', async () => {
    const clock = createManualClock(1_000)
    const breaker = createCircuitBreaker({ clock, failureThreshold: 1, cooldownMs: 1_000 })
    breaker.record('failure')
    await clock.advance(1_000)
    expect(breaker.allow()).toBe(true)
    breaker.cancel()
    expect(breaker.allow()).toBe(true)
    breaker.record('failure')
    expect(breaker.state()).toBe('open')
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
