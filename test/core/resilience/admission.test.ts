import { describe, expect, it } from 'vitest'
import { createAdmission } from '../../../src/core/resilience/admission.js'
import { createManualClock } from '../../helpers/manual-clock.js'

/**
 * The event loop, by hand: `spend` is CPU time (the clock moves, nothing fires), `timers()` is a
 * timers phase (what is due fires), `check()` runs what was deferred before it, one at a time.
 */
function handLoop() {
  const clock = createManualClock()
  let deferred: (() => void)[] = []
  const settle = () => new Promise((resolve) => setImmediate(resolve))
  return {
    clock,
    defer: (callback: () => void) => void deferred.push(callback),
    spend: clock.spend,
    timers: () => clock.advance(0),
    /** The check phase; each callback then costs `workMs` (the pipeline it started). */
    async check(workMs = 0) {
      const callbacks = deferred
      deferred = []
      for (const callback of callbacks) {
        const before = clock.now()
        callback()
        await settle()
        if (clock.now() === before) clock.spend(workMs)
      }
    },
    deferredCount: () => deferred.length,
  }
}

describe('admission: pipelines a few milliseconds of CPU at a time', () => {
  it('starts the first at once, and the rest one macrotask each, in order, a slice per turn', async () => {
    const loop = handLoop()
    const admission = createAdmission({ clock: loop.clock, defer: loop.defer, sliceMs: 4 })
    expect(admission.enter(1_000)).toBe(true)
    loop.spend(2) // the first pipeline's synchronous work
    const order: number[] = []
    const waiting = [1, 2, 3, 4, 5].map((n) => Promise.resolve(admission.enter(1_000)).then((admitted) => (order.push(n), admitted)))
    expect(admission.waiting()).toBe(5)
    // 2 ms each: one more fits in the slice this turn began with the first.
    await loop.check(2)
    expect(order).toEqual([1])
    await loop.timers() // the next turn
    await loop.check(2)
    expect(order).toEqual([1, 2, 3])
    await loop.timers()
    await loop.check(2)
    expect(order).toEqual([1, 2, 3, 4, 5])
    expect(await Promise.all(waiting)).toEqual([true, true, true, true, true])
    expect(admission.waiting()).toBe(0)
  })

  it('a request whose deadline passes while it waits is told at once, not when its turn comes', async () => {
    const loop = handLoop()
    const admission = createAdmission({ clock: loop.clock, defer: loop.defer, sliceMs: 4, marginMs: 5 })
    admission.enter(1_000)
    const late = admission.enter(100)
    loop.spend(95) // its deadline less the margin, and no turn came
    await loop.timers()
    expect(await late).toBe(false)
    expect(admission.waiting()).toBe(0)
  })

  it('does not start a request whose turn comes with less than the margin left', async () => {
    const loop = handLoop()
    const admission = createAdmission({ clock: loop.clock, defer: loop.defer, sliceMs: 4, marginMs: 20 })
    admission.enter(1_000)
    const tight = Promise.resolve(admission.enter(35))
    await loop.timers() // a new turn: the slice ends; the waiter's timer (due at 15) is not due yet
    // The poll phase then took 16 ms: its timer has still not run when its turn comes, 19 ms left.
    loop.spend(16)
    await loop.check()
    expect(await tight).toBe(false)
  })

  it('after a quiet turn, the next arrival starts at once again', async () => {
    const loop = handLoop()
    const admission = createAdmission({ clock: loop.clock, defer: loop.defer })
    expect(admission.enter(1_000)).toBe(true)
    expect(admission.enter(1_000)).not.toBe(true)
    await loop.check()
    await loop.timers()
    expect(loop.deferredCount()).toBe(0)
    expect(admission.enter(1_000)).toBe(true)
  })

  /** An admission that has seen two pipelines of 10 ms each: it knows the cost of one. */
  async function taughtTenMs() {
    const loop = handLoop()
    const admission = createAdmission({ clock: loop.clock, defer: loop.defer, sliceMs: 100, marginMs: 5 })
    expect(admission.enter(10_000)).toBe(true)
    const second = admission.enter(10_000)
    loop.spend(10)
    await loop.check(10)
    expect(await second).toBe(true)
    return { loop, admission }
  }

  it('tells a request on arrival when those waiting ahead could not all start before its deadline', async () => {
    const { loop, admission } = await taughtTenMs()
    const ahead = Array.from({ length: 10 }, () => admission.enter(10_000))
    // 10 waiting at about 10 ms each: 100 ms of work ahead; a 60 ms budget cannot be reached.
    expect(await admission.enter(loop.clock.now() + 60)).toBe(false)
    expect(admission.waiting()).toBe(10)
    await loop.check(0)
    expect(await Promise.all(ahead)).toEqual(new Array(10).fill(true))
  })

  it('forgets the cost of a past burst: seconds later, the same wait is no longer judged hopeless', async () => {
    const { loop, admission } = await taughtTenMs()
    await loop.timers()
    loop.spend(5_000) // quiet; then a new burst of cheap requests
    await loop.timers()
    expect(admission.enter(loop.clock.now() + 10_000)).toBe(true)
    const ahead = Array.from({ length: 10 }, () => admission.enter(loop.clock.now() + 10_000))
    // 10 ms a pipeline would make 100 ms of work ahead; five seconds on, it counts for 3 ms.
    const later = admission.enter(loop.clock.now() + 60)
    expect(await Promise.race([later, Promise.resolve('still waiting')])).toBe('still waiting')
    await loop.check(0)
    expect(await Promise.all([...ahead, later])).toEqual(new Array(11).fill(true))
  })
})
