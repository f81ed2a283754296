import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { prepareImage } from '../../src/core/images/prepare-image.js'
import { createHeaderImageProcessor } from '../../src/images/header-image-processor.js'
import { createPhotonImageProcessor } from '../../src/images/photon-image-processor.js'
import { heicImage, makeAnimation, makeImage, pngBomb } from '../helpers/images.js'

// The edge's image processor (photon, WASM), run here through its Node build.
const processor = createPhotonImageProcessor()
const limits = { maxBytes: 7 * 1024 * 1024, maxPixels: 50_000_000, maxSide: 1024 }
/** prepareImage for one upload; these processors never give up on an image ('late'), so that fails the test. */
async function prepareWith(bytes: Uint8Array, imageLimits: Parameters<typeof prepareImage>[1], imageProcessor: Parameters<typeof prepareImage>[2]) {
  const result = await prepareImage({ bytes, label: 'images[0]' }, imageLimits, imageProcessor)
  if (result === 'late') throw new Error('prepareImage gave up on the image')
  return result
}
const prepare = (bytes: Uint8Array) => prepareWith(bytes, limits, processor)

describe('photon image processor (the Worker\'s)', () => {
  it('downscales a large image to a 1024 px long side, as JPEG', async () => {
    const result = await prepare(await makeImage('png', 1800, 900))
    expect(result.ok).toBe(true)
    if (!result.ok) return
    const meta = await sharp(result.value.data).metadata()
    expect([result.value.mimeType, meta.format, meta.width, meta.height]).toEqual(['image/jpeg', 'jpeg', 1024, 512])
  })

  it('sends a small image byte for byte after decoding it', async () => {
    const small = await makeImage('jpeg', 300, 200)
    const result = await prepare(small)
    expect(result.ok && Buffer.compare(Buffer.from(result.value.data), Buffer.from(small))).toBe(0)
  })

  it('converts a GIF and marks an animation as judged by its first frame only', async () => {
    const result = await prepare(await makeAnimation('gif', [{ r: 255, g: 0, b: 0 }, { r: 0, g: 0, b: 255 }]))
    expect(result.ok && [result.value.mimeType, result.value.firstFrameOnly]).toEqual(['image/jpeg', true])
    const still = await prepare(await makeImage('gif', 40, 30))
    expect(still.ok && [still.value.mimeType, still.value.firstFrameOnly]).toEqual(['image/jpeg', undefined])
  })

  it('refuses a corrupt or truncated image with the same problem as on Node', async () => {
    const jpeg = await makeImage('jpeg', 256, 256)
    const result = await prepare(jpeg.slice(0, jpeg.length / 2))
    expect(result).toMatchObject({ ok: false, problem: { code: 'unprocessable_content', message: expect.stringMatching(/corrupt image\/jpeg/) } })
  })

  it('passes an image through instead of decoding it past the budget', async () => {
    const photo = await makeImage('jpeg', 1400, 1000) // 1.4 Mpx: ~210 ms to decode
    const rushed = await prepareWith(photo, { ...limits, remainingMs: () => 50 }, processor)
    expect(rushed.ok && [rushed.value.mimeType, rushed.value.data.length]).toEqual(['image/jpeg', photo.length])
    const relaxed = await prepareWith(photo, { ...limits, remainingMs: () => 5000 }, processor)
    expect(relaxed.ok && relaxed.value.data.length).toBeLessThan(photo.length)
  })

  it('refuses a decompression bomb from its header', async () => {
    expect(await prepare(pngBomb(60_000, 60_000))).toMatchObject({ ok: false, problem: { message: expect.stringMatching(/60000x60000/) } })
  })

  it('passes an image too large to decode in the edge\'s memory through unscaled', async () => {
    const small = createPhotonImageProcessor({ maxDecodePixels: 1_000_000 })
    const big = await makeImage('jpeg', 1600, 1000)
    const result = await prepareWith(big, limits, small)
    expect(result.ok && [result.value.mimeType, result.value.data.length]).toEqual(['image/jpeg', big.length])
    // A GIF that size cannot go to the model as it is.
    const gif = await prepareWith(await makeImage('gif', 1600, 1000), limits, small)
    expect(gif).toMatchObject({ ok: false, problem: { message: expect.stringMatching(/image\/gif at 1600x1000 cannot be decoded here/) } })
  })

  it('passes a HEIC through on its header, and refuses AVIF, which it cannot decode', async () => {
    const heic = await prepare(heicImage(4032, 3024))
    expect(heic.ok && heic.value.mimeType).toBe('image/heic')
    expect(await prepare(await makeImage('avif', 40, 30))).toMatchObject({ ok: false, problem: { message: expect.stringMatching(/image\/avif cannot be decoded here/) } })
  })

  it('decodes one image at a time and survives a decoder panic', async () => {
    const good = await makeImage('png', 1500, 1500)
    const results = await Promise.all([prepare(good), prepare(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2])), prepare(good)])
    expect(results.map((r) => r.ok)).toEqual([true, false, true])
  })
})

describe('edge pass-through of animations (nothing decoded)', () => {
  const frames = [{ r: 255, g: 0, b: 0 }, { r: 0, g: 0, b: 255 }, { r: 0, g: 255, b: 0 }]

  it('marks an animated WebP passed through over the decode cap as first-frame-only', async () => {
    const tiny = createPhotonImageProcessor({ maxDecodePixels: 100 })
    const result = await prepareWith(await makeAnimation('webp', frames), limits, tiny)
    expect(result.ok && [result.value.mimeType, result.value.firstFrameOnly]).toEqual(['image/webp', true])
  })

  it('header mode: marks an animated WebP, and counts every GIF frame against the pixel cap', async () => {
    const header = createHeaderImageProcessor()
    const webp = await prepareWith(await makeAnimation('webp', frames), limits, header)
    expect(webp.ok && webp.value.firstFrameOnly).toBe(true)
    const gif = await prepareWith(await makeAnimation('gif', frames), { ...limits, maxPixels: 3000 }, header)
    expect(gif).toMatchObject({ ok: false, problem: { message: expect.stringMatching(/40x30 pixels x 3 frames/) } })
  })
})
