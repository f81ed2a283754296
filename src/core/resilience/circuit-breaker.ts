/**
 * core/resilience/: What keeps a slow or failing model from costing the budget: the circuit
 * breaker (this file), the call limiter, hedging, shared calls, deadlines, CPU admission and the
 * background queue, and call-blame (whether a failed call counts against the model).
 *
 * May import: core/shared.
 */
import type { Clock } from '../shared/ports.js'

export type CircuitState = 'closed' | 'open' | 'half_open'

/**
 * What a call that went out says about the model: `failure` only when the model (or the network
 * to it) failed; `ignored` when the call tells nothing (we cut it short, or the process was busy).
 */
export type CallOutcome = 'success' | 'failure' | 'ignored'

export interface CircuitBreakerOptions {
  clock: Clock
  /** The share of failed calls in the window (0 < rate <= 1) at which the circuit opens. */
  failureRate?: number
  /** Fewest calls recorded in the window before the rate is judged: a handful of failures is no trend. */
  minCalls?: number
  /** How far back recorded calls count. */
  windowMs?: number
  /** How long the circuit stays open before one probe call is let through. */
  cooldownMs?: number
  onChange?: (state: CircuitState) => void
}

export interface CircuitBreaker {
  /** Whether a call may go out now; in half-open, only the one probe may. */
  allow(): boolean
  /** The outcome of a call that went out; an `ignored` probe frees the probe, like `cancel`. */
  record(outcome: CallOutcome): void
  /** A call that `allow` let through did not go out after all (no slot): free the probe. */
  cancel(): void
  state(): CircuitState
}

// The window is kept as this many buckets of calls and failures: constant memory at any rate,
// and a call leaves the window at most a tenth of it late.
const BUCKETS = 10

/**
 * A failing model is not called in a loop: when at least `minCalls` calls were recorded in the
 * last `windowMs` and at least `failureRate` of them failed, the circuit opens and calls are
 * refused at once (the conservative verdict, `circuit_open`); after `cooldownMs` one probe goes
 * out, and its outcome closes or reopens the circuit. The same rule as resilience4j's time-based
 * sliding window, with a single probe.
 *
 * @example
 * const breaker = createCircuitBreaker({ clock, failureRate: 0.5, minCalls: 10, windowMs: 10_000, cooldownMs: 10_000 })
 */
export function createCircuitBreaker({
  clock,
  failureRate = 0.5,
  minCalls = 10,
  windowMs = 10_000,
  cooldownMs = 10_000,
  onChange,
}: CircuitBreakerOptions): CircuitBreaker {
  const window = createCallWindow(windowMs)
  let current: CircuitState = 'closed'
  let openedAt = 0
  let probing = false

  const become = (next: CircuitState) => {
    if (next === current) return
    current = next
    onChange?.(next)
  }
  const open = () => {
    probing = false
    openedAt = clock.now()
    // A fresh start after the cool-down: the failures that opened it are not held against the probe's successors.
    window.clear()
    become('open')
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
      if (current !== 'closed') {
        // Only the probe is out (calls from before the circuit opened may still land: they judge nothing).
        if (!probing) return
        if (outcome === 'ignored') probing = false
        else if (outcome === 'failure') open()
        else {
          probing = false
          become('closed')
        }
        return
      }
      if (outcome === 'ignored') return
      const { calls, failures } = window.add(clock.now(), outcome === 'failure')
      if (calls >= minCalls && failures >= failureRate * calls) open()
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

/** Calls and failures over the last `windowMs`, in buckets. */
function createCallWindow(windowMs: number) {
  const bucketMs = windowMs / BUCKETS
  const buckets = Array.from({ length: BUCKETS }, () => ({ index: -1, calls: 0, failures: 0 }))
  return {
    add(now: number, failed: boolean): { calls: number; failures: number } {
      const index = Math.floor(now / bucketMs)
      const bucket = buckets[((index % BUCKETS) + BUCKETS) % BUCKETS]!
      if (bucket.index !== index) Object.assign(bucket, { index, calls: 0, failures: 0 })
      bucket.calls++
      if (failed) bucket.failures++
      let calls = 0
      let failures = 0
      for (const b of buckets) {
        if (b.index <= index - BUCKETS) continue
        calls += b.calls
        failures += b.failures
      }
      return { calls, failures }
    },
    clear() {
      for (const b of buckets) Object.assign(b, { index: -1, calls: 0, failures: 0 })
    },
  }
}
