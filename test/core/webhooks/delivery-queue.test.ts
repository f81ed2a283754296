import { describe, expect, it } from 'vitest'
import { checkCallbackUrl } from '../../../src/core/webhooks/callback-url.js'
import { createDeliveryQueue } from '../../../src/core/webhooks/delivery-queue.js'
import type { Job } from '../../../src/core/webhooks/delivery-job.js'
import { silentLogger } from '../../../src/core/shared/ports.js'
import type { Verdict } from '../../../src/core/shared/verdict.js'
import { importWebhookSecrets } from '../../../src/core/webhooks/webhook-signature.js'
import { createNodeWebhookTransport } from '../../../src/net/node-webhook-transport.js'
import { createManualClock } from '../../helpers/manual-clock.js'
import { startWebhookReceiver } from '../../helpers/webhook-receiver.js'

const secret = `whsec_${Buffer.from('delivery test secret, 32 bytes!!').toString('base64')}`
const verdict = { id: 'v1', safe: true, action: 'allow', categories: [], confidence: 0.97, source: 'model', policy: 'default', policy_version: 'x', model: 'm', latency_ms: 5, budget_ms: 800 } as Verdict
const receiver = await startWebhookReceiver(secret)

/** A verdict the test hands over when it chooses: judging is in progress until then. */
function deferredVerdict() {
  let resolve!: (v: Verdict) => void
  const promise = new Promise<Verdict>((r) => (resolve = r))
  return { judge: () => promise, judged: () => resolve(verdict) }
}

/** A queue on a manual clock, real HTTP transport to the receiver, and events to wait for. */
async function setup(options: { retryWindowMs?: number; maxPending?: number; maxPendingPerOwner?: number; maxJudging?: number; resolve?: NonNullable<Parameters<typeof createNodeWebhookTransport>[0]>['resolve'] } = {}) {
  receiver.clearAnswers()
  const clock = createManualClock(1_000)
  const finished: ((job: Job) => void)[] = []
  const retries: ((delay: number) => void)[] = []
  const queue = createDeliveryQueue({
    clock,
    transport: createNodeWebhookTransport({ allowedHosts: options.resolve ? [] : ['127.0.0.1'], resolve: options.resolve }),
    keys: await importWebhookSecrets([secret]),
    logger: silentLogger,
    retryWindowMs: options.retryWindowMs ?? 60 * 60 * 1000,
    maxPending: options.maxPending,
    maxPendingPerOwner: options.maxPendingPerOwner,
    maxJudging: options.maxJudging,
    random: () => 1, // no jitter: delays are exact
    onFinished: (job) => finished.splice(0).forEach((resolve) => resolve(job)),
    onRetry: (_job, delay) => retries.splice(0).forEach((resolve) => resolve(delay)),
  })
  return {
    clock,
    queue,
    finished: () => new Promise<Job>((resolve) => finished.push(resolve)),
    retried: () => new Promise<number>((resolve) => retries.push(resolve)),
  }
}

