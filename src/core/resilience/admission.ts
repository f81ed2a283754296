import type { Clock } from '../shared/ports.js'

export interface Admission {
  /**
   * Whether a request may run its pipeline now: `true` at once when nothing else ran in this
   * turn of the event loop, else a promise that resolves `true` in a later macrotask, or `false`
   * when the request's deadline (less `marginMs`) comes first: its budget ran out waiting.
   */
  enter(deadline: number): true | Promise<boolean>
  /** Requests waiting for their turn. */
  waiting(): number
}

export interface AdmissionOptions {
  clock: Clock
  /**
   * Runs a callback as a macrotask of its own, after I/O (Node: setImmediate). Callbacks queued
   * before a turn's check phase run in it, each followed by its microtasks; those queued during
   * it run in the next turn, after the timers.
   */
  defer: (callback: () => void) => void
  /** The most time one turn of the event loop spends starting pipelines before timers run. */
  sliceMs?: number
  /** A request with less budget than this left is not started: it could not finish. */
  marginMs?: number
}

interface Waiter {
  deadline: number
  resolve: (admitted: boolean) => void
  cancelTimer: () => void
  done: boolean
}

/**
 * Starts pipelines one macrotask each, a few milliseconds per turn of the event loop. A burst
 * arrives in one turn; run back to back, its synchronous work (local checks, building each model
 * call) starved the timers that answer at the deadline: 256 cold requests took 583 ms before the
 * first timer could fire (issue 12). Here each waiting request gets its own macrotask (so its
 * synchronous work and microtasks finish before the next starts), a turn starts pipelines for at
 * most `sliceMs` before the rest move to the next turn, in order, and a request whose deadline
 * passes while it waits is told at once, so its conservative verdict goes out on time; one that
 * could not start in time even if every pipeline waiting ahead ran back to back is told on arrival.
 *
 * @example
 * const admission = createAdmission({ clock, defer: setImmediate })
 * const entered = admission.enter(deadline)
 * if (entered !== true && !(await entered)) return overloaded()
 */
export function createAdmission({ clock, defer, sliceMs = 4, marginMs = 5 }: AdmissionOptions): Admission {
  // When this turn's slice began; undefined until something runs in a turn.
  let sliceStart: number | undefined
  // When the last pipeline of this slice was started, and what one costs (a moving average of
  // the time between two starts in one slice: the first's synchronous work).
  let lastStart: number | undefined
  let costMs = 0
  let sampledAt = 0
  let waiting = 0
  // The cost as last measured, halved for every second since: a burst of heavy requests must not
  // make a later, lighter one look hopeless.
  const cost = (now: number) => costMs * 0.5 ** ((now - sampledAt) / 1_000)

  function startSlice(now: number) {
    if (sliceStart !== undefined) return
    sliceStart = now
    // Timers run at the start of the next turn: the slice ends with this one.
    const next = clock.timer(0)
    void next.promise.then(() => (sliceStart = lastStart = undefined))
  }

  function started(now: number) {
    if (lastStart !== undefined) {
      costMs = costMs === 0 ? now - lastStart : 0.8 * cost(now) + 0.2 * (now - lastStart)
      sampledAt = now
    }
    lastStart = now
  }

  function tryAdmit(waiter: Waiter) {
    if (waiter.done) return
    const now = clock.now()
    startSlice(now)
    if (now - sliceStart! >= sliceMs) return defer(() => tryAdmit(waiter))
    waiter.done = true
    waiting--
    waiter.cancelTimer()
    const admitted = waiter.deadline - now > marginMs
    if (admitted) started(now)
    waiter.resolve(admitted)
  }

  return {
    enter(deadline) {
      const now = clock.now()
      if (sliceStart === undefined && waiting === 0) {
        startSlice(now)
        started(now)
        return true
      }
      // Shed early: when those ahead cannot all start before this one's deadline even with every
      // millisecond spent on them, its turn will not come; it is told now, not at the deadline
      // (in a burst, hundreds of such answers due together delay each other).
      if (waiting * cost(now) > deadline - marginMs - now) return Promise.resolve(false)
      waiting++
      return new Promise<boolean>((resolve) => {
        const timer = clock.timer(deadline - marginMs - now)
        const waiter: Waiter = { deadline, resolve, cancelTimer: timer.cancel, done: false }
        void timer.promise.then(() => {
          if (waiter.done) return
          waiter.done = true
          waiting--
          resolve(false)
        })
        defer(() => tryAdmit(waiter))
      })
    },
    waiting: () => waiting,
  }
}
