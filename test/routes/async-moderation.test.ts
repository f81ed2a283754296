import { describe, expect, it } from 'vitest'
import type { Job } from '../../src/core/webhooks/delivery-job.js'
import { deadCallbackUrl } from '../helpers/dead-callback.js'
import { createManualClock } from '../helpers/manual-clock.js'
import { buildService } from '../helpers/service.js'
import { useFakeGemini } from '../helpers/use-fake-gemini.js'
import { startWebhookReceiver } from '../helpers/webhook-receiver.js'

const secret = `whsec_${Buffer.from('async route test secret 32 bytes').toString('base64')}`
const gemini = useFakeGemini()
const receiver = await startWebhookReceiver(secret)
const env = { WEBHOOK_SECRET: secret, WEBHOOK_ALLOWED_HOSTS: '127.0.0.1' }

let counter = 0
const fresh = (text = 'async upload') => `${text} #${++counter}-${Date.now()}`

describe('POST /v1/moderate with a callback_url', () => {
  it('answers 202 with the job at once, then delivers the signed verdict, and GET /v1/jobs/{id} follows it', async () => {
    const { moderate, app, deliveries } = await buildService({ gemini, env })
    gemini.script({ delayMs: 100, then: { verdict: { safe: false, categories: ['hate'], confidence: 0.93 } } })
    const res = await moderate({ text: fresh(), callback_url: receiver.url })
    expect(res.status).toBe(202)
    const job = (await res.json()) as Job
    expect(job).toMatchObject({ status: 'queued', callback_url: receiver.url, attempts: 0 })
    expect(res.headers.get('location')).toBe(`/v1/jobs/${job.id}`)
    expect(await deliveries!.drain(5000)).toEqual([]) // resolves when every job is delivered or failed
    const received = receiver.received.find((r) => r.id === job.webhook_id)
    expect(received).toMatchObject({ verified: true, id: job.webhook_id, payload: { type: 'moderation.completed', data: { action: 'block', categories: ['hate'], source: 'model' } } })
    const followed = (await (await app.request(`/v1/jobs/${job.id}`)).json()) as Job
    expect(followed).toMatchObject({ id: job.id, status: 'delivered', attempts: 1, verdict: { action: 'block' } })
  })

  it('takes callback_url from a form field or the query string too', async () => {
    const { app, deliveries } = await buildService({ gemini, env })
    const form = new FormData()
    form.set('text', fresh())
    form.set('callback_url', receiver.url)
    expect((await app.request('/v1/moderate', { method: 'POST', body: form })).status).toBe(202)
    const raw = await app.request(`/v1/moderate?callback_url=${encodeURIComponent(receiver.url)}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: fresh() })
    expect(raw.status).toBe(202)
    expect(await deliveries!.drain(5000)).toEqual([])
  })

  it('returns the same job for a retried submission with the same Idempotency-Key, judged and delivered once', async () => {
    const { moderate, deliveries } = await buildService({ gemini, env })
    const text = fresh()
    const before = gemini.requests.length
    const first = (await (await moderate({ text, callback_url: receiver.url }, { 'idempotency-key': `key-${text}` })).json()) as Job
    const second = (await (await moderate({ text, callback_url: receiver.url }, { 'idempotency-key': `key-${text}` })).json()) as Job
    expect(second.id).toBe(first.id)
    expect(await deliveries!.drain(5000)).toEqual([])
    expect(receiver.received.filter((r) => r.id === first.webhook_id)).toHaveLength(1)
    expect(gemini.requests.length - before).toBe(1)
  })

  it('scopes Idempotency-Key and jobs to the client: another key holder neither gets nor sees them', async () => {
    const { app, deliveries } = await buildService({ gemini, env: { ...env, MODERATION_API_KEYS: 'alice-key,bob-key' } })
    const submit = (key: string, text: string) =>
      app.request('/v1/moderate', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'idempotency-key': 'upload-1' },
        body: JSON.stringify({ text, callback_url: receiver.url }),
      })
    const alice = (await (await submit('alice-key', fresh('hello there'))).json()) as Job
    const bob = (await (await submit('bob-key', fresh('something else'))).json()) as Job
    expect(bob.id).not.toBe(alice.id)
    // Alice reusing her key for other content is a conflict.
    const conflict = await submit('alice-key', fresh('different content'))
    expect(conflict.status).toBe(422)
    expect(await conflict.json()).toMatchObject({ error: { message: expect.stringMatching(/Idempotency-Key upload-1 was used for other content/) } })
    const peek = (key: string, id: string) => app.request(`/v1/jobs/${id}`, { headers: { authorization: `Bearer ${key}` } })
    expect((await peek('alice-key', alice.id)).status).toBe(200)
    expect((await peek('bob-key', alice.id)).status).toBe(404)
    await deliveries!.drain(5000)
  })

  it('refuses at once what could never be delivered or judged', async () => {
    const { moderate } = await buildService({ gemini, env })
    const expectError = async (body: unknown, status: number, message: RegExp) => {
      const res = await moderate(body)
      expect(res.status).toBe(status)
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(message)
    }
    await expectError({ text: 'hi', callback_url: 'http://hooks.example.com/x' }, 400, /must be https/)
    await expectError({ text: 'hi', callback_url: 'https://169.254.169.254/latest' }, 400, /metadata address/)
    await expectError({ text: 'hi', callback_url: 'not a url' }, 400, /not a URL/)
    await expectError({ text: '  ', callback_url: receiver.url }, 400, /nothing to moderate/)
    await expectError({ images: [{ data: 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB' }], callback_url: receiver.url }, 422, /corrupt image\/png/)
  })

  it('refuses a callback_url longer than 2,048 characters in every form it comes in: it is kept with the job and each delivery', async () => {
    const { app, moderate, deliveries } = await buildService({ gemini, env })
    // 5 MB each took 11.5 MB of Redis per job, for 7 days.
    const long = `${receiver.url}?${'a'.repeat(5_000_000)}`
    const form = new FormData()
    form.set('text', 'hi')
    form.set('callback_url', long)
    const answers = [
      await moderate({ text: 'hi', callback_url: long }),
      await app.request('/v1/moderate', { method: 'POST', body: form }),
      await app.request(`/v1/moderate?callback_url=${receiver.url}?${'a'.repeat(3_000)}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' }),
    ]
    for (const res of answers) {
      expect(res.status).toBe(400)
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/callback_url is longer than 2048 characters/)
    }
    expect((await moderate({ text: fresh(), callback_url: `${receiver.url}?${'a'.repeat(2_048 - receiver.url.length - 1)}` })).status).toBe(202)
    expect(await deliveries!.drain(5000)).toEqual([])
  })

  it('answers 400 for a callback_url when no WEBHOOK_SECRET is set: deliveries are always signed', async () => {
    const { moderate } = await buildService({ gemini })
    const res = await moderate({ text: 'hi', callback_url: 'https://hooks.example.com/x' })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: { message: expect.stringMatching(/WEBHOOK_SECRET/) } })
  })

  it('answers 503 with Retry-After when the queue is full, and 404 for an unknown job', async () => {
    const { moderate, app } = await buildService({ gemini, env: { ...env, WEBHOOK_MAX_PENDING: '1' } })
    gemini.setDefault({ hang: true })
    expect((await moderate({ text: fresh(), callback_url: receiver.url })).status).toBe(202)
    const full = await moderate({ text: fresh(), callback_url: receiver.url })
    expect(full.status).toBe(503)
    expect(full.headers.get('retry-after')).toBe('5')
    expect((await app.request('/v1/jobs/no-such-job')).status).toBe(404)
  })

  it("gives each client its own share of pending deliveries: one client's dead receiver gets it 429, others still 202", async () => {
    // Retries wait on a clock that moves only when told: the dead receiver's jobs stay pending.
    const clock = createManualClock(1_000)
    const dead = await deadCallbackUrl()
    // WEBHOOK_MAX_PENDING_PER_CLIENT unset: a quarter of WEBHOOK_MAX_PENDING, 2 here.
    const { app, deliveries } = await buildService({ clock, env: { ...env, WEBHOOK_MAX_PENDING: '8', MODERATION_API_KEYS: 'alice-key,bob-key' } })
    const submit = (key: string, callback_url: string) =>
      app.request('/v1/moderate', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ text: fresh(), callback_url }),
      })
    expect((await submit('alice-key', dead)).status).toBe(202)
    expect((await submit('alice-key', dead)).status).toBe(202)
    const refused = await submit('alice-key', dead)
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toBe('30')
    expect(await refused.json()).toMatchObject({ error: { code: 'rate_limited', message: expect.stringMatching(/WEBHOOK_MAX_PENDING_PER_CLIENT/) } })
    expect(deliveries!.pending()).toBe(2)
    // Bob is not held up by Alice's receiver, and his verdict arrives.
    const bob = await submit('bob-key', receiver.url)
    expect(bob.status).toBe(202)
    const bobJob = (await bob.json()) as Job
    while (!receiver.received.some((r) => r.id === bobJob.webhook_id)) await receiver.next()
    // Once Alice's retry window is spent her jobs fail, and her places are hers again.
    await clock.advance(2 * 60 * 60 * 1000)
    expect(await deliveries!.drain(1)).toEqual([])
    expect((await submit('alice-key', receiver.url)).status).toBe(202)
  })

  it('answers 503 with Retry-After: 1 while WEBHOOK_MAX_JUDGING jobs are being judged (they hold their content)', async () => {
    const { moderate, deliveries } = await buildService({ gemini, env: { ...env, WEBHOOK_MAX_JUDGING: '1' } })
    gemini.script({ hang: true })
    expect((await moderate({ text: fresh(), callback_url: receiver.url })).status).toBe(202)
    const busy = await moderate({ text: fresh(), callback_url: receiver.url })
    expect(busy.status).toBe(503)
    expect(busy.headers.get('retry-after')).toBe('1')
    expect(await busy.json()).toMatchObject({ error: { code: 'service_unavailable', message: expect.stringMatching(/being judged/) } })
    // The hung call ends at the budget with the conservative verdict, and judging is open again.
    expect(await deliveries!.drain(10_000)).toEqual([])
    expect((await moderate({ text: fresh(), callback_url: receiver.url })).status).toBe(202)
    expect(await deliveries!.drain(10_000)).toEqual([])
  })
})
