import type { Clock } from '../../src/core/shared/ports.js'

/**
 * A clock the test moves by hand: timers fire only on advance(); spend() moves it without firing
 * them (CPU time on a busy event loop).
 */
export function createManualClock(start = 0): Clock & { advance(ms: number): Promise<void>; spend(ms: number): void } {
  let now = start
  const timers = new Set<{ at: number; fire: () => void }>()
  return {
    now: () => now,
    spend: (ms) => void (now += ms),
    timer(ms) {
      let fire!: () => void
      const promise = new Promise<void>((resolve) => (fire = resolve))
      const entry = { at: now + Math.max(0, ms), fire }
      timers.add(entry)
      return { promise, cancel: () => timers.delete(entry) }
    },
    async advance(ms) {
      now += ms
      for (const entry of [...timers]) {
        if (entry.at <= now) {
          timers.delete(entry)
          entry.fire()
        }
      }
      await new Promise((resolve) => setImmediate(resolve))
    },
  }
}
