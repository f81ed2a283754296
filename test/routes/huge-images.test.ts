import sharp from 'sharp'
import { beforeAll, describe, expect, it } from 'vitest'
import type { ImageProcessor } from '../../src/core/images/image-types.js'
import { createDecodePool } from '../../src/images/decode-pool.js'
import { createSharpImageProcessor } from '../../src/images/sharp-image-processor.js'
import { makeImage, toBase64 } from '../helpers/images.js'
import { buildService } from '../helpers/service.js'
import { useFakeGemini } from '../helpers/use-fake-gemini.js'

const gemini = useFakeGemini()

type Reply = { status: number; body: { source?: string; safe?: boolean; fallback_reason?: string; error?: { code: string; message: string } }; ms: number }

// A 6000x6000 16-bit PNG, flat so it is small (2 MB) and quick to make, yet ~0.8 s of decoding here.
let huge: string
let small: string
let corrupt: string
beforeAll(async () => {
  const png = await sharp({ create: { width: 6000, height: 6000, channels: 3, background: { r: 120, g: 30, b: 200 } } })
    .toColourspace('rgb16')
    .png({ compressionLevel: 1 })
    .toBuffer()
  huge = png.toString('base64')
  small = toBase64(await makeImage('png', 64, 64))
  const broken = await makeImage('png', 64, 64)
  broken.fill(0x41, 40, broken.length - 20) // signature and IHDR intact, pixel data wrecked
  corrupt = toBase64(broken)
}, 30_000)

/**
 * The service with a decode pool of one large lane (as on this 2-core machine), a way to post
 * timed requests, and `processed(n)`: resolves once the processor has settled n images.
 */
async function serviceWithPool() {
  const pool = createDecodePool({ maxDecodes: 1, maxPixels: 100_000_000 })
  const sharpImages = createSharpImageProcessor({ pool })
  let settled = 0
  const waiters: { count: number; resolve: () => void }[] = []
  const images: ImageProcessor = {
    async process(...args) {
      try {
        return await sharpImages.process(...args)
      } finally {
        settled++
        for (const waiter of waiters) if (settled >= waiter.count) waiter.resolve()
      }
    },
  }
  const processed = (count: number) => new Promise<void>((resolve) => (settled >= count ? resolve() : waiters.push({ count, resolve })))
  const { app } = await buildService({ gemini, images })
  const post = async (uploads: string[], budgetMs: number): Promise<Reply> => {
    const body = JSON.stringify({ images: uploads.map((data) => ({ data })), budget_ms: budgetMs })
    const started = performance.now()
    const res = await app.request('/v1/moderate', { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    return { status: res.status, body: (await res.json()) as Reply['body'], ms: performance.now() - started }
  }
  return { pool, post, processed }
}

const HUGE_BUDGET = 600
const SMALL_BUDGET = 800
// Generous: the test shares 2 cores; bench/huge-images.ts has the real figures.
const MARGIN = 1_500

describe('a backlog of huge images does not hold up the rest (issue 12)', () => {
  it('a 64x64 image sent right after 8 huge ones gets the model\'s verdict within its budget, and a corrupt PNG its 422', async () => {
    const { post } = await serviceWithPool()
    const backlog = Array.from({ length: 4 }, () => post([huge, huge], HUGE_BUDGET))
    const [smallReply, corruptReply] = await Promise.all([post([small], SMALL_BUDGET), post([corrupt], SMALL_BUDGET)])
    expect(smallReply.status).toBe(200)
    expect(smallReply.body.source).toBe('model')
    expect(smallReply.ms).toBeLessThan(SMALL_BUDGET + MARGIN)
    expect(corruptReply.status).toBe(422)
    expect(corruptReply.body.error?.message).toMatch(/corrupt image\/png/)
    for (const reply of await Promise.all(backlog)) {
      expect(reply.status).toBe(200)
      expect([reply.body.source, reply.body.safe]).toEqual(['fallback', false])
      expect(reply.ms).toBeLessThan(HUGE_BUDGET + MARGIN)
    }
  }, 30_000)

  it('once the huge requests are answered, none of their decodes starts, and the next image is served at once', async () => {
    const { pool, post, processed } = await serviceWithPool()
    const replies = await Promise.all(Array.from({ length: 4 }, () => post([huge, huge], HUGE_BUDGET)))
    for (const reply of replies) expect(reply.body.fallback_reason).toBe('timeout')
    const atAnswers = pool.stats()
    // Images still in their header checks when the answers went out reach the pool after them.
    await processed(8)
    const settled = pool.stats()
    expect(settled.started).toBe(atAnswers.started)
    expect(settled.started).toBeLessThanOrEqual(2)
    expect(settled).toMatchObject({ queued: 0, dropped: 8 - settled.started })

    const next = await post([small], SMALL_BUDGET)
    expect([next.status, next.body.source]).toEqual([200, 'model'])
    expect(next.ms).toBeLessThan(SMALL_BUDGET + MARGIN)
    // Only the small image's decode started since.
    expect(pool.stats()).toMatchObject({ started: settled.started + 1, dropped: settled.dropped, queued: 0 })
  }, 30_000)
})
