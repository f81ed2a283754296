import { expect, it } from 'vitest'
import { createBackgroundQueue } from '../../../src/core/resilience/background-queue.js'
import type { Clock } from '../../../src/core/shared/ports.js'

it('runs queued work a slice per turn, in order, and goes on after work that throws', () => {
  let now = 0
  const clock = { now: () => now } as Clock
  let deferred: (() => void)[] = []
  const turn = () => {
    const callbacks = deferred
    deferred = []
    for (const callback of callbacks) callback()
  }
  const later = createBackgroundQueue({ clock, defer: (callback) => void deferred.push(callback), sliceMs: 2 })
  const done: number[] = []
  for (let i = 0; i < 5; i++) {
    later(() => {
      now += 1 // each costs 1 ms
      if (i === 1) throw new Error('a bug in one abort')
      done.push(i)
    })
  }
  expect(done).toEqual([]) // nothing before the turn: the answers come first
  turn()
  expect(done).toEqual([0]) // 2 ms: work 0, and work 1 (which threw)
  turn()
  expect(done).toEqual([0, 2, 3])
  turn()
  expect(done).toEqual([0, 2, 3, 4])
  expect(deferred).toHaveLength(0)
})
