import { ConfigError } from '../config/config.js'

export type OtlpProtocol = 'http/protobuf' | 'http/json'

/** What the Node entry exports, read from the standard OTEL_* variables. */
export interface TelemetrySettings {
  traces?: { protocol: OtlpProtocol }
  metrics: {
    otlp?: { protocol: OtlpProtocol; intervalMs: number; timeoutMs: number }
    prometheus?: { host: string; port: number }
  }
}

const PROTOCOLS: readonly string[] = ['http/protobuf', 'http/json']
const PROMETHEUS_PORT = 9464

/**
 * The standard OpenTelemetry variables, as far as this service acts on them: which exporters
 * (OTEL_TRACES_EXPORTER, OTEL_METRICS_EXPORTER: otlp, prometheus, none), the OTLP protocol, the
 * metric export interval, the Prometheus host and port; or undefined when nothing is to be
 * exported (OTEL_SDK_DISABLED, or nothing configured), and then no SDK is loaded. An exporter
 * left unset is OTLP when an OTLP endpoint is given, none otherwise: the spec's default (OTLP to
 * localhost) would send to whatever listens there. Endpoints, headers, timeouts, compression,
 * the sampler and batching are read by the SDK itself. Throws a ConfigError naming the variable.
 *
 * @example
 * telemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318' }, { host: '127.0.0.1' })
 */
export function telemetrySettings(env: Record<string, string | undefined>, { host }: { host: string }): TelemetrySettings | undefined {
  const get = (name: string) => (env[name]?.trim() ? env[name]!.trim() : undefined)
  if (get('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return undefined
  const endpoint = (signal: string) => get(`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`) ?? get('OTEL_EXPORTER_OTLP_ENDPOINT')
  const traces = exporters(get, 'OTEL_TRACES_EXPORTER', ['otlp'], endpoint('TRACES'))
  const metrics = exporters(get, 'OTEL_METRICS_EXPORTER', ['otlp', 'prometheus'], endpoint('METRICS'))
  if (traces.size === 0 && metrics.size === 0) return undefined
  const settings: TelemetrySettings = { metrics: {} }
  if (traces.has('otlp')) settings.traces = { protocol: protocol(get, 'TRACES') }
  if (metrics.has('otlp')) {
    const intervalMs = milliseconds(get, 'OTEL_METRIC_EXPORT_INTERVAL', 60_000)
    // The SDK refuses a timeout longer than the interval.
    settings.metrics.otlp = { protocol: protocol(get, 'METRICS'), intervalMs, timeoutMs: Math.min(intervalMs, milliseconds(get, 'OTEL_METRIC_EXPORT_TIMEOUT', 30_000)) }
  }
  if (metrics.has('prometheus')) {
    const port = Number(get('OTEL_EXPORTER_PROMETHEUS_PORT') ?? PROMETHEUS_PORT)
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConfigError(`OTEL_EXPORTER_PROMETHEUS_PORT: ${get('OTEL_EXPORTER_PROMETHEUS_PORT')} is not a port (1-65535)`)
    settings.metrics.prometheus = { host: get('OTEL_EXPORTER_PROMETHEUS_HOST') ?? host, port }
  }
  return settings
}

function exporters(get: (name: string) => string | undefined, name: string, supported: string[], endpoint: string | undefined): Set<string> {
  const raw = get(name)
  if (raw === undefined) return new Set(endpoint ? ['otlp'] : [])
  const listed = raw.split(',').map((item) => item.trim().toLowerCase()).filter(Boolean)
  const unknown = listed.filter((item) => item !== 'none' && !supported.includes(item))
  if (unknown.length > 0) {
    throw new ConfigError(`${name}: ${unknown.join(', ')} is not supported by this service; use ${[...supported, 'none'].join(', ')} (logs, with trace ids, go to stdout)`)
  }
  return listed.includes('none') ? new Set() : new Set(listed)
}

function protocol(get: (name: string) => string | undefined, signal: string): OtlpProtocol {
  const name = get(`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`) ? `OTEL_EXPORTER_OTLP_${signal}_PROTOCOL` : 'OTEL_EXPORTER_OTLP_PROTOCOL'
  const value = get(name) ?? 'http/protobuf'
  if (!PROTOCOLS.includes(value)) throw new ConfigError(`${name}: ${value} is not supported by this service; use http/protobuf (the default, port 4318) or http/json`)
  return value as OtlpProtocol
}

function milliseconds(get: (name: string) => string | undefined, name: string, fallback: number): number {
  const raw = get(name)
  if (raw === undefined) return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value <= 0) throw new ConfigError(`${name}: ${raw} is not a positive whole number of milliseconds`)
  return value
}
