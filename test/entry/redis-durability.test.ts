import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { describe, expect, it, onTestFinished } from 'vitest'
import { needsRedis, REDIS_TEST_URL } from '../helpers/redis.js'
import { makeImage } from '../helpers/images.js'
import { useFakeGemini } from '../helpers/use-fake-gemini.js'
import { startWebhookReceiver } from '../helpers/webhook-receiver.js'

const gemini = useFakeGemini()
const available = await needsRedis()
const secret = `whsec_${Buffer.from('durability test secret, 32 byte').toString('base64')}`

/** The real Node entry (through tsx), resolved once it logs "listening". */
async function startEntry(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; exited: Promise<unknown> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/entry/node.ts'], { env: { PATH: process.env.PATH, PORT: '0', MODERATION_WARMUP_REQUESTS: '0', MODERATION_DRAIN_DELAY_MS: '0', ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = once(child, 'exit')
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const parsed = JSON.parse(line) as { msg?: string; url?: string }
      if (parsed.msg === 'listening') resolve(parsed.url!)
    })
    void exited.then(() => reject(new Error('the service exited before listening')))
  })
  return { child, url, exited }
}

/** The shipped policies with another latency budget, in a folder of their own. */
async function policiesWithBudget(budgetMs: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'policies-'))
  for (const name of await readdir('policies')) {
    const text = await readFile(join('policies', name), 'utf8')
    await writeFile(join(dir, name), text.replace(/^budget_ms: \d+/m, `budget_ms: ${budgetMs}`))
  }
  return dir
}

/** How many delivery messages of a prefix are still to run (BullMQ's lists in Redis). */
function deliveriesLeft(prefix: string): () => Promise<number> {
  const connection = new Redis(REDIS_TEST_URL, { maxRetriesPerRequest: null })
  const queue = new Queue('deliveries', { connection, prefix })
  onTestFinished(async () => {
    await queue.close()
    connection.disconnect()
  })
  return async () => {
    const { active = 0, wait = 0, delayed = 0 } = await queue.getJobCounts('active', 'wait', 'delayed')
    return active + wait + delayed
  }
}

const until = async (done: () => boolean | Promise<boolean>, timeoutMs: number) => {
  const end = Date.now() + timeoutMs
  while (!(await done()) && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 50))
}

/**
 * The Node entry on the tests' Redis under a prefix of this run's (nothing of another run's queue
 * is seen), as one process: the SIGKILL hits the one judging and delivering (a cluster's workers
 * exit on their own when their primary dies), and a start costs one process, not three.
 */
const entryOnRedis = (prefix: string) => ({
  GEMINI_API_KEY: 'k',
  GEMINI_BASE_URL: gemini.url,
  WEBHOOK_SECRET: secret,
  WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
  REDIS_URL: REDIS_TEST_URL,
  MODERATION_REDIS_PREFIX: prefix,
  MODERATION_WORKERS: '1',
})

