import type { Clock } from '../shared/ports.js'

export interface BackgroundQueueOptions {
  clock: Clock
  /** Runs a callback after this turn's I/O (Node: setImmediate); see admission.ts. */
  defer: (callback: () => void) => void
  /** The most time one turn spends on queued work before timers and I/O get theirs. */
  sliceMs?: number
}

/**
 * Work that must happen but not before anything a caller waits for: a few milliseconds of it
 * per turn of the event loop, after the timers that answer requests. Aborting a model call costs
 * 0.3-1 ms (an error with its stack, the socket torn down); 256 of them due with the answers of a
 * burst delayed those answers by up to 170 ms (issue 12).
 *
 * @example
 * const later = createBackgroundQueue({ clock, defer: setImmediate })
 * later(() => controller.abort(reason))
 */
export function createBackgroundQueue({ clock, defer, sliceMs = 2 }: BackgroundQueueOptions): (work: () => void) => void {
  const queue: (() => void)[] = []
  let head = 0
  let scheduled = false

  function drain() {
    scheduled = false
    const started = clock.now()
    while (head < queue.length) {
      const work = queue[head]!
      queue[head++] = noop
      try {
        work()
      } catch {
        // Background work has no caller to tell; it must not stop the rest.
      }
      if (clock.now() - started >= sliceMs) break
    }
    if (head < queue.length) schedule()
    else queue.length = head = 0
  }

  function schedule() {
    if (scheduled) return
    scheduled = true
    defer(drain)
  }

  return (work) => {
    queue.push(work)
    schedule()
  }
}

const noop = () => {}
