import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Redis } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { KeptOrder } from '../../src/core/webhooks/delivery-queue.js'
import type { RedisDeliveryQueue } from '../../src/webhooks/redis-delivery-queue.js'
import { needsRedis, redisBehindProxy, REDIS_TEST_URL } from '../helpers/redis.js'
import { testPrefix, testVerdict, useRedisQueues } from '../helpers/redis-queues.js'
import { startWebhookReceiver } from '../helpers/webhook-receiver.js'

const available = await needsRedis()
const secret = `whsec_${Buffer.from('redis queue test secret 32 bytes').toString('base64')}`
const replica = useRedisQueues(secret)
// The caps the first test counts against.
const capped = (prefix: string) => replica(prefix, { maxPending: 5, maxPendingPerOwner: 3 })
const verdict = testVerdict()

describe.runIf(available)('the delivery queue on Redis (real Redis, BullMQ)', () => {
  it('caps pending jobs per client and overall across replicas, and frees the places as jobs are delivered', async () => {
    const receiver = await startWebhookReceiver(secret)
    receiver.answer(...Array.from({ length: 30 }, () => ({ status: 503 })))
    const prefix = testPrefix()
    const [one, two] = [capped(prefix), capped(prefix)]
    const submit = (queue: RedisDeliveryQueue, owner: string) => queue.submit({ callbackUrl: receiver.url, owner, judge: async () => verdict })
    const results = [await submit(one, 'a'), await submit(two, 'a'), await submit(one, 'a'), await submit(two, 'a')]
    expect(results.map((r) => (r.ok ? 'ok' : r.reason))).toEqual(['ok', 'ok', 'ok', 'owner_full'])
    expect((await submit(two, 'b')).ok).toBe(true)
    expect((await submit(one, 'c')).ok).toBe(true)
    expect(await submit(one, 'd')).toEqual({ ok: false, reason: 'full' })
    // A job made on one replica is read on the other.
    const first = results[0]!
    expect(first.ok && (await two.get(first.job.id, 'a'))).toMatchObject({ webhook_id: first.ok ? first.job.webhook_id : '' })
    // The receiver recovers: every job is delivered once, and the places come back.
    receiver.clearAnswers()
    const end = Date.now() + 20_000
    while (new Set(receiver.received.filter((r) => r.status === 200).map((r) => r.id)).size < 5 && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(new Set(receiver.received.filter((r) => r.status === 200 && r.verified).map((r) => r.id)).size).toBe(5)
    for (let i = 0; i < 50 && !(await submit(one, 'a')).ok; i++) await new Promise((resolve) => setTimeout(resolve, 50))
    expect((await submit(two, 'a')).ok).toBe(true)
  }, 30_000)

  it('refuses a submission while WEBHOOK_MAX_JUDGING jobs of this process are being judged (they hold the content)', async () => {
    const queue = replica(testPrefix(), { maxJudging: 2 })
    let release = () => {}
    const held = new Promise<void>((resolve) => (release = resolve))
    const slow = () => held.then(() => verdict)
    const callbackUrl = 'http://127.0.0.1:9/hooks'
    const results = [await queue.submit({ callbackUrl, judge: slow }), await queue.submit({ callbackUrl, judge: slow }), await queue.submit({ callbackUrl, judge: slow })]
    expect(results.map((r) => (r.ok ? 'ok' : r.reason))).toEqual(['ok', 'ok', 'busy'])
    release()
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect((await queue.submit({ callbackUrl, judge: async () => verdict })).ok).toBe(true)
  })

  it('resumes pending deliveries when Redis comes back after going down mid-run', async () => {
    const proxy = await redisBehindProxy()
    const receiver = await startWebhookReceiver(secret)
    receiver.answer(...Array.from({ length: 5 }, () => ({ status: 503 })))
    const queue = replica(testPrefix(), { url: proxy.url, initialDelayMs: 300 })
    const submitted = await Promise.all(Array.from({ length: 5 }, () => queue.submit({ callbackUrl: receiver.url, owner: 'a', judge: async () => verdict })))
    expect(submitted.every((r) => r.ok)).toBe(true)
    while (receiver.received.length < 5) await new Promise((resolve) => setTimeout(resolve, 20))
    await proxy.down()
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    await proxy.up()
    const end = Date.now() + 20_000
    const delivered = () => new Set(receiver.received.filter((r) => r.status === 200 && r.verified).map((r) => r.id))
    while (delivered().size < 5 && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(delivered()).toEqual(new Set(submitted.map((r) => (r.ok ? r.job.webhook_id : ''))))
  }, 30_000)

  it('waits at shutdown (drain) for the jobs still being judged, so their deliveries are queued in Redis', async () => {
    const prefix = testPrefix()
    const queue = capped(prefix)
    let release = () => {}
    let judged = false
    const held = new Promise<void>((resolve) => (release = resolve))
    const submitted = await queue.submit({ callbackUrl: 'http://127.0.0.1:9/hooks', owner: 'a', judge: () => held.then(() => ((judged = true), verdict)) })
    expect(submitted.ok).toBe(true)
    const draining = queue.drain(5_000)
    setTimeout(release, 200)
    const started = Date.now()
    expect(await draining).toEqual([])
    expect(judged).toBe(true)
    expect(Date.now() - started).toBeGreaterThanOrEqual(150)
    // The drain is bounded by its timeout, whatever judging does.
    const stuck = await queue.submit({ callbackUrl: 'http://127.0.0.1:9/hooks', owner: 'a', judge: () => new Promise<never>(() => {}) })
    expect(stuck.ok).toBe(true)
    const bounded = Date.now()
    await queue.drain(100)
    expect(Date.now() - bounded).toBeLessThan(1_000)
  })

  /**
   * A connected queue (one pending place per client) behind a proxy that then holds every Redis
   * reply for `holdMs` while a submission is made: it is refused (how long that took is returned),
   * and once Redis answers again, what it took is back (the client's one place is free), so the
   * retry a 503 asks for is taken and delivered.
   */
  async function refusedWhileRedisHolds(holdMs: number, order?: () => KeptOrder): Promise<number> {
    const proxy = await redisBehindProxy()
    const receiver = await startWebhookReceiver(secret)
    const queue = replica(testPrefix(), { url: proxy.url, maxPendingPerOwner: 1 })
    const submission = { callbackUrl: receiver.url, owner: 'a', judge: async () => verdict, order }
    expect((await queue.submit(submission)).ok).toBe(true) // the store is connected
    while (!receiver.received.some((r) => r.status === 200)) await new Promise((resolve) => setTimeout(resolve, 20))
    // Every command still reaches Redis, but its answer waits.
    proxy.holdReplies(holdMs)
    const started = Date.now()
    await expect(queue.submit(submission)).rejects.toThrow()
    const refusedAfter = Date.now() - started
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, holdMs + 200 - refusedAfter)))
    const retried = await queue.submit(submission)
    expect(retried).toMatchObject({ ok: true, replayed: false })
    const end = Date.now() + 10_000
    while (receiver.received.filter((r) => r.status === 200).length < 2 && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(retried.ok && (await queue.get(retried.job.id, 'a'))?.status).toBe('delivered')
    return refusedAfter
  }

  it('gives back what a submission took when Redis answered too late (a 503 must leave nothing behind)', async () => {
    // The answers come after the store's 1 s timeout.
    await refusedWhileRedisHolds(1_500)
  }, 30_000)

  it('refuses a submission within one deadline when Redis answers slowly: about a second in all, not a second per command, and nothing is left behind', async () => {
    // No answer for 4 s, to a submission that keeps its order (record and order in one script).
    expect(await refusedWhileRedisHolds(4_000, () => ({ json: { n: 1 }, parts: [new Uint8Array(64)] }))).toBeLessThan(1_000 + 500)
  }, 30_000)

  it('a client retrying at once with its Idempotency-Key after a slow-Redis 503 gets a job that is judged and delivered, never a replay of one the refusal deletes (from a hostile review)', async () => {
    const proxy = await redisBehindProxy()
    const receiver = await startWebhookReceiver(secret)
    // Orders kept: judging outlives this process (what a crash test checks); here, the record and its order in one script.
    const queue = replica(testPrefix(), { url: proxy.url, judgeOrder: () => async () => verdict })
    let slow = false
    // Redis takes the record and its order, but answers after the submission's deadline.
    const order = () => (slow && proxy.holdReplies(1_100), { json: { n: 1 }, parts: [] })
    const submission = { callbackUrl: receiver.url, owner: 'a', idempotency: { key: 'a:retried-at-once', fingerprint: 'content' }, judge: async () => verdict, order }
    expect((await queue.submit({ ...submission, idempotency: undefined })).ok).toBe(true) // the store is connected
    slow = true
    await expect(queue.submit(submission)).rejects.toThrow()
    slow = false
    const retried = await queue.submit(submission)
    expect(retried.ok).toBe(true)
    const id = retried.ok ? retried.job.id : ''
    const end = Date.now() + 10_000
    while ((await queue.get(id, 'a'))?.status !== 'delivered' && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(await queue.get(id, 'a')).toMatchObject({ status: 'delivered' })
    expect(receiver.received.filter((r) => r.status === 200 && r.id === `msg_${id}`)).toHaveLength(1)
  }, 30_000)

  it('concurrent submissions with one Idempotency-Key take one pending place for their one job, and keep it (from a hostile review: the loser gave back the winner\'s)', async () => {
    const prefix = testPrefix()
    const queue = replica(prefix, { maxPendingPerOwner: 2 })
    const judge = () => new Promise<never>(() => {}) // pending for the whole test
    const accepted = new Set<string>()
    const refused: string[] = []
    for (let pair = 0; pair < 6; pair++) {
      const submission = { callbackUrl: 'http://127.0.0.1:9/hooks', owner: 'a', idempotency: { key: `a:pair-${pair}`, fingerprint: 'content' }, judge }
      for (const result of await Promise.all([queue.submit(submission), queue.submit(submission)])) result.ok ? accepted.add(result.job.id) : refused.push(result.reason)
    }
    expect(accepted.size).toBe(2)
    expect(refused).toContain('owner_full')
    const admin = new Redis(REDIS_TEST_URL)
    onTestFinished(() => void admin.disconnect())
    expect(await admin.zcard(`${prefix}:pending:a`)).toBe(2)
  }, 30_000)

  it('a submission that got a 503 because Redis went away between its job record and its order is judged and delivered when retried with its Idempotency-Key (never a 202 for a job nobody judges)', async () => {
    const proxy = await redisBehindProxy()
    const receiver = await startWebhookReceiver(secret)
    const queue = replica(testPrefix(), { url: proxy.url, leaseMs: 300, judgeOrder: () => async () => testVerdict('judged-from-its-order') })
    let cut = false
    const submission = {
      callbackUrl: receiver.url,
      owner: 'a',
      idempotency: { key: 'a:order-7', fingerprint: 'content-7' },
      judge: async () => testVerdict('judged-at-once'),
      // Redis goes away as the order is about to be written: nothing reaches it after, the undo neither.
      order: () => {
        if (!cut) void proxy.down()
        cut = true
        return { json: { n: 7 }, parts: [] }
      },
    }
    await expect(queue.submit(submission)).rejects.toThrow()
    await proxy.up()
    // Retried as a 503 asks, once Redis answers again.
    let retried: Awaited<ReturnType<RedisDeliveryQueue['submit']>> | undefined
    for (const end = Date.now() + 10_000; !retried && Date.now() < end; ) retried = await queue.submit(submission).catch(() => (new Promise((resolve) => setTimeout(resolve, 100)).then(() => undefined)))
    expect(retried?.ok).toBe(true)
    const webhookId = retried?.ok ? retried.job.webhook_id : ''
    const end = Date.now() + 5_000
    while (!receiver.received.some((r) => r.status === 200 && r.id === webhookId) && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(receiver.received.filter((r) => r.status === 200).map((r) => r.id)).toEqual([webhookId])
  }, 30_000)

  it('a submission whose record and order Redis wrote but answered too late, then went away (no undo), is delivered: its retry with the Idempotency-Key replays a job that is judged', async () => {
    const proxy = await redisBehindProxy()
    const admin = new Redis(REDIS_TEST_URL)
    onTestFinished(() => admin.disconnect())
    const receiver = await startWebhookReceiver(secret)
    const prefix = testPrefix()
    const queue = replica(prefix, { url: proxy.url, leaseMs: 300, judgeOrder: () => async () => testVerdict('judged-from-its-order') })
    const submission = {
      callbackUrl: receiver.url,
      owner: 'a',
      idempotency: { key: 'a:order-8', fingerprint: 'content-8' },
      judge: () => new Promise<never>(() => {}),
      // The write reaches Redis; its answer is held past the store's 1 s timeout.
      order: () => (proxy.holdReplies(2_000), { json: { n: 8 }, parts: [] }),
    }
    const first = queue.submit(submission)
    // Once Redis has it, Redis goes away before the submission's undo can reach it.
    while ((await admin.keys(`${prefix}:unjudged:*`)).length === 0) await new Promise((resolve) => setTimeout(resolve, 10))
    await proxy.down()
    await expect(first).rejects.toThrow()
    await proxy.up()
    let retried: Awaited<ReturnType<RedisDeliveryQueue['submit']>> | undefined
    for (const end = Date.now() + 10_000; !retried && Date.now() < end; ) retried = await queue.submit({ ...submission, order: () => ({ json: { n: 8 }, parts: [] }) }).catch(() => new Promise((resolve) => setTimeout(resolve, 100)).then(() => undefined))
    expect(retried?.ok).toBe(true)
    const webhookId = retried?.ok ? retried.job.webhook_id : ''
    const end = Date.now() + 5_000
    while (!receiver.received.some((r) => r.status === 200 && r.id === webhookId) && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(receiver.received.filter((r) => r.status === 200).map((r) => [r.id, r.payload?.data.id])).toEqual([[webhookId, expect.stringMatching(/^judged-/)]])
  }, 30_000)

  it('a delivery whose process died mid-attempt is made by another replica within about two leases (BullMQ alone: up to a minute)', async () => {
    // The first POST is never answered (the process dies during it); later ones get 200.
    const posts: { id: string; at: number }[] = []
    const server = createServer((req, res) => {
      posts.push({ id: String(req.headers['webhook-id']), at: Date.now() })
      if (posts.length > 1) res.writeHead(200).end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    onTestFinished(() => void (server.closeAllConnections(), server.close()))
    const callbackUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`
    const prefix = testPrefix()
    const dying = replica(prefix, { leaseMs: 300, attemptTimeoutMs: 30_000 })
    const submitted = await dying.submit({ callbackUrl, owner: 'a', judge: async () => verdict })
    while (posts.length === 0) await new Promise((resolve) => setTimeout(resolve, 20))
    // Its connections go, as with a SIGKILL: the lock on the attempt is no longer renewed.
    await dying.close()
    const died = Date.now()
    const other = replica(prefix, { leaseMs: 300 })
    while (posts.length < 2 && Date.now() - died < 10_000) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(posts.map((post) => post.id)).toEqual([submitted.ok ? submitted.job.webhook_id : '', submitted.ok ? submitted.job.webhook_id : ''])
    expect(posts[1]!.at - died).toBeLessThan(2_000)
    const end = Date.now() + 2_000
    while ((submitted.ok && (await other.get(submitted.job.id, 'a'))?.status) !== 'delivered' && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(submitted.ok && (await other.get(submitted.job.id, 'a'))?.status).toBe('delivered')
  }, 20_000)
})
