import { describe, expect, it } from 'vitest'
import { unknownSettings } from '../../src/config/config.js'
import { telemetrySettings } from '../../src/entry/telemetry-settings.js'

const at = { host: '127.0.0.1' }

describe('which telemetry the OTEL_* variables ask for', () => {
  it('asks for nothing unless an exporter or an OTLP endpoint is set, or when OTEL_SDK_DISABLED', () => {
    expect(telemetrySettings({}, at)).toBeUndefined()
    expect(telemetrySettings({ OTEL_SERVICE_NAME: 'x', OTEL_EXPORTER_OTLP_HEADERS: 'a=b' }, at)).toBeUndefined()
    expect(telemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }, at)).toBeUndefined()
    expect(telemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none' }, at)).toBeUndefined()
  })

  it('exports both signals over OTLP http/protobuf with an endpoint; a signal\'s own endpoint or protocol counts for it alone', () => {
    expect(telemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, at)).toEqual({
      traces: { protocol: 'http/protobuf' },
      metrics: { otlp: { protocol: 'http/protobuf', intervalMs: 60_000, timeoutMs: 30_000 } },
    })
    expect(telemetrySettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' }, at)).toEqual({
      traces: { protocol: 'http/json' },
      metrics: {},
    })
    expect(telemetrySettings({ OTEL_METRICS_EXPORTER: 'otlp', OTEL_METRIC_EXPORT_INTERVAL: '1000' }, at)?.metrics.otlp).toEqual({ protocol: 'http/protobuf', intervalMs: 1000, timeoutMs: 1000 })
  })

  it('serves Prometheus on the service\'s HOST and port 9464 unless OTEL_EXPORTER_PROMETHEUS_HOST/PORT say otherwise, alone or beside OTLP', () => {
    expect(telemetrySettings({ OTEL_METRICS_EXPORTER: 'prometheus' }, { host: '10.0.0.5' })).toEqual({ metrics: { prometheus: { host: '10.0.0.5', port: 9464 } } })
    const both = telemetrySettings({ OTEL_METRICS_EXPORTER: 'otlp, prometheus', OTEL_EXPORTER_PROMETHEUS_HOST: '0.0.0.0', OTEL_EXPORTER_PROMETHEUS_PORT: '9100' }, at)
    expect(both?.metrics).toMatchObject({ otlp: { protocol: 'http/protobuf' }, prometheus: { host: '0.0.0.0', port: 9100 } })
  })

  it('refuses what it cannot do, naming the variable', () => {
    expect(() => telemetrySettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, at)).toThrow(/^OTEL_EXPORTER_OTLP_PROTOCOL: grpc is not supported/)
    expect(() => telemetrySettings({ OTEL_METRICS_EXPORTER: 'console' }, at)).toThrow(/^OTEL_METRICS_EXPORTER: console is not supported/)
    expect(() => telemetrySettings({ OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_PORT: 'ninety' }, at)).toThrow(/^OTEL_EXPORTER_PROMETHEUS_PORT/)
    expect(() => telemetrySettings({ OTEL_METRICS_EXPORTER: 'otlp', OTEL_METRIC_EXPORT_INTERVAL: '-5' }, at)).toThrow(/^OTEL_METRIC_EXPORT_INTERVAL/)
  })

  it('never warns about OTEL_* variables as misspelt settings of the service', () => {
    expect(unknownSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'x', OTEL_SERVICE_NAME: 'y', OTEL_METRICS_EXPORTER: 'prometheus' })).toEqual([])
  })
})
