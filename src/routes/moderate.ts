/**
 * routes/: One file per endpoint group: /v1/moderate and jobs (this file), OpenAI and Perspective
 * compatibility, policies, health, playground.
 *
 * May import: compat, http, playground, core/*.
 */
import { type Context, Hono } from 'hono'
import { checkCallbackUrl } from '../core/webhooks/callback-url.js'
import type { DeliveryQueue } from '../core/webhooks/delivery-queue.js'
import type { AppEnv } from '../http/app-env.js'
import { limitBody } from '../http/body-limit.js'
import { ApiError } from '../http/errors.js'
import { excerpt } from '../core/shared/problem.js'
import { sha256Hex } from '../core/shared/hash.js'
import { itemLogFields, judgePrepared, prepareItem, requestContext, type JudgeDeps, type PreparedItem } from '../http/judge-item.js'
import { judgingOrderOf } from '../http/judging-order.js'
import { readModerationBody } from '../http/read-moderation-body.js'
import type { Telemetry } from '../core/telemetry/telemetry.js'
import { traceHeaders } from '../core/telemetry/trace-context.js'

export interface ModerateRouteDeps extends JudgeDeps {
  /** Present when WEBHOOK_SECRET is set: asynchronous moderation with signed deliveries. */
  deliveries?: DeliveryQueue
  /** Why there is no delivery queue, for the 400 a callback_url then gets. */
  asyncUnavailable?: string
  callbackAllowedHosts: string[]
  /** Its propagator writes the request's trace into the job: deliveries continue it. */
  telemetry?: Pick<Telemetry, 'propagator'>
}

// What a client over its own share of pending deliveries is told: its places free up only as its
// own deliveries succeed or fail, which against a failing receiver takes minutes (up to the retry
// window); asking again a second later would only be refused again.
const OWNER_FULL_RETRY_AFTER_S = 30

/**
 * POST /v1/moderate: one item, any of the three body forms, a verdict within the budget; with a
 * `callback_url`, 202 at once and the verdict delivered there, signed. GET /v1/jobs/{id}.
 */
export function moderateRoutes(deps: ModerateRouteDeps) {
  const app = new Hono<AppEnv>()

  app.post('/moderate', limitBody(deps.limits.maxBodyBytes), async (c) => {
    const read = await readModerationBody(c.req.raw, new URL(c.req.url).searchParams, { maxImages: deps.limits.maxImages })
    if (!read.ok) throw ApiError.from(read.problem)
    const { text, images, policy, budgetMs, callbackUrl } = read.value
    const context = requestContext(c, deps, policy, budgetMs)
    if (callbackUrl !== undefined) return submitAsync(c, deps, { text, images }, callbackUrl, context)

    const prepared = await prepareItem(deps, { text, images }, context)
    if (prepared !== 'late' && !prepared.ok) throw ApiError.from(prepared.problem)
    const { verdict, log } = await judgePrepared(deps, prepared === 'late' ? 'late' : prepared.value, context, text)
    c.set('logFields', log)
    return c.json(verdict)
  })

  app.get('/jobs/:id', async (c) => {
    const job = await deps.deliveries?.get(c.req.param('id'), c.get('clientId'))
    if (!job) throw new ApiError('not_found', `no job ${c.req.param('id')}`)
    return c.json(job)
  })

  return app
}

/**
 * The asynchronous path: the same checks as the synchronous one (bad input is still a 4xx, at
 * once), then 202 with the job; judging and delivery go on in the queue.
 */