describe('webhook deliveries (real receiver verifying with standardwebhooks, time on a manual clock)', () => {
  it('delivers a signed verdict the receiver verifies', async () => {
    const { queue, finished } = await setup()
    const done = finished()
    const { job } = await queue.submit({ callbackUrl: receiver.url, judge: async () => verdict }) as { job: Job }
    expect(job.status).toBe('queued')
    expect(await done).toMatchObject({ status: 'delivered', attempts: 1, verdict })
    const last = receiver.received.at(-1)!
    expect(last).toMatchObject({ verified: true, id: job.webhook_id, payload: { type: 'moderation.completed', data: { id: 'v1', safe: true } } })
  })

  it('retries after failures with backoff, one webhook-id throughout, until the receiver accepts once', async () => {
    const { queue, clock, finished, retried } = await setup()
    receiver.answer({ status: 500 }, { status: 502 })
    const before = receiver.received.length
    const done = finished()
    let retry = retried()
    const { job } = await queue.submit({ callbackUrl: receiver.url, judge: async () => verdict }) as { job: Job }
    expect(await retry).toBe(1000)
    retry = retried()
    await clock.advance(1000)
    expect(await retry).toBe(2000)
    await clock.advance(2000)
    expect(await done).toMatchObject({ status: 'delivered', attempts: 3 })
    const attempts = receiver.received.slice(before)
    expect(attempts.map((r) => [r.status, r.verified, r.id])).toEqual([
      [500, true, job.webhook_id],
      [502, true, job.webhook_id],
      [200, true, job.webhook_id],
    ])
  })

  it('honours Retry-After and treats a redirect as a failure', async () => {
    const { queue, clock, finished, retried } = await setup()
    receiver.answer({ status: 503, headers: { 'retry-after': '120' } }, { status: 302, headers: { location: 'https://example.com/' } })
    const done = finished()
    let retry = retried()
    await queue.submit({ callbackUrl: receiver.url, judge: async () => verdict })
    expect(await retry).toBe(120_000)
    retry = retried()
    await clock.advance(120_000)
    expect(await retry).toBe(2000) // the 302 failed: backoff, no redirect followed
    await clock.advance(2000)
    expect((await done).status).toBe('delivered')
  })

  it('never retries sooner than the backoff, even with Retry-After: 0', async () => {
    const { queue, clock, finished, retried } = await setup()
    receiver.answer({ status: 503, headers: { 'retry-after': '0' } })
    const done = finished()
    const retry = retried()
    await queue.submit({ callbackUrl: receiver.url, judge: async () => verdict })
    expect(await retry).toBe(1000)
    await clock.advance(1000)
    expect((await done).status).toBe('delivered')
  })

  it('fails, visibly, a job whose judging never finishes, freeing its place', async () => {
    const { queue, clock, finished } = await setup({ maxPending: 1 })
    const done = finished()
    await queue.submit({ callbackUrl: receiver.url, judge: () => new Promise<Verdict>(() => {}) })
    await clock.advance(60_000)
    expect(await done).toMatchObject({ status: 'failed', last_error: expect.stringMatching(/judging did not finish/) })
    expect(queue.pending()).toBe(0)
  })

  it('stops at 410 Gone, and never calls that endpoint again', async () => {
    const { queue, finished } = await setup()
    receiver.answer({ status: 410 })
    const url = `${receiver.url}?gone=1`
    let done = finished()
    await queue.submit({ callbackUrl: url, judge: async () => verdict })
    expect(await done).toMatchObject({ status: 'failed', attempts: 1, last_error: 'HTTP 410 Gone' })
    const before = receiver.received.length
    done = finished()
    await queue.submit({ callbackUrl: url, judge: async () => verdict })
    expect(await done).toMatchObject({ status: 'failed', last_error: expect.stringMatching(/410 Gone before/) })
    expect(receiver.received.length).toBe(before)
  })

  it('fails a job whose receiver never succeeds once the retry window is spent, visibly', async () => {
    const { queue, clock, finished, retried } = await setup({ retryWindowMs: 10_000 })
    receiver.answer(...Array.from({ length: 10 }, () => ({ status: 500 })))
    const done = finished()
    let retry = retried()
    const { job } = await queue.submit({ callbackUrl: receiver.url, judge: async () => verdict }) as { job: Job }
    let outcome: Job | undefined
    void done.then((j) => (outcome = j))
    for (let i = 0; i < 10 && !outcome; i++) {
      const delay = await Promise.race([retry, done.then(() => 0)])
      retry = retried()
      await clock.advance(delay)
    }
    expect(await done).toMatchObject({ status: 'failed', last_error: expect.stringMatching(/retry window of 10000 ms exhausted after 4 attempts/) })
    expect((await queue.get(job.id))?.status).toBe('failed')
  })

  it('refuses, without retrying, a callback whose name resolves to loopback', async () => {
    const { queue, finished } = await setup({ resolve: async () => [{ address: '127.0.0.1', family: 4 }] })
    const done = finished()
    await queue.submit({ callbackUrl: 'https://hooks.example.com/x', judge: async () => verdict })
    expect(await done).toMatchObject({ status: 'failed', attempts: 1, last_error: expect.stringMatching(/resolves to 127\.0\.0\.1/) })
  })

  it('returns the same job for the same Idempotency-Key and content, and refuses when full instead of dropping', async () => {
    const { queue } = await setup({ maxPending: 1 })
    const slow = new Promise<Verdict>(() => {})
    const idempotency = { key: 'client-a:upload-7', fingerprint: 'content-1' }
    const first = await queue.submit({ callbackUrl: receiver.url, judge: () => slow, idempotency })
    const again = await queue.submit({ callbackUrl: receiver.url, judge: () => slow, idempotency })
    expect(again).toMatchObject({ ok: true, replayed: true })
    expect(first.ok && again.ok && again.job.id === first.job.id).toBe(true)
    // The same key with other content is a conflict, not someone else's job.
    expect(await queue.submit({ callbackUrl: receiver.url, judge: () => slow, idempotency: { ...idempotency, fingerprint: 'content-2' } })).toEqual({
      ok: false,
      reason: 'conflict',
    })
    expect(await queue.submit({ callbackUrl: receiver.url, judge: () => slow })).toEqual({ ok: false, reason: 'full' })
    expect(queue.pending()).toBe(1)
  })

  it('gives each owner its own share of places: a full owner is refused (owner_full), another is not, and a finished job frees a place', async () => {
    const { queue, finished } = await setup({ maxPending: 10, maxPendingPerOwner: 2 })
    const first = deferredVerdict()
    expect((await queue.submit({ callbackUrl: receiver.url, judge: first.judge, owner: 'a' })).ok).toBe(true)
    expect((await queue.submit({ callbackUrl: receiver.url, judge: () => new Promise<Verdict>(() => {}), owner: 'a' })).ok).toBe(true)
    expect(await queue.submit({ callbackUrl: receiver.url, judge: async () => verdict, owner: 'a' })).toEqual({ ok: false, reason: 'owner_full' })
    const bDelivered = finished()
    expect((await queue.submit({ callbackUrl: receiver.url, judge: async () => verdict, owner: 'b' })).ok).toBe(true)
    expect((await bDelivered).status).toBe('delivered')
    // b's place freed is b's: a is still at its share.
    expect(await queue.submit({ callbackUrl: receiver.url, judge: async () => verdict, owner: 'a' })).toEqual({ ok: false, reason: 'owner_full' })
    const aDelivered = finished()
    first.judged()
    expect((await aDelivered).status).toBe('delivered')
    const again = finished()
    expect((await queue.submit({ callbackUrl: receiver.url, judge: async () => verdict, owner: 'a' })).ok).toBe(true)
    expect((await again).status).toBe('delivered')
  })

  it('bounds the jobs being judged, which hold content (busy), and takes new ones once judged', async () => {
    const { queue, finished } = await setup({ maxJudging: 1 })
    const first = deferredVerdict()
    expect((await queue.submit({ callbackUrl: receiver.url, judge: first.judge })).ok).toBe(true)
    expect(await queue.submit({ callbackUrl: receiver.url, judge: async () => verdict })).toEqual({ ok: false, reason: 'busy' })
    const done = finished()
    first.judged()
    expect((await done).status).toBe('delivered')
    const again = finished()
    expect((await queue.submit({ callbackUrl: receiver.url, judge: async () => verdict })).ok).toBe(true)
    expect((await again).status).toBe('delivered')
  })

  it('lets a failed job be submitted again under its Idempotency-Key', async () => {
    const { queue, finished } = await setup()
    receiver.answer({ status: 410 })
    const idempotency = { key: 'client-a:retry-me', fingerprint: 'content' }
    const url = `${receiver.url}?fresh=${Date.now()}`
    const done = finished()
    const first = await queue.submit({ callbackUrl: url, judge: async () => verdict, idempotency })
    expect((await done).status).toBe('failed')
    const again = await queue.submit({ callbackUrl: `${url}&second`, judge: async () => verdict, idempotency })
    expect(again.ok && first.ok && again.job.id !== first.job.id && !again.replayed).toBe(true)
  })
})

describe('callback URLs', () => {
  it('must be https, and not name a private place, unless the host is allowed', () => {
    expect(checkCallbackUrl('https://hooks.example.com/x', []).ok).toBe(true)
    expect(checkCallbackUrl('http://hooks.example.com/x', [])).toMatchObject({ ok: false, problem: { message: expect.stringMatching(/must be https/) } })
    for (const url of ['https://127.0.0.1/x', 'https://localhost/x', 'https://[::1]/x', 'https://10.0.0.1/x', 'https://169.254.169.254/x', 'https://[::ffff:192.168.0.1]/x']) {
      expect(checkCallbackUrl(url, []).ok, url).toBe(false)
    }
    expect(checkCallbackUrl('http://127.0.0.1:9000/hook', ['127.0.0.1']).ok).toBe(true)
    expect(checkCallbackUrl('https://user:pw@hooks.example.com/', []).ok).toBe(false)
  })
})
