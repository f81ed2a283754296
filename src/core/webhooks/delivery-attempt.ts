import { defaultTextMapGetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import type { Telemetry } from '../telemetry/telemetry.js'
import { traceHeaders } from '../telemetry/trace-context.js'
import type { AttemptResult, Job, WebhookTransport } from './delivery-job.js'
import type { Clock } from '../shared/ports.js'
import type { Verdict } from '../shared/verdict.js'
import { signWebhook, type WebhookKeys } from './webhook-signature.js'

export interface AttemptOptions {
  keys: WebhookKeys | Promise<WebhookKeys>
  transport: WebhookTransport
  clock: Clock
  /** Wall clock for timestamps (the injected clock may be monotonic). */
  wallClock: () => number
  attemptTimeoutMs: number
  /** A span per attempt, and its `traceparent` on the POST. */
  telemetry?: Pick<Telemetry, 'tracer' | 'propagator'>
}

/**
 * One attempt inside its own client span: a child of the request that submitted the job (its
 * `origin`, the trace headers kept with the job), whose `traceparent` the receiver gets.
 */
export async function deliverOnce(job: Job, options: AttemptOptions, origin?: Record<string, string>): Promise<AttemptResult> {
  const { telemetry } = options
  if (!telemetry) return attemptOnce(job, options)
  const parent = origin ? telemetry.propagator.extract(ROOT_CONTEXT, origin, defaultTextMapGetter) : ROOT_CONTEXT
  const span = telemetry.tracer.startSpan(
    'moderation.webhook.deliver',
    {
      kind: SpanKind.CLIENT,
      attributes: { 'http.request.method': 'POST', 'server.address': new URL(job.callback_url).hostname, 'moderation.job_id': job.id, 'moderation.webhook.attempt': job.attempts },
    },
    parent,
  )
  try {
    const result = await attemptOnce(job, options, traceHeaders(telemetry.propagator, trace.setSpan(parent, span)))
    span.setAttribute('moderation.webhook.outcome', result.kind)
    if (result.kind !== 'delivered') span.setStatus({ code: SpanStatusCode.ERROR, message: result.detail })
    return result
  } finally {
    span.end()
  }
}

/**
 * One signed POST of a job's verdict: `{type: "moderation.completed", timestamp, data}` with the
 * job's webhook-id and a fresh timestamp and signature. Never throws; never waits past the
 * attempt timeout (the signal asks the transport to stop, the race stops the waiting).
 */
async function attemptOnce(job: Job, { keys, transport, clock, wallClock, attemptTimeoutMs }: AttemptOptions, traced?: Record<string, string>): Promise<AttemptResult> {
  const timestamp = Math.floor(wallClock() / 1000)
  const body = JSON.stringify({ type: 'moderation.completed', timestamp: new Date(timestamp * 1000).toISOString(), data: job.verdict })
  const headers = {
    'content-type': 'application/json',
    'webhook-id': job.webhook_id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': await signWebhook(await keys, job.webhook_id, timestamp, body),
    ...traced,
  }
  const controller = new AbortController()
  const abort = clock.timer(attemptTimeoutMs)
  void abort.promise.then(() => controller.abort())
  const late = clock.timer(attemptTimeoutMs + 1000)
  try {
    return await Promise.race([
      transport.post(job.callback_url, headers, body, controller.signal),
      late.promise.then((): AttemptResult => ({ kind: 'retry', detail: 'timed out' })),
    ])
  } catch (error) {
    return { kind: 'retry', detail: String((error as Error)?.message ?? error) }
  } finally {
    abort.cancel()
    late.cancel()
  }
}

export interface BackoffOptions {
  initialDelayMs: number
  maxDelayMs: number
  random: () => number
}

/**
 * The wait before the next attempt: exponential backoff scaled by a 0.5-1 jitter, or longer when
 * Retry-After asks for it; never shorter (0 or a past date must not make retries spin).
 */
export function retryDelay(attempts: number, retryAfterMs: number | undefined, { initialDelayMs, maxDelayMs, random }: BackoffOptions): number {
  const backoff = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempts - 1)) * (0.5 + random() * 0.5)
  return Math.max(backoff, retryAfterMs ?? 0)
}

/**
 * A job's judging, stopped waiting for at `timeoutMs` (judging has its own budget; this only
 * catches a judge that never settles). The judge closes over the item's content: callers pass it
 * here and keep no reference, so once this settles the content can be collected.
 */
export async function judgeWithin(judge: () => Promise<Verdict>, clock: Clock, timeoutMs: number): Promise<{ ok: true; verdict: Verdict } | { ok: false; error: string }> {
  const late = clock.timer(timeoutMs)
  try {
    const verdict = await Promise.race([judge(), late.promise.then(() => undefined)])
    return verdict ? { ok: true, verdict } : { ok: false, error: `judging did not finish in ${timeoutMs} ms` }
  } catch (error) {
    return { ok: false, error: `judging failed: ${String(error)}` }
  } finally {
    late.cancel()
  }
}
