export interface CallLimiter {
  /**
   * A slot for one model call, or 'overloaded' when none frees up before `signal` aborts (at the
   * call's deadline, the latest of its callers'): a call never waits past its budget for a slot.
   */
  acquire(signal: AbortSignal): Promise<(() => void) | 'overloaded'>
  /** A slot now, or undefined: for optional extra calls (hedges) that must not wait. */
  tryAcquire(): (() => void) | undefined
  inUse(): number
  waiting(): number
}

/**
 * Bounds concurrent model calls. Waiters queue in order; each gives up when its signal aborts, so
 * the queue can never hold a call longer than its budget.
 *
 * @example
 * const limiter = createCallLimiter({ maxConcurrent: 64 })
 * const slot = await limiter.acquire(signal)
 */
export function createCallLimiter({ maxConcurrent }: { maxConcurrent: number }): CallLimiter {
  let active = 0
  const queue: { grant: () => void }[] = []

  const release = () => {
    const next = queue.shift()
    if (next) next.grant()
    else active--
  }

  return {
    async acquire(signal) {
      if (active < maxConcurrent) {
        active++
        return once(release)
      }
      if (signal.aborted) return 'overloaded'
      return new Promise((resolve) => {
        const giveUp = () => {
          const index = queue.indexOf(waiter)
          if (index === -1) return
          queue.splice(index, 1)
          resolve('overloaded')
        }
        const waiter = {
          grant: () => {
            signal.removeEventListener('abort', giveUp)
            resolve(once(release))
          },
        }
        queue.push(waiter)
        signal.addEventListener('abort', giveUp, { once: true })
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
