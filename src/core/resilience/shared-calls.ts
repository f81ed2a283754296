import type { Clock } from '../shared/ports.js'

// Aborts fire this long after the deadline: timers run in order of when they are due, so every
// answer due at the deadline goes out before the abort's work (error objects, socket teardown).
const ABORT_AFTER_DEADLINE_MS = 1

/**
 * Why a call's signal aborted: its deadline came. `deadline` is when the abort was due and
 * `firedAt` when its timer fired, to tell how late the event loop was (call-blame.ts); the abort
 * itself may run later still, in the background.
 */
export class BudgetExhausted extends Error {
  override name = 'BudgetExhausted'
  constructor(
    readonly deadline: number,
    readonly firedAt: number,
  ) {
    super('latency budget exhausted')
  }
}

export interface SharedCallsOptions {
  /** Where aborts run: in the background (background-queue.ts) so answers go first; at once by default. */
  abortLater?: (abort: () => void) => void
}

/** The abort of a call whose deadline came, without a stack trace (nobody reads it; it costs). */
function exhausted(clock: Clock, due: number): BudgetExhausted {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return new BudgetExhausted(due, clock.now())
  } finally {
    Error.stackTraceLimit = limit
  }
}

interface Entry<T> {
  promise: Promise<T>
  controller: AbortController
  deadline: number
  cancelTimer: () => void
  /** Its deadline came: the abort is decided, even while it waits to run in the background. */
  doomed: boolean
}

export interface SharedCalls<T> {
  /**
   * Runs `start` for `key` unless a call for it is already under way, in which case the caller
   * joins it. The call is aborted at the latest deadline of everyone waiting on it; `start` is
   * told that deadline, which may move later as others join.
   */
  join(key: string, deadline: number, start: (signal: AbortSignal, deadline: () => number) => Promise<T>): Promise<T>
}

/**
 * Coalesces concurrent identical calls (the model call for identical content), so a burst of
 * duplicate uploads costs one call.
 *
 * @example
 * const calls = createSharedCalls<ModelOutcome>(clock)
 * const outcome = await calls.join(cacheKey, deadline, (signal) => judge(signal))
 */
export function createSharedCalls<T>(clock: Clock, { abortLater = (abort) => abort() }: SharedCallsOptions = {}): SharedCalls<T> {
  const entries = new Map<string, Entry<T>>()

  return {
    join(key, deadline, start) {
      const existing = entries.get(key)
      // A call past its deadline (aborted, or about to be) is no use to a newcomer with budget left.
      if (existing && !existing.doomed) {
        if (deadline > existing.deadline) {
          existing.cancelTimer()
          existing.cancelTimer = abortAt(deadline, existing)
          existing.deadline = deadline
        }
        return existing.promise
      }
      const entry = { controller: new AbortController(), deadline, doomed: false } as Entry<T>
      entry.cancelTimer = abortAt(deadline, entry)
      entry.promise = start(entry.controller.signal, () => entry.deadline)
      entries.set(key, entry)
      const forget = () => {
        entry.cancelTimer()
        if (entries.get(key) === entry) entries.delete(key)
      }
      entry.promise.then(forget, forget)
      return entry.promise
    },
  }

  function abortAt(deadline: number, entry: Entry<T>): () => void {
    const due = deadline + ABORT_AFTER_DEADLINE_MS
    const timer = clock.timer(due - clock.now())
    void timer.promise.then(() => {
      entry.doomed = true
      const reason = exhausted(clock, due)
      abortLater(() => entry.controller.abort(reason))
    })
    return timer.cancel
  }
}

/**
 * The same interface without sharing: every caller gets its own call, aborted at its own
 * deadline. For workerd, where one request may not touch another's timers or fetches.
 */
export function createUnsharedCalls<T>(clock: Clock, { abortLater = (abort) => abort() }: SharedCallsOptions = {}): SharedCalls<T> {
  return {
    join(_key, deadline, start) {
      const controller = new AbortController()
      const due = deadline + ABORT_AFTER_DEADLINE_MS
      const timer = clock.timer(due - clock.now())
      void timer.promise.then(() => {
        const reason = exhausted(clock, due)
        abortLater(() => controller.abort(reason))
      })
      const promise = start(controller.signal, () => deadline)
      promise.then(timer.cancel, timer.cancel)
      return promise
    },
  }
}
