import type { Clock } from '../shared/ports.js'

/**
 * Whichever comes first: the work's result, or `late` when the clock reaches `deadline`. The work
 * is not cancelled (pass it an AbortSignal for that); the caller just stops waiting.
 *
 * @example
 * const images = await beforeDeadline(prepareAll(), deadline, clock, 'late' as const)
 */
export async function beforeDeadline<T, L>(work: Promise<T>, deadline: number, clock: Clock, late: L): Promise<T | L> {
  const remaining = deadline - clock.now()
  if (remaining <= 0) {
    work.catch(() => {}) // settles unobserved; not an unhandled rejection
    return late
  }
  const timer = clock.timer(remaining)
  try {
    return await Promise.race([work, timer.promise.then(() => late)])
  } finally {
    timer.cancel()
  }
}
