import { describe, expect, it } from 'vitest'
import { createDecodePool, type Decoded } from '../../src/images/decode-pool.js'

const MP = 1_000_000

/** A decode that ends when the test says so, and tells whether it was started. */
function decode(name: string, log: string[]) {
  let finish!: () => void
  const done = new Promise<string>((resolve) => (finish = () => resolve(name)))
  return {
    work: () => {
      log.push(name)
      return done
    },
    finish: async () => {
      finish()
      // Let the pool see the end and start what was waiting.
      await new Promise((resolve) => setImmediate(resolve))
    },
  }
}

describe('the decode pool', () => {
  it('runs at most maxDecodes large decodes at once, and starts the next when one ends', async () => {
    const pool = createDecodePool({ maxDecodes: 2, maxPixels: 1000 * MP })
    const started: string[] = []
    const jobs = ['a', 'b', 'c'].map((name) => decode(name, started))
    const results = jobs.map((job) => pool.run({ pixels: 40 * MP }, job.work))
    expect(started).toEqual(['a', 'b'])
    expect(pool.stats()).toMatchObject({ running: 2, queued: 1, runningPixels: 80 * MP })
    await jobs[0]!.finish()
    expect(started).toEqual(['a', 'b', 'c'])
    await jobs[1]!.finish()
    await jobs[2]!.finish()
    expect(await Promise.all(results)).toEqual(['a', 'b', 'c'].map((value) => ({ kind: 'done', value })))
    expect(pool.stats()).toMatchObject({ running: 0, queued: 0, runningPixels: 0, started: 3, dropped: 0 })
  })

  it('keeps the pixels being decoded within maxPixels, yet runs one image larger than that alone', async () => {
    const pool = createDecodePool({ maxDecodes: 4, maxPixels: 60 * MP })
    const started: string[] = []
    const [a, b, huge] = [decode('a', started), decode('b', started), decode('huge', started)]
    void pool.run({ pixels: 40 * MP }, a.work)
    void pool.run({ pixels: 40 * MP }, b.work)
    expect(started).toEqual(['a'])
    await a.finish()
    expect(started).toEqual(['a', 'b'])
    const hugeDone = pool.run({ pixels: 90 * MP }, huge.work)
    expect(started).toEqual(['a', 'b'])
    await b.finish()
    expect(started).toEqual(['a', 'b', 'huge'])
    await huge.finish()
    expect(await hugeDone).toEqual({ kind: 'done', value: 'huge' })
  })

  it('starts a small image at once while large ones fill every lane and more wait', async () => {
    const pool = createDecodePool({ maxDecodes: 1, maxPixels: 100 * MP })
    const started: string[] = []
    void pool.run({ pixels: 49 * MP }, decode('large 1', started).work)
    void pool.run({ pixels: 49 * MP }, decode('large 2', started).work)
    const small = decode('small', started)
    const smallDone = pool.run({ pixels: 64 * 64 }, small.work)
    expect(started).toEqual(['large 1', 'small'])
    await small.finish()
    expect(await smallDone).toEqual({ kind: 'done', value: 'small' })
  })

  it('starts the cheapest waiting decode first', async () => {
    const pool = createDecodePool({ maxDecodes: 1, maxPixels: 100 * MP })
    const started: string[] = []
    const first = decode('first', started)
    void pool.run({ pixels: 10 * MP }, first.work)
    for (const [name, pixels] of [['49 MP', 49 * MP], ['20 MP', 20 * MP], ['30 MP', 30 * MP]] as const) void pool.run({ pixels }, decode(name, started).work)
    await first.finish()
    expect(started).toEqual(['first', '20 MP'])
  })

  it('drops a waiting decode when its request is answered, and never starts it', async () => {
    const pool = createDecodePool({ maxDecodes: 1, maxPixels: 100 * MP })
    const started: string[] = []
    const running = decode('running', started)
    void pool.run({ pixels: 49 * MP }, running.work)
    const answered = new AbortController()
    const waiting = pool.run({ pixels: 49 * MP, signal: answered.signal }, decode('waiting', started).work)
    answered.abort()
    expect(await waiting).toEqual({ kind: 'dropped' })
    expect(pool.stats()).toMatchObject({ queued: 0, started: 1, dropped: 1 })
    await running.finish()
    expect(started).toEqual(['running'])
  })

  it('drops a waiting decode whose budget ended before a lane freed, and one asked for after its budget', async () => {
    const pool = createDecodePool({ maxDecodes: 1, maxPixels: 100 * MP })
    const started: string[] = []
    let remaining = 500
    const running = decode('running', started)
    void pool.run({ pixels: 49 * MP }, running.work)
    const waiting: Promise<Decoded<string>> = pool.run({ pixels: 49 * MP, remainingMs: () => remaining }, decode('waiting', started).work)
    remaining = 0
    await running.finish()
    expect(await waiting).toEqual({ kind: 'dropped' })
    expect(await pool.run({ pixels: 64 * 64, remainingMs: () => -1 }, decode('late', started).work)).toEqual({ kind: 'dropped' })
    expect(started).toEqual(['running'])
    expect(pool.stats()).toMatchObject({ running: 0, queued: 0, started: 1, dropped: 2 })
  })

  it('passes a failing decode on as a rejection and frees its lane', async () => {
    const pool = createDecodePool({ maxDecodes: 1, maxPixels: 100 * MP })
    await expect(pool.run({ pixels: 49 * MP }, () => Promise.reject(new Error('bad pixels')))).rejects.toThrow('bad pixels')
    expect(await pool.run({ pixels: 49 * MP }, async () => 'next')).toEqual({ kind: 'done', value: 'next' })
  })
})
