import type { Meter } from '@opentelemetry/api'

const STATISTICS = ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99'] as const
type Statistic = (typeof STATISTICS)[number]
/** Lags kept between two collections for the percentiles (11 minutes at 10 ms); the max is kept beyond. */
const MAX_SAMPLES = 65_536

/**
 * Node's event-loop delay, as OpenTelemetry's semantic conventions name it
 * (`nodejs.eventloop.delay.min|max|mean|stddev|p50|p90|p99`, seconds), since the previous
 * collection: how much later than its period a heartbeat every `periodMs` ran. Budgets are kept
 * by timers, so a stall here is a verdict late there. Our own heartbeat rather than perf_hooks'
 * monitorEventLoopDelay: on Node 20 that one missed a 300 ms stall in a setImmediate callback
 * (the admission queue runs there) and one after an await, which this sees. 100 callbacks a
 * second, unref'd; the samples are read and cleared at each collection (with two readers, OTLP
 * and Prometheus, each sees the lags since either last read). Nothing is reported for an
 * interval with no beat. Node only: the Worker has no such loop to watch.
 *
 * @example
 * const stop = observeEventLoopDelay(meterProvider.getMeter('moderation-service/runtime'))
 */
export function observeEventLoopDelay(meter: Meter, periodMs = 10): () => void {
  const lags = new Float64Array(MAX_SAMPLES)
  let count = 0
  let worst = 0
  let last = performance.now()
  const heartbeat = setInterval(() => {
    const now = performance.now()
    const lag = Math.max(0, now - last - periodMs)
    last = now
    worst = Math.max(worst, lag)
    if (count < MAX_SAMPLES) lags[count++] = lag
  }, periodMs)
  heartbeat.unref()
  const gauges = Object.fromEntries(
    STATISTICS.map((statistic) => [statistic, meter.createObservableGauge(`nodejs.eventloop.delay.${statistic}`, { unit: 's', description: `Event loop delay since the last collection: ${statistic}` })]),
  ) as Record<Statistic, ReturnType<Meter['createObservableGauge']>>
  const callback: Parameters<Meter['addBatchObservableCallback']>[0] = (result) => {
    if (count === 0) return
    const sorted = lags.slice(0, count).sort()
    let sum = 0
    for (const lag of sorted) sum += lag
    const mean = sum / count
    let squares = 0
    for (const lag of sorted) squares += (lag - mean) ** 2
    const at = (p: number) => sorted[Math.min(count - 1, Math.floor((p / 100) * count))]!
    const values: Record<Statistic, number> = { min: sorted[0]!, max: worst, mean, stddev: Math.sqrt(squares / count), p50: at(50), p90: at(90), p99: at(99) }
    for (const statistic of STATISTICS) result.observe(gauges[statistic], values[statistic] / 1000)
    count = 0
    worst = 0
  }
  meter.addBatchObservableCallback(callback, Object.values(gauges))
  return () => {
    meter.removeBatchObservableCallback(callback, Object.values(gauges))
    clearInterval(heartbeat)
  }
}
