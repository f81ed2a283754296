import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { sniffImageType } from '../../../src/core/images/prepare-image.js'
import { useFakeGemini } from '../../helpers/use-fake-gemini.js'
import { heicImage, makeAnimation, makeApng, makeImage, toBase64 } from '../../helpers/images.js'
import { buildService } from '../../helpers/service.js'

const gemini = useFakeGemini()

/** The image the model was sent, decoded from the fake's record. */
async function sentImage(index = 0) {
  const part = gemini.requests.at(-1)?.body.contents[0]?.parts.filter((p) => p.inlineData)[index]
  const bytes = Buffer.from(part?.inlineData?.data ?? '', 'base64')
  return { mimeType: part?.inlineData?.mimeType, bytes, meta: await sharp(bytes).metadata() }
}

describe('image sniffing', () => {
  it('recognises PNG, JPEG, WebP, GIF and AVIF by their bytes, and HEIC by its brand', async () => {
    for (const format of ['png', 'jpeg', 'webp', 'gif', 'avif'] as const) {
      expect((await sniffImageType(await makeImage(format, 8, 8))).type).toBe(`image/${format}`)
    }
    expect((await sniffImageType(heicImage(64, 48))).type).toBe('image/heic')
  })

  it('trusts the bytes over the declared type', async () => {
    const { moderate } = await buildService({ gemini })
    const png = await makeImage('png', 16, 16)
    expect((await moderate({ images: [{ data: toBase64(png), mime_type: 'image/jpeg' }] })).status).toBe(200)
    expect((await sentImage()).mimeType).toBe('image/png')
  })
})

describe('image preparation before the model call', () => {
  it('downscales a large image so its long side is 1024 px', async () => {
    const { moderate } = await buildService({ gemini })
    const big = await makeImage('jpeg', 3000, 1500)
    expect((await moderate({ images: [{ data: toBase64(big) }] })).status).toBe(200)
    const sent = await sentImage()
    expect([sent.meta.width, sent.meta.height]).toEqual([1024, 512])
    expect(sent.bytes.length).toBeLessThan(big.length)
  })

  it('honours a configured long side', async () => {
    const { moderate } = await buildService({ gemini, env: { MODERATION_IMAGE_MAX_SIDE: '256' } })
    expect((await moderate({ images: [{ data: toBase64(await makeImage('png', 300, 600)) }] })).status).toBe(200)
    const sent = await sentImage()
    expect([sent.meta.width, sent.meta.height]).toEqual([128, 256])
  })

  it('sends a small image as it came, byte for byte', async () => {
    const { moderate } = await buildService({ gemini })
    const small = await makeImage('webp', 200, 100)
    expect((await moderate({ images: [{ data: toBase64(small) }] })).status).toBe(200)
    const sent = await sentImage()
    expect(sent.mimeType).toBe('image/webp')
    expect(Buffer.compare(sent.bytes, Buffer.from(small))).toBe(0)
  })

  it('converts GIF and AVIF, which Gemini does not take, to WebP', async () => {
    const { moderate } = await buildService({ gemini })
    for (const format of ['gif', 'avif'] as const) {
      expect((await moderate({ images: [{ data: toBase64(await makeImage(format, 40, 30)) }] })).status).toBe(200)
      const sent = await sentImage()
      expect(sent.mimeType).toBe('image/webp')
      expect([sent.meta.format, sent.meta.width, sent.meta.height]).toEqual(['webp', 40, 30])
    }
  })

  it('caches on the uploaded bytes: the same image again is answered from the cache', async () => {
    const { moderate } = await buildService({ gemini })
    const image = toBase64(await makeImage('png', 2000, 100))
    await moderate({ images: [{ data: image }] })
    const again = (await (await moderate({ images: [{ data: image }] })).json()) as { source: string }
    expect(again.source).toBe('cache')
    expect(gemini.requests).toHaveLength(1)
  })

  it('judges an animation (GIF, WebP, APNG) by a sheet of its frames, not the first frame alone', async () => {
    const red = { r: 255, g: 0, b: 0 }
    const green = { r: 0, g: 255, b: 0 }
    const blue = { r: 0, g: 0, b: 255 }
    for (const format of ['gif', 'webp', 'apng'] as const) {
      const { moderate } = await buildService({ gemini })
      const animation = format === 'apng' ? makeApng([red, green, blue]) : await makeAnimation(format, [red, green, blue])
      expect((await moderate({ images: [{ data: toBase64(animation) }] })).status).toBe(200)
      const sent = await sentImage()
      expect(sent.mimeType).toBe('image/webp')
      expect(sent.meta.pages ?? 1).toBe(1)
      // Three frames on a 2x2 sheet: red, green / blue, (empty).
      const { data, info } = await sharp(sent.bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true })
      const pixel = (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3))
      const [w, h] = [info.width / 2, info.height / 2]
      const dominant = (x: number, y: number) => pixel(x, y).indexOf(Math.max(...pixel(x, y)))
      expect([dominant(w / 2, h / 2), dominant(w * 1.5, h / 2), dominant(w / 2, h * 1.5)]).toEqual([0, 1, 2])
    }
  })

  it('counts every frame against the pixel limit', async () => {
    const { moderate } = await buildService({ gemini, env: { MODERATION_MAX_IMAGE_PIXELS: '3000' } })
    const frames = Array.from({ length: 3 }, (_, i) => ({ r: i * 80, g: 0, b: 0 }))
    const res = await moderate({ images: [{ data: toBase64(await makeAnimation('gif', frames)) }] })
    expect(res.status).toBe(422)
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/40x30 pixels x 3 frames; the limit is 3000 pixels/)
    // An APNG's frames, and its default image when that is not one of them, which libvips decodes.
    const apng = await moderate({ images: [{ data: toBase64(makeApng(frames.slice(0, 2), { defaultImage: frames[2] })) }] })
    expect(((await apng.json()) as { error: { message: string } }).error.message).toMatch(/40x30 pixels x 3 frames/)
  })
})
