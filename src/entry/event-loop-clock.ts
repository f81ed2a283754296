import type { Clock } from '../core/shared/ports.js'

export interface EventLoopClock {
  /**
   * When the request being read now reached the process, at the earliest: the moment the event
   * loop last came round. A request read after the loop was blocked may have waited the whole
   * block in the socket; counting from the block's start is the honest bound (`latency_ms` 15-50
   * was reported to callers who had waited 7 s, issue 12), and it is what their budget allows.
   */
  arrivedAt(): number
  /** How late the loop is now, beyond the heartbeat's own period. */
  lagMs(): number
  stop(): void
}

/**
 * A heartbeat every `periodMs` (unref'd: it keeps nothing alive): while the loop is free it beats
 * on time, and `arrivedAt` is now; while it is blocked it cannot, and the last beat tells when the
 * block began. Timers run before the loop reads sockets, so the first beat after a block is seen
 * before the requests that waited through it: for 25 ms after a late beat, requests are
 * counted from the block's start (an upper bound on their wait; those that came at its very end
 * are over-counted, never under-counted). 200 timer callbacks a second cost about 0.1% of a core.
 *
 * @example
 * const loop = watchEventLoop({ clock: systemClock })
 * composeApp({ ..., arrivedAt: loop.arrivedAt })
 */
export function watchEventLoop({ clock, periodMs = 5 }: { clock: Clock; periodMs?: number }): EventLoopClock {
  let lastBeat = clock.now()
  let blockedFrom: number | undefined
  const heartbeat = setInterval(() => {
    const now = clock.now()
    // Timer jitter is a millisecond or two; later than that, the loop was blocked.
    blockedFrom = now - lastBeat > periodMs + LATE_MS ? lastBeat + periodMs : undefined
    lastBeat = now
  }, periodMs)
  heartbeat.unref()
  return {
    arrivedAt() {
      const now = clock.now()
      if (blockedFrom !== undefined && now - lastBeat <= AFTER_BLOCK_MS) return blockedFrom
      return Math.min(now, lastBeat + periodMs)
    },
    lagMs: () => Math.max(0, clock.now() - lastBeat - periodMs),
    stop: () => clearInterval(heartbeat),
  }
}

const LATE_MS = 10
// How long after a late beat the loop may still be reading what queued up during the block: the
// rest of the timers, then the poll phase that reads the sockets (10 ms seen under a test runner).
const AFTER_BLOCK_MS = 25
