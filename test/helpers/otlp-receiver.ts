import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface OtlpPost {
  path: string
  contentType: string
  authorization?: string
  body: Buffer
  /** The body parsed, for OTLP/JSON. */
  json?: unknown
}

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean }
type KeyValue = { key: string; value: AnyValue }

export interface ReceivedSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  attributes: Record<string, unknown>
  resource: Record<string, unknown>
}

export interface ReceivedPoint {
  metric: string
  attributes: Record<string, unknown>
  count?: number
  value?: number
}

/**
 * A small OTLP/HTTP receiver on 127.0.0.1 (random port): records every POST to /v1/traces and
 * /v1/metrics, answers 200, and reads OTLP/JSON (spans and metric points flattened, attributes as
 * plain values) so tests can assert on what the service exported.
 *
 * @example
 * const collector = await startOtlpReceiver()
 * spawn(..., { env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' } })
 * const span = await collector.waitFor(() => collector.spans().find((s) => s.traceId === id))
 */
export async function startOtlpReceiver() {
  const posts: OtlpPost[] = []
  let waiters: (() => void)[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const contentType = req.headers['content-type'] ?? ''
      let json: unknown
      if (contentType.includes('json')) json = JSON.parse(body.toString('utf8'))
      posts.push({ path: req.url ?? '', contentType, authorization: req.headers.authorization, body, json })
      res.writeHead(200, { 'content-type': contentType || 'application/json' }).end(contentType.includes('json') ? '{}' : undefined)
      for (const wake of waiters.splice(0)) wake()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo

  const jsonOf = (path: string) => posts.filter((post) => post.path === path && post.json).map((post) => post.json as Record<string, unknown[]>)
  const spans = (): ReceivedSpan[] =>
    jsonOf('/v1/traces').flatMap((body) =>
      (body.resourceSpans as { resource: { attributes: KeyValue[] }; scopeSpans: { spans: Record<string, unknown>[] }[] }[]).flatMap(({ resource, scopeSpans }) =>
        scopeSpans.flatMap(({ spans }) =>
          spans.map((span) => ({
            traceId: span.traceId as string,
            spanId: span.spanId as string,
            parentSpanId: (span.parentSpanId as string | undefined) || undefined,
            name: span.name as string,
            kind: span.kind as number,
            attributes: plain(span.attributes as KeyValue[]),
            resource: plain(resource.attributes),
          })),
        ),
      ),
    )
  const points = (): ReceivedPoint[] =>
    jsonOf('/v1/metrics').flatMap((body) =>
      (body.resourceMetrics as { scopeMetrics: { metrics: Record<string, { dataPoints: Record<string, unknown>[] } | string>[] }[] }[]).flatMap(({ scopeMetrics }) =>
        scopeMetrics.flatMap(({ metrics }) =>
          metrics.flatMap((metric) => {
            const data = (metric.histogram ?? metric.sum ?? metric.gauge) as { dataPoints: Record<string, unknown>[] } | undefined
            return (data?.dataPoints ?? []).map((point) => ({
              metric: metric.name as string,
              attributes: plain(point.attributes as KeyValue[]),
              count: point.count === undefined ? undefined : Number(point.count),
              value: point.asInt !== undefined ? Number(point.asInt) : (point.asDouble as number | undefined),
            }))
          }),
        ),
      ),
    )
  /** Resolves with the first truthy answer of `check`, asked after every POST; rejects after `timeoutMs`. */
  async function waitFor<T>(check: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = check()
      if (found) return found
      const left = deadline - Date.now()
      if (left <= 0) throw new Error('the OTLP receiver did not get what was waited for')
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        waiters.push(() => (clearTimeout(timer), resolve()))
      })
    }
  }
  return {
    url: `http://127.0.0.1:${port}`,
    posts,
    spans,
    points,
    waitFor,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  }
}

function plain(attributes: KeyValue[] = []): Record<string, unknown> {
  const value = ({ stringValue, intValue, doubleValue, boolValue }: AnyValue) => stringValue ?? (intValue !== undefined ? Number(intValue) : (doubleValue ?? boolValue))
  return Object.fromEntries(attributes.map(({ key, value: v }) => [key, value(v)]))
}
