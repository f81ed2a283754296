/** Jobs of at most this many pixels (a 2000x2000 photo) have a lane that large ones cannot take. */
export const SMALL_DECODE_PIXELS = 4_000_000

export interface DecodePoolOptions {
  /** Decodes running at once, besides the one lane kept for small images. */
  maxDecodes: number
  /** Pixels being decoded at once; a larger job still runs, alone among the large ones. */
  maxPixels: number
  /** The most pixels a job may have to use the small lane. */
  smallPixels?: number
}

export interface DecodeJob {
  /** What the job decodes (all frames): its cost, in memory and in time. */
  pixels: number
  /** Milliseconds left in the request's budget: at 0 or less the job is not started. */
  remainingMs?: () => number
  /** Aborted when the request no longer needs the job (answered, failed, out of time). */
  signal?: AbortSignal
}

/** What became of a job: its work's result, or dropped before it started. */
export type Decoded<T> = { kind: 'done'; value: T } | { kind: 'dropped' }

export interface DecodePoolStats {
  running: number
  queued: number
  /** Pixels of the jobs running now. */
  runningPixels: number
  /** Jobs started, and jobs dropped unstarted, since the pool was made. */
  started: number
  dropped: number
}

export interface DecodePool {
  /** Runs `work` when a lane and the pixel budget allow, unless its request stopped needing it first. */
  run<T>(job: DecodeJob, work: () => Promise<T>): Promise<Decoded<T>>
  stats(): DecodePoolStats
}

interface Queued {
  job: DecodeJob
  small: boolean
  start(): void
  drop(): void
}

/**
 * Decodes that run on libuv's threads (sharp) admitted a few at a time: at most `maxDecodes` large
 * ones and `maxPixels` pixels at once, so a backlog of huge images neither fills every thread nor
 * holds every pixel buffer, plus one lane only small images may use, so a thumbnail arriving behind
 * that backlog is decoded at once. The queue is cheapest first. A running decode cannot be
 * cancelled (libvips offers no such call to sharp), so a job whose request no longer needs it is
 * dropped before it starts instead.
 *
 * @example
 * const pool = createDecodePool({ maxDecodes: 2, maxPixels: 100_000_000 })
 * const decoded = await pool.run({ pixels: w * h, remainingMs, signal }, () => sharp(bytes).toBuffer())
 */
export function createDecodePool({ maxDecodes, maxPixels, smallPixels = SMALL_DECODE_PIXELS }: DecodePoolOptions): DecodePool {
  const queue: Queued[] = []
  let [running, runningLarge, runningPixels, started, dropped] = [0, 0, 0, 0, 0]

  const unneeded = (job: DecodeJob) => job.signal?.aborted === true || (job.remainingMs !== undefined && job.remainingMs() <= 0)

  function fits({ job, small }: Queued): boolean {
    if (small) return running < maxDecodes + 1
    return running < maxDecodes && (runningLarge === 0 || runningPixels + job.pixels <= maxPixels)
  }

  function dispatch() {
    for (let i = 0; i < queue.length; ) {
      const entry = queue[i]!
      if (unneeded(entry.job)) {
        queue.splice(i, 1)
        entry.drop()
      } else if (fits(entry)) {
        queue.splice(i, 1)
        entry.start()
      } else i++
    }
  }

  return {
    run<T>(job: DecodeJob, work: () => Promise<T>): Promise<Decoded<T>> {
      if (unneeded(job)) {
        dropped++
        return Promise.resolve({ kind: 'dropped' })
      }
      return new Promise<Decoded<T>>((resolve, reject) => {
        const small = job.pixels <= smallPixels
        const onAbort = () => {
          const at = queue.indexOf(entry)
          if (at >= 0) queue.splice(at, 1)
          entry.drop()
        }
        const entry: Queued = {
          job,
          small,
          drop() {
            job.signal?.removeEventListener('abort', onAbort)
            dropped++
            resolve({ kind: 'dropped' })
          },
          start() {
            job.signal?.removeEventListener('abort', onAbort)
            started++
            running++
            runningPixels += job.pixels
            if (!small) runningLarge++
            attempt(work)
              .then((value) => resolve({ kind: 'done', value }), reject)
              .finally(() => {
                running--
                runningPixels -= job.pixels
                if (!small) runningLarge--
                dispatch()
              })
          },
        }
        job.signal?.addEventListener('abort', onAbort, { once: true })
        // Cheapest first: the most answers per second of CPU, and a small image never waits behind a large one.
        const at = queue.findIndex((other) => other.job.pixels > job.pixels)
        queue.splice(at < 0 ? queue.length : at, 0, entry)
        dispatch()
      })
    },
    stats: () => ({ running, queued: queue.length, runningPixels, started, dropped }),
  }
}

/** `work()`, with a synchronous throw turned into a rejection. */
function attempt<T>(work: () => Promise<T>): Promise<T> {
  try {
    return work()
  } catch (error) {
    return Promise.reject(error)
  }
}
