import type { Clock } from './ports.js'

export interface CallLimiter {
  /**
   * A slot for one model call, or 'overloaded' when none frees up before `deadline`: a request
   * never waits past its budget for a slot.
   */
  acquire(deadline: number): Promise<(() => void) | 'overloaded'>
  /** A slot now, or undefined: for optional extra calls (hedges) that must not wait. */
  tryAcquire(): (() => void) | undefined
  inUse(): number
  waiting(): number
}

/**
 * Bounds concurrent model calls. Waiters queue in order; each gives up at its own deadline, so
 * the queue can never hold a request longer than its budget.
 *
 * @example
 * const limiter = createCallLimiter({ maxConcurrent: 64, clock })
 */
export function createCallLimiter({ maxConcurrent, clock }: { maxConcurrent: number; clock: Clock }): CallLimiter {
  let active = 0
  const queue: { grant: () => void }[] = []

  const release = () => {
    const next = queue.shift()
    if (next) next.grant()
    else active--
  }

  return {
    async acquire(deadline) {
      if (active < maxConcurrent) {
        active++
        return once(release)
      }
      // Give up just before the deadline, so the request reports 'overloaded' rather than racing
      // the budget's own timer to 'timeout'.
      const remaining = deadline - clock.now() - 2
      if (remaining <= 0) return 'overloaded'
      return new Promise((resolve) => {
        const timer = clock.timer(remaining)
        const waiter = {
          grant: () => {
            timer.cancel()
            resolve(once(release))
          },
        }
        queue.push(waiter)
        void timer.promise.then(() => {
          const index = queue.indexOf(waiter)
          if (index === -1) return
          queue.splice(index, 1)
          resolve('overloaded')
        })
      })
    },
    tryAcquire() {
      if (active >= maxConcurrent) return undefined
      active++
      return once(release)
    },
    inUse: () => active,
    waiting: () => queue.length,
  }
}

function once(release: () => void): () => void {
  let done = false
  return () => {
    if (done) return
    done = true
    release()
  }
}