describe.runIf(available)('async jobs on Redis survive the process (real Redis, real entry)', () => {
  it('SIGKILL with 200 jobs whose receiver is down: after a restart all 200 are delivered, each webhook-id exactly once', async () => {
    const receiver = await startWebhookReceiver(secret)
    // Down until the process is dead: no attempt made before the kill reaches it (one that did,
    // and died before recording it, would be made again: a second delivery no id can prevent).
    receiver.answer(...Array.from({ length: 2_000 }, () => ({ status: 503 })))
    const prefix = `test-${randomUUID().slice(0, 8)}`
    const env = {
      ...entryOnRedis(prefix),
      // All 200 are judged at once (the default lets 64 be judged at a time, then 503).
      WEBHOOK_MAX_JUDGING: '256',
      // A delivery the SIGKILL cut off mid-attempt is taken up after about two of these (BullMQ's
      // own lock: 30 s, then up to two 30 s stalled checks, longer than this test waits).
      WEBHOOK_LEASE_MS: '2000',
    }
    const first = await startEntry(env)
    // Whatever fails, no process outlives the test.
    onTestFinished(() => void first.child.kill('SIGKILL'))
    const submitted = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const res = await fetch(`${first.url}/v1/moderate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: `durable ${i}`, callback_url: receiver.url }) })
        expect(res.status).toBe(202)
        return (await res.json()) as { id: string; webhook_id: string }
      }),
    )
    // Every job judged and tried once (503): its retry is waiting in Redis. Then the process dies.
    await until(() => new Set(receiver.received.map((r) => r.id)).size >= 200, 20_000)
    first.child.kill('SIGKILL')
    await first.exited
    receiver.clearAnswers()

    const second = await startEntry(env)
    onTestFinished(() => void second.child.kill('SIGKILL'))
    try {
      await until(() => new Set(receiver.received.filter((r) => r.status === 200 && r.verified).map((r) => r.id)).size >= 200, 30_000)
      // The attempts the kill cut off are taken up once their locks lapse: then nothing is left to run.
      const left = deliveriesLeft(prefix)
      await until(async () => (await left()) === 0, 20_000)
      expect(await left()).toBe(0)
      const delivered = receiver.received.filter((r) => r.status === 200 && r.verified).map((r) => r.id)
      expect(new Set(delivered)).toEqual(new Set(submitted.map((job) => job.webhook_id)))
      // Exactly once: an attempt the kill cut off is made again once its lock lapses, unless it had
      // queued its retry (then the retry goes on alone); either way one chain of retries per job.
      expect(delivered).toHaveLength(200)
      // Any replica (here: the new process) reads a job the dead one accepted.
      const job = (await (await fetch(`${second.url}/v1/jobs/${submitted[7]!.id}`)).json()) as { status: string; webhook_id: string }
      expect(job).toMatchObject({ status: 'delivered', webhook_id: submitted[7]!.webhook_id })
    } finally {
      second.child.kill('SIGTERM')
      await second.exited
    }
  }, 60_000)

  it('SIGKILL while 20 accepted jobs are still being judged (the model hangs): after a restart with a model that answers, all 20 are judged and delivered, each webhook-id once, and their content leaves Redis', async () => {
    const receiver = await startWebhookReceiver(secret)
    // Every model call hangs: the jobs stay in judging until the process dies.
    gemini.setDefault({ hang: true })
    const prefix = `test-${randomUUID().slice(0, 8)}`
    const env = {
      ...entryOnRedis(prefix),
      // A budget long enough to kill the process inside it: judging would otherwise end in a timeout verdict.
      MODERATION_POLICIES_DIR: await policiesWithBudget(10_000),
      // A dead process's claim on its jobs lapses after this long.
      WEBHOOK_LEASE_MS: '1000',
    }
    const first = await startEntry(env)
    onTestFinished(() => void first.child.kill('SIGKILL'))
    // One job has an image: what the model is shown of it after the restart is what it was shown before.
    const image = { data: Buffer.from(await makeImage('png', 64, 48)).toString('base64') }
    const submitted = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const body = { text: `judged after a crash ${i}`, callback_url: receiver.url, ...(i === 0 ? { images: [image] } : {}) }
        const res = await fetch(`${first.url}/v1/moderate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
        expect(res.status).toBe(202)
        return (await res.json()) as { id: string; webhook_id: string }
      }),
    )
    // Every job's model call is under way (and hanging): the process dies mid-judging.
    await until(() => gemini.requests.length >= 20, 10_000)
    expect(gemini.requests.length).toBe(20)
    const shownImages = () => gemini.requests.flatMap((r) => r.body.contents.flatMap((c) => c.parts.flatMap((p) => (p.inlineData ? [p.inlineData] : []))))
    const shownBefore = shownImages()
    expect(shownBefore).toHaveLength(1)
    first.child.kill('SIGKILL')
    await first.exited
    expect(receiver.received).toEqual([])

    gemini.setDefault({ verdict: { safe: true, categories: [], confidence: 0.97 } })
    const second = await startEntry(env)
    onTestFinished(() => void second.child.kill('SIGKILL'))
    try {
      const verified = () => receiver.received.filter((r) => r.status === 200 && r.verified)
      await until(() => new Set(verified().map((r) => r.id)).size >= 20, 15_000)
      const delivered = verified().map((r) => r.id)
      expect(new Set(delivered)).toEqual(new Set(submitted.map((job) => job.webhook_id)))
      expect(delivered).toHaveLength(20)
      // Judged by the model that now answers, not given up on.
      expect(verified().every((r) => r.payload?.data.source === 'model')).toBe(true)
      await until(() => false, 300) // a second delivery, were there one, would have time to arrive
      expect(verified()).toHaveLength(20)
      const jobs = await Promise.all(submitted.map(async (job) => (await (await fetch(`${second.url}/v1/jobs/${job.id}`)).json()) as { status: string; webhook_id: string }))
      expect(jobs.map((job) => job.status)).toEqual(submitted.map(() => 'delivered'))
      expect(shownImages()).toEqual([...shownBefore, ...shownBefore])
      // The content kept for judging is gone once judged.
      const admin = new Redis(REDIS_TEST_URL)
      try {
        expect(await admin.keys(`${prefix}:unjudged*`)).toEqual([])
      } finally {
        admin.disconnect()
      }
    } finally {
      second.child.kill('SIGTERM')
      await second.exited
    }
  }, 60_000)
})

describe('async jobs with Redis down (no Redis needed)', () => {
  it('answers a clear 503 to an asynchronous submission, and keeps judging synchronous ones', async () => {
    const receiver = await startWebhookReceiver(secret)
    const service = await startEntry({ GEMINI_API_KEY: 'k', GEMINI_BASE_URL: gemini.url, WEBHOOK_SECRET: secret, WEBHOOK_ALLOWED_HOSTS: '127.0.0.1', REDIS_URL: 'redis://127.0.0.1:1' })
    try {
      const post = (body: object) => fetch(`${service.url}/v1/moderate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      const refused = await post({ text: 'async while redis is down', callback_url: receiver.url })
      expect(refused.status).toBe(503)
      expect(refused.headers.get('retry-after')).toBe('5')
      expect(await refused.json()).toMatchObject({ error: { code: 'service_unavailable', message: expect.stringContaining('job store') } })
      expect(await (await post({ text: 'sync while redis is down' })).json()).toMatchObject({ source: 'model' })
      expect(await (await fetch(`${service.url}/readyz`)).json()).toMatchObject({ status: 'ready', store: { kind: 'redis', connected: false } })
    } finally {
      service.child.kill('SIGTERM')
      await service.exited
    }
  }, 30_000)
})
