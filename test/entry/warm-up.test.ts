import { metrics, trace } from '@opentelemetry/api'
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { afterAll, expect, it } from 'vitest'
import { readTextClassifier } from '../../src/entry/read-text-classifier.js'
import { warmUp } from '../../src/entry/warm-up.js'
import { createSharpImageProcessor } from '../../src/images/sharp-image-processor.js'
import { shippedPolicies } from '../helpers/service.js'

class PullReader extends MetricReader {
  protected override async onForceFlush() {}
  protected override async onShutdown() {}
}

afterAll(() => {
  trace.disable()
  metrics.disable()
})

it('runs its synthetic requests without reaching the exporters registered for real traffic', async () => {
  const spans = new InMemorySpanExporter()
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }))
  const reader = new PullReader()
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }))
  const warmed = await warmUp({ policies: await shippedPolicies(), images: createSharpImageProcessor(), classifier: readTextClassifier('on'), requests: 20 })
  expect(warmed.requests).toBe(20)
  expect(spans.getFinishedSpans()).toHaveLength(0)
  const { resourceMetrics } = (await reader.collect()) as { resourceMetrics: ResourceMetrics }
  expect(resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics.map((metric) => metric.dataPoints.length))).toEqual([])
})
