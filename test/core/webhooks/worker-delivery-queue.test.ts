import { describe, expect, it } from 'vitest'
import type { Job } from '../../../src/core/webhooks/delivery-job.js'
import { silentLogger, systemClock } from '../../../src/core/shared/ports.js'
import type { Verdict } from '../../../src/core/shared/verdict.js'
import { importWebhookSecrets } from '../../../src/core/webhooks/webhook-signature.js'
import { createNodeWebhookTransport } from '../../../src/net/node-webhook-transport.js'
import { createWorkerDeliveryQueue, type JobStore, type QueueMessage } from '../../../src/core/webhooks/worker-delivery-queue.js'
import { startWebhookReceiver } from '../../helpers/webhook-receiver.js'

// The Workers queue's logic on Node: an in-memory KV and recorded queue messages stand in for the
// bindings (the workerd project runs the real ones); deliveries go over real HTTP to a receiver
// that verifies them with standardwebhooks.
const secret = `whsec_${Buffer.from('worker queue unit secret 32 byte').toString('base64')}`
const receiver = await startWebhookReceiver(secret)
const verdict = { id: 'v', safe: true, action: 'allow', categories: [], confidence: 0.9, source: 'model', policy: 'default', policy_version: 'x', model: 'm', latency_ms: 1, budget_ms: 800 } as Verdict

function setup() {
  receiver.clearAnswers()
  const kv = new Map<string, string>()
  const jobs: JobStore = { get: async (key) => (kv.has(key) ? JSON.parse(kv.get(key)!) : null), put: async (key, value) => void kv.set(key, value) }
  const sent: unknown[] = []
  const queue = createWorkerDeliveryQueue({
    jobs,
    producer: { send: async (body) => void sent.push(body) },
    keys: importWebhookSecrets([secret]),
    transport: createNodeWebhookTransport({ allowedHosts: ['127.0.0.1'] }),
    clock: systemClock,
    logger: silentLogger,
    random: () => 1,
  })
  const message = (body: unknown, attempts = 1) => {
    const outcome: { acked?: boolean; retried?: number } = {}
    const m: QueueMessage = { body, attempts, ack: () => void (outcome.acked = true), retry: (o) => void (outcome.retried = o?.delaySeconds ?? 0) }
    return { m, outcome }
  }
  const submitted = async (url = receiver.url, idempotency?: { key: string; fingerprint: string }) => {
    const waits: Promise<unknown>[] = []
    const result = await queue.submit({ callbackUrl: url, judge: async () => verdict, idempotency, waitUntil: (p) => void waits.push(p) })
    await Promise.all(waits)
    return { job: (result as { job: Job }).job, body: sent.at(-1) }
  }
  return { queue, message, submitted, kv }
}

describe('the Workers delivery queue (consumer logic)', () => {
  it('enqueues a self-contained message after judging, and the consumer delivers and acks it', async () => {
    const { queue, message, submitted } = await setup()
    const { job, body } = await submitted()
    // Judged and enqueued without another KV write (KV takes one write per key per second).
    expect((await queue.get(job.id))?.status).toBe('queued')
    const { m, outcome } = message(body)
    await queue.consume([m])
    expect(outcome).toEqual({ acked: true })
    expect(await queue.get(job.id)).toMatchObject({ status: 'delivered', attempts: 1 })
    expect(receiver.received.at(-1)).toMatchObject({ verified: true, id: job.webhook_id })
  })

  it('retries a failed attempt through the queue with the backoff delay, and fails past the window', async () => {
    const { queue, message, submitted } = await setup()
    receiver.answer({ status: 500 }, { status: 503, headers: { 'retry-after': '30' } })
    const { job, body } = await submitted()
    const first = message(body, 1)
    await queue.consume([first.m])
    expect(first.outcome).toEqual({ retried: 1 })
    const second = message(body, 2)
    await queue.consume([second.m])
    expect(second.outcome).toEqual({ retried: 30 })
    expect(await queue.get(job.id)).toMatchObject({ status: 'running', attempts: 2, last_error: 'HTTP 503' })
  })

  it('stops at 410 Gone, acks, and marks the job failed', async () => {
    const { queue, message, submitted } = await setup()
    receiver.answer({ status: 410 })
    const { job, body } = await submitted(`${receiver.url}?gone=${Date.now()}`)
    const { m, outcome } = message(body)
    await queue.consume([m])
    expect(outcome).toEqual({ acked: true })
    expect(await queue.get(job.id)).toMatchObject({ status: 'failed', last_error: 'HTTP 410 Gone' })
  })

  it('does not deliver twice a message for a job already delivered (at-least-once redelivery)', async () => {
    const { queue, message, submitted } = await setup()
    const { body } = await submitted()
    await queue.consume([message(body).m])
    const before = receiver.received.length
    const again = message(body, 2)
    await queue.consume([again.m])
    expect(again.outcome).toEqual({ acked: true })
    expect(receiver.received.length).toBe(before)
  })

  it('gives concurrent submissions under one Idempotency-Key one job id and one webhook-id', async () => {
    const { submitted } = await setup()
    const idempotency = { key: 'client:upload-9', fingerprint: 'same' }
    const [a, b] = await Promise.all([submitted(receiver.url, idempotency), submitted(receiver.url, idempotency)])
    expect(a.job.id).toBe(b.job.id)
    expect(a.job.webhook_id).toBe(b.job.webhook_id)
  })

  it('fails the job itself before the queue would drop the message', async () => {
    const { queue, message, submitted } = await setup()
    receiver.answer({ status: 500 })
    const { job, body } = await submitted()
    const last = message(body, 100)
    await queue.consume([last.m])
    expect(last.outcome).toEqual({ acked: true })
    expect(await queue.get(job.id)).toMatchObject({ status: 'failed', last_error: expect.stringMatching(/retries exhausted after 100 attempts/) })
  })
})
