/**
 * A program, not a test: run as `node --expose-gc --import tsx test/helpers/measure-pending-jobs.ts N`
 * (test/routes/async-memory.test.ts does). It builds the service as the Node entry does, submits
 * N asynchronous jobs with a ~1 MB image each to a callback nobody listens on, waits until every
 * one is judged (its first delivery attempt has failed), and prints one JSON line: how much heap
 * and ArrayBuffer memory each pending job keeps, after a full garbage collection.
 * Its own process, so nothing else (vitest, other tests) moves the numbers.
 */
import { randomBytes } from 'node:crypto'
import sharp from 'sharp'
import { composeApp } from '../../src/app/compose.js'
import { parseConfig } from '../../src/config/config.js'
import type { LogFields, Logger } from '../../src/core/shared/ports.js'
import { readTextClassifier } from '../../src/entry/read-text-classifier.js'
import { createSharpImageProcessor } from '../../src/images/sharp-image-processor.js'
import { createNodeWebhookTransport } from '../../src/net/node-webhook-transport.js'
import { deadCallbackUrl } from './dead-callback.js'
import { shippedPolicies } from './service.js'

const gc = (globalThis as { gc?: () => void }).gc
if (!gc) throw new Error('run with node --expose-gc')
const count = Number(process.argv[2] ?? 40)

const callbackUrl = await deadCallbackUrl()

// The first failed attempt is logged once judging is done: that is the event waited for.
const judged = new Set<string>()
let waiter: { until: number; resolve: () => void } | undefined
const onLog = (message: string, fields: LogFields = {}) => {
  if (message !== 'webhook delivery will be retried') return
  judged.add(String(fields.job_id))
  if (waiter && judged.size >= waiter.until) waiter.resolve()
}
const logger: Logger = { debug() {}, info() {}, warn: onLog, error: onLog }
const allJudged = (until: number) => new Promise<void>((resolve) => (judged.size >= until ? resolve() : (waiter = { until, resolve })))

const config = parseConfig({
  WEBHOOK_SECRET: `whsec_${Buffer.from('memory measure secret, 32 bytes!').toString('base64')}`,
  WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
  WEBHOOK_MAX_PENDING: '10000',
  WEBHOOK_MAX_PENDING_PER_CLIENT: '10000',
  MODERATION_MAX_BODY_BYTES: String(4 * 1024 * 1024),
})
const { app } = composeApp({
  config,
  policies: await shippedPolicies(),
  images: createSharpImageProcessor(),
  classifier: readTextClassifier(config.MODERATION_LOCAL_CLASSIFIER),
  createWebhookTransport: (allowedHosts) => createNodeWebhookTransport({ allowedHosts }),
  logger,
})

// Random pixels do not compress: a 600x600 PNG of them is about 1 MB.
const side = 600
const png = await sharp(randomBytes(side * side * 3), { raw: { width: side, height: side, channels: 3 } }).png().toBuffer()
const image = png.toString('base64')

let submitted = 0
async function submit(jobs: number) {
  for (let i = 0; i < jobs; i++) {
    submitted++
    // The same content every time: the service's caches keyed by content (the local checks'
    // findings) then grow once, and what grows per job is what the job itself keeps.
    const body = JSON.stringify({ text: `upload`, images: [{ data: image }], callback_url: callbackUrl })
    const res = await app.request('/v1/moderate', { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    if (res.status !== 202) throw new Error(`submission answered ${res.status}: ${await res.text()}`)
  }
  await allJudged(submitted)
}

function settled() {
  for (let i = 0; i < 4; i++) gc!()
  const { heapUsed, arrayBuffers, external, rss } = process.memoryUsage()
  return { heapUsed, arrayBuffers, external, rss }
}

await submit(20) // warm-up: code compiled, caches and pools made
const before = settled()
await submit(count)
const after = settled()
const perJob = (key: keyof typeof before) => Math.round((after[key] - before[key]) / count)
console.log(
  JSON.stringify({
    jobs: count,
    image_bytes: png.length,
    per_job: { heap_used: perJob('heapUsed'), array_buffers: perJob('arrayBuffers'), external: perJob('external'), rss: perJob('rss') },
    before,
    after,
  }),
)
process.exit(0)
