import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics'
import { describe, expect, it, onTestFinished } from 'vitest'
import { observeEventLoopDelay } from '../../src/entry/event-loop-metrics.js'

/** A reader the test pulls from, instead of a timer. */
class PullReader extends MetricReader {
  protected override async onForceFlush() {}
  protected override async onShutdown() {}
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('event-loop delay metrics (real OpenTelemetry SDK)', () => {
  it('reports a stall as the max delay of the collection after it, and starts afresh at each collection', async () => {
    const reader = new PullReader()
    const provider = new MeterProvider({ readers: [reader] })
    onTestFinished(observeEventLoopDelay(provider.getMeter('test')))
    const delays = async () => {
      const { resourceMetrics } = (await reader.collect()) as { resourceMetrics: ResourceMetrics }
      const metrics = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics)
      return Object.fromEntries(metrics.map((metric) => [metric.descriptor.name.replace('nodejs.eventloop.delay.', ''), { value: metric.dataPoints[0]?.value as number, unit: metric.descriptor.unit }]))
    }
    await sleep(100)
    await delays()
    // The loop blocked for 300 ms, in a setImmediate callback (where the admission queue runs
    // slices of work; perf_hooks' monitorEventLoopDelay did not see this one on Node 20).
    setImmediate(() => {
      const until = performance.now() + 300
      while (performance.now() < until);
    })
    await sleep(100)
    const stalled = await delays()
    expect(Object.keys(stalled).sort()).toEqual(['max', 'mean', 'min', 'p50', 'p90', 'p99', 'stddev'])
    expect(stalled.max).toMatchObject({ unit: 's' })
    expect(stalled.max!.value).toBeGreaterThan(0.25)
    expect(stalled.max!.value).toBeLessThan(5)
    // Free again: the stall is no longer in the next collection's figures.
    await sleep(200)
    const free = await delays()
    expect(free.max!.value).toBeLessThan(0.25)
    expect(free.min!.value).toBeGreaterThanOrEqual(0)
  })
})
