import { monitorEventLoopDelay } from 'node:perf_hooks'

/**
 * The longest the event loop was blocked while `work` ran, in milliseconds: what every other
 * caller of the process (and /healthz) waited at worst.
 *
 * @example
 * const { result, stallMs } = await measureStall(() => app.request('/v1/moderate', init))
 */
export async function measureStall<T>(work: () => Promise<T>): Promise<{ result: T; stallMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 1 })
  histogram.enable()
  try {
    const result = await work()
    // One more turn, so a block just before the end is recorded.
    await new Promise((resolve) => setTimeout(resolve, 2))
    return { result, stallMs: histogram.max / 1e6 }
  } finally {
    histogram.disable()
  }
}
