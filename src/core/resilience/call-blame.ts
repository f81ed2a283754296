import type { CallOutcome } from './circuit-breaker.js'
import type { ModelOutcome } from '../shared/model.js'
import type { Clock } from '../shared/ports.js'
import { BudgetExhausted } from './shared-calls.js'

export interface CallBlameOptions {
  clock: Clock
  /** A call we cut short before the model had this long tells nothing about the model. */
  minModelMs?: number
  /** A deadline timer that fires later than this shows the process, not the model, was busy. */
  maxLagMs?: number
}

export interface CallTiming {
  /** What the call's end says about the model, for the breaker. */
  outcomeOf(outcome: ModelOutcome): CallOutcome
}

export interface CallBlame {
  /** Times one call from the moment it goes out (after its slot); `signal` aborts at its deadline. */
  start(signal: AbortSignal): CallTiming
}

// Measured model calls take 100 ms at the very least (as for hedges): less is no fair chance.
const MIN_MODEL_MS = 100
// Node's timers fire a few milliseconds late when the process is idle; a GC pause or a CPU-bound
// burst makes them tens to hundreds late (measured: 256 requests at once, 300 ms budgets).
const MAX_LAG_MS = 25
// 400 invalid argument, 413 too large, 415 unsupported type, 422: about the content. 401, 403 and
// 404 (a key or a model that does not work) fail every call alike, and count.
const REFUSALS_OF_CONTENT = new Set([400, 413, 415, 422])

/**
 * Tells the model's failures from ours. Errors, 429s and the provider's own timeouts are the
 * model's; a timeout we imposed is the model's only when it had at least `minModelMs` and the
 * event loop was not lagging while the call was out. The lag is read off the deadline timers
 * themselves (how late each abort fired), so it costs nothing while calls succeed.
 *
 * @example
 * const blame = createCallBlame({ clock })
 * const timing = blame.start(signal)
 * breaker.record(timing.outcomeOf(await judge(signal)))
 */
export function createCallBlame({ clock, minModelMs = MIN_MODEL_MS, maxLagMs = MAX_LAG_MS }: CallBlameOptions): CallBlame {
  // The last moment a deadline timer was seen firing late: the process was busy until then.
  let busyUntil = Number.NEGATIVE_INFINITY

  return {
    start(signal) {
      const sentAt = clock.now()
      let dueAt: number | undefined
      const onAbort = () => {
        // When the deadline timer fired, not when the abort ran (it may wait in the background).
        const firedAt = signal.reason instanceof BudgetExhausted ? signal.reason.firedAt : clock.now()
        dueAt = signal.reason instanceof BudgetExhausted ? signal.reason.deadline : firedAt
        if (firedAt - dueAt > maxLagMs) busyUntil = Math.max(busyUntil, firedAt)
      }
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort, { once: true })
      return {
        outcomeOf(outcome) {
          signal.removeEventListener('abort', onAbort)
          // An answer, even a nonsensical one, shows the model is up.
          if (outcome.kind === 'judged' || outcome.reason === 'invalid_output') return 'success'
          // The provider refused this request for what it holds (too large, an image it cannot
          // read): that says nothing of its health, and a client able to craft such content must
          // not be able to open the circuit for everyone.
          if (outcome.status !== undefined && REFUSALS_OF_CONTENT.has(outcome.status)) return 'ignored'
          // Errors, a timeout the provider reported itself (we did not abort), and 429s: a spent
          // quota stays spent, and the cool-down is the back-off it asks for.
          if (outcome.reason !== 'timeout' || dueAt === undefined) return 'failure'
          const modelMs = dueAt - sentAt
          // A late timer while this call was out: its answer may have sat unread behind our own work.
          if (modelMs < minModelMs || busyUntil >= sentAt) return 'ignored'
          return 'failure'
        },
      }
    },
  }
}
