import type { Clock } from './ports.js'

export type CircuitState = 'closed' | 'open' | 'half_open'

export interface CircuitBreakerOptions {
  clock: Clock
  /** Consecutive upstream failures or timeouts that open the circuit. */
  failureThreshold?: number
  /** How long the circuit stays open before one probe call is let through. */
  cooldownMs?: number
  onChange?: (state: CircuitState) => void
}

export interface CircuitBreaker {
  /** Whether a call may go out now; in half-open, only the one probe may. */
  allow(): boolean
  /** The outcome of a call that went out: `failure` for upstream errors, timeouts, 429s. */
  record(outcome: 'success' | 'failure'): void
  /** A call that `allow` let through did not go out after all (no slot): free the probe. */
  cancel(): void
  state(): CircuitState
}

/**
 * A failing model is not called in a loop: after `failureThreshold` consecutive failures the
 * circuit opens and calls are refused at once (the conservative verdict, `circuit_open`); after
 * `cooldownMs` one probe goes out, and its outcome closes or reopens the circuit.
 *
 * @example
 * const breaker = createCircuitBreaker({ clock, failureThreshold: 5, cooldownMs: 10_000 })
 */
export function createCircuitBreaker({ clock, failureThreshold = 5, cooldownMs = 10_000, onChange }: CircuitBreakerOptions): CircuitBreaker {
  let current: CircuitState = 'closed'
  let failures = 0
  let openedAt = 0
  let probing = false

  const become = (next: CircuitState) => {
    if (next === current) return
    current = next
    onChange?.(next)
  }

  return {
    allow() {
      if (current === 'open' && clock.now() - openedAt >= cooldownMs) become('half_open')
      if (current === 'closed') return true
      if (current === 'half_open' && !probing) {
        probing = true
        return true
      }
      return false
    },
    record(outcome) {
      if (outcome === 'success') {
        failures = 0
        probing = false
        become('closed')
        return
      }
      failures++
      if (current === 'half_open' || failures >= failureThreshold) {
        probing = false
        openedAt = clock.now()
        become('open')
      }
    },
    cancel() {
      probing = false
    },
    state() {
      if (current === 'open' && clock.now() - openedAt >= cooldownMs) return 'half_open'
      return current
    },
  }
}