async function submitAsync(c: Context<AppEnv>, deps: ModerateRouteDeps, item: Parameters<typeof prepareItem>[1], callbackUrl: string, context: ReturnType<typeof requestContext>) {
  const { deliveries } = deps
  if (!deliveries) throw new ApiError('invalid_request', `callback_url is not accepted: ${deps.asyncUnavailable ?? 'asynchronous moderation is off'}`)
  const url = checkCallbackUrl(callbackUrl, deps.callbackAllowedHosts)
  if (!url.ok) throw ApiError.from(url.problem)
  // The budget applies to the judging in the queue; preparing images here uses a generous one.
  const prepared = await prepareItem(deps, item, { ...context, budgetMs: deps.limits.maxBudgetMs })
  if (prepared !== 'late' && !prepared.ok) throw ApiError.from(prepared.problem)
  const idempotencyKey = c.req.header('idempotency-key')
  const fingerprint = prepared === 'late' ? undefined : await contentFingerprint(prepared.value, context, url.value.href)
  // A job store that cannot answer (Redis down) is the service's trouble, said plainly: retry.
  const submission = await deliveries.submit({
    callbackUrl: url.value.href,
    owner: c.get('clientId'),
    waitUntil: context.waitUntil,
    traceContext: deps.telemetry && c.get('traceContext') ? traceHeaders(deps.telemetry.propagator, c.get('traceContext')) : undefined,
    // Scoped to the caller, and tied to the content: the same key never returns someone else's job.
    idempotency: idempotencyKey && fingerprint ? { key: `${c.get('clientId')}:${idempotencyKey}`, fingerprint } : undefined,
    judge: judgeLater(deps, prepared === 'late' ? 'late' : prepared.value, context, item.text),
    // Kept by a durable queue (Redis) until judged: another process judges it if this one dies.
    order: () => judgingOrderOf(prepared === 'late' ? 'late' : prepared.value, context, item.text),
  }).catch(() => {
    throw new ApiError('service_unavailable', 'asynchronous moderation is unavailable: its job store does not answer; retry shortly', { 'Retry-After': '5' })
  })
  if (!submission.ok) throw refusal(submission.reason, idempotencyKey)
  c.set('logFields', { ...(prepared === 'late' ? {} : itemLogFields(prepared.value)), job_id: submission.job.id, replayed: submission.replayed })
  return c.json(submission.job, 202, { Location: `/v1/jobs/${submission.job.id}` })
}

/**
 * The judging the queue runs, under the request's budget counted from when judging starts. Made
 * here, apart from the request, so the closure holds the prepared item and nothing else of it
 * (not the raw upload); the queue drops the closure once it has run.
 */
function judgeLater(deps: ModerateRouteDeps, prepared: PreparedItem | 'late', context: ReturnType<typeof requestContext>, text?: string) {
  const judging = { ...context, waitUntil: undefined }
  return async () => (await judgePrepared(deps, prepared, { ...judging, startedAt: deps.clock.now() }, text)).verdict
}

/**
 * Why a submission was not taken. Over its own share is the client's doing (429: back off); a
 * full queue or too much judging at once is the service's (503), for everyone alike.
 */
function refusal(reason: 'full' | 'owner_full' | 'busy' | 'conflict', idempotencyKey?: string): ApiError {
  switch (reason) {
    case 'conflict':
      return new ApiError('unprocessable_content', `Idempotency-Key ${excerpt(idempotencyKey ?? '')} was used for other content; use a new key`)
    case 'owner_full':
      return new ApiError('rate_limited', 'this client has as many undelivered jobs as it may (WEBHOOK_MAX_PENDING_PER_CLIENT); retry once some are delivered or failed', {
        'Retry-After': String(OWNER_FULL_RETRY_AFTER_S),
      })
    case 'busy':
      return new ApiError('service_unavailable', 'too many jobs are being judged at once; retry shortly', { 'Retry-After': '1' })
    case 'full':
      return new ApiError('service_unavailable', 'the delivery queue is full; retry later', { 'Retry-After': '5' })
  }
}

/** What makes two submissions the same: content, policy, budget and callback. */
function contentFingerprint(item: PreparedItem, context: ReturnType<typeof requestContext>, callbackUrl: string): Promise<string> {
  return sha256Hex(JSON.stringify([item.textSha256 ?? null, item.images.map((image) => image.sha256), context.policy.version, context.budgetMs, callbackUrl]))
}
