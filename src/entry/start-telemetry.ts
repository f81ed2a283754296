import { readFileSync } from 'node:fs'
import type { Logger } from '../core/shared/ports.js'
import { ConfigError } from '../config/config.js'
import { observeEventLoopDelay } from './event-loop-metrics.js'
import { telemetrySettings, type OtlpProtocol, type TelemetrySettings } from './telemetry-settings.js'

export interface StartedTelemetry {
  /** What is exported where, for the start-up log line. */
  description: Record<string, unknown>
  /** Sends what is still buffered; gives up after `timeoutMs` (an unreachable collector must not hold the exit). */
  shutdown(timeoutMs: number): Promise<void>
}

export interface StartTelemetryOptions {
  /** Where the Prometheus endpoint listens unless OTEL_EXPORTER_PROMETHEUS_HOST says otherwise: the service's HOST. */
  host: string
  logger: Logger
}

/**
 * The OpenTelemetry SDK for the Node entry, as the OTEL_* variables ask (telemetry-settings.ts):
 * traces over OTLP (batched, W3C trace context read from requests and written to calls out),
 * metrics over OTLP and/or a Prometheus scrape endpoint on its own port. Registered globally
 * before the app is built, so the app's tracer and meter are the SDK's. The SDK's modules are
 * imported here, on demand: with nothing configured none is loaded, and the Worker bundle never
 * reaches this file. Export runs in the background: a slow or absent collector costs requests
 * nothing (spans beyond the batch queue are dropped, and the SDK's warnings go to the log).
 *
 * @example
 * const telemetry = await startTelemetry(process.env, { host: config.HOST, logger })
 * await telemetry?.shutdown(3_000)
 */
export async function startTelemetry(env: Record<string, string | undefined>, { host, logger }: StartTelemetryOptions): Promise<StartedTelemetry | undefined> {
  const settings = telemetrySettings(env, { host })
  if (!settings) return undefined
  const [api, { resource }] = await Promise.all([import('@opentelemetry/api'), serviceResource()])
  // The SDK's own troubles (an export that failed) as warnings in the JSON log, not on stderr.
  api.diag.setLogger(
    {
      error: (message, ...args) => logger.warn(`opentelemetry: ${message}`, { detail: args.map(String).join(' ') || undefined }),
      warn: (message, ...args) => logger.warn(`opentelemetry: ${message}`, { detail: args.map(String).join(' ') || undefined }),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    { logLevel: api.DiagLogLevel.WARN, suppressOverrideMessage: true },
  )
  const shutdowns: (() => Promise<void>)[] = []
  const description: Record<string, unknown> = { traces: 'none', metrics: 'none' }
  if (settings.traces) {
    const { NodeTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-node')
    const exporter = await traceExporter(settings.traces.protocol)
    const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] })
    // Also the async context manager (log lines find the active span) and the W3C propagators.
    provider.register()
    shutdowns.push(() => provider.shutdown())
    description.traces = `otlp ${settings.traces.protocol}`
  }
  const readers = await metricReaders(settings.metrics)
  if (readers.length > 0) {
    const { MeterProvider } = await import('@opentelemetry/sdk-metrics')
    const provider = new MeterProvider({ resource, readers: readers.map(({ reader }) => reader) })
    api.metrics.setGlobalMeterProvider(provider)
    // Read at each collection: costs nothing between scrapes but perf_hooks' sampling timer.
    const stopWatching = observeEventLoopDelay(provider.getMeter('moderation-service/runtime'))
    shutdowns.push(async () => (stopWatching(), await provider.shutdown()))
    description.metrics = readers.map(({ describe }) => describe).join(', ')
  }
  return {
    description,
    async shutdown(timeoutMs) {
      let timer: ReturnType<typeof setTimeout> | undefined
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)))
      const done = await Promise.race([Promise.allSettled(shutdowns.map((shutdown) => shutdown())), late])
      clearTimeout(timer)
      if (done === 'late') logger.warn('telemetry not flushed in time: the collector did not answer', { timeout_ms: timeoutMs })
    },
  }
}

/** `service.name` (OTEL_SERVICE_NAME, else the service's own), version, a per-process instance id, host and process; OTEL_RESOURCE_ATTRIBUTES wins. */
async function serviceResource() {
  const { defaultResource, detectResources, envDetector, hostDetector, processDetector, resourceFromAttributes, serviceInstanceIdDetector } = await import('@opentelemetry/resources')
  const { name, version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; version: string }
  const detected = detectResources({ detectors: [hostDetector, processDetector, serviceInstanceIdDetector] })
  // The instance id keeps each cluster worker's series apart in the backend.
  const resource = defaultResource()
    .merge(detected)
    .merge(resourceFromAttributes({ 'service.name': name, 'service.version': version }))
    .merge(detectResources({ detectors: [envDetector] }))
  return { resource }
}

async function traceExporter(protocol: OtlpProtocol) {
  // Endpoint, headers, timeout and compression come from OTEL_EXPORTER_OTLP_* (read by the exporter).
  if (protocol === 'http/json') return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter()
  return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter()
}

async function metricReaders({ otlp, prometheus }: TelemetrySettings['metrics']) {
  const readers = []
  if (otlp) {
    const { PeriodicExportingMetricReader } = await import('@opentelemetry/sdk-metrics')
    const { OTLPMetricExporter } =
      otlp.protocol === 'http/json' ? await import('@opentelemetry/exporter-metrics-otlp-http') : await import('@opentelemetry/exporter-metrics-otlp-proto')
    const reader = new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(), exportIntervalMillis: otlp.intervalMs, exportTimeoutMillis: otlp.timeoutMs })
    readers.push({ reader, describe: `otlp ${otlp.protocol} every ${otlp.intervalMs} ms` })
  }
  if (prometheus) {
    const { PrometheusExporter } = await import('@opentelemetry/exporter-prometheus')
    const reader = new PrometheusExporter({ host: prometheus.host, port: prometheus.port, preventServerStart: true })
    await reader.startServer().catch((error: NodeJS.ErrnoException) => {
      const where = `${prometheus.host}:${prometheus.port}`
      if (error.code === 'EADDRINUSE') throw new ConfigError(`OTEL_EXPORTER_PROMETHEUS_PORT: ${where} is already in use; set OTEL_EXPORTER_PROMETHEUS_PORT (or _HOST) to a free one`)
      throw new ConfigError(`OTEL_EXPORTER_PROMETHEUS_HOST/PORT: cannot listen on ${where}: ${error.message}`)
    })
    readers.push({ reader, describe: `prometheus http://${prometheus.host}:${prometheus.port}/metrics` })
  }
  return readers
}
