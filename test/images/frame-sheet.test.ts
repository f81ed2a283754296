import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import type { Verdict } from '../../src/core/shared/verdict.js'
import { createPhotonImageProcessor } from '../../src/images/photon-image-processor.js'
import { MAX_DECODED_FRAMES, MAX_SHEET_CELLS } from '../../src/images/frame-sheet.js'
import { makeAnimation, makeApng, toBase64 } from '../helpers/images.js'
import { redMeansUnsafe } from '../helpers/pixel-judge.js'
import { buildService, roomyPolicies } from '../helpers/service.js'
import { useFakeGemini } from '../helpers/use-fake-gemini.js'

// The fake model decodes what it is sent and calls anything with a red pixel unsafe.
const gemini = useFakeGemini({ defaultReply: redMeansUnsafe })

const red = { r: 255, g: 0, b: 0 }
const white = { r: 255, g: 255, b: 255 }

// A roomy budget (roomyPolicies): these tests are about what the model is shown, not about time
// on a busy CPU; decoding 110 frames on a loaded machine took longer than 800 ms.
async function judge(bytes: Uint8Array, options: Parameters<typeof buildService>[0] = {}): Promise<Verdict> {
  const { moderate } = await buildService({ gemini, policies: await roomyPolicies(), ...options })
  const res = await moderate({ images: [{ data: toBase64(bytes) }], budget_ms: 10_000 })
  expect(res.status).toBe(200)
  return (await res.json()) as Verdict
}

describe('an animation is judged by every frame a viewer sees (Node, sharp)', () => {
  it('an APNG whose default image is white and whose frames are red is judged unsafe by the model', async () => {
    const verdict = await judge(makeApng([red, red], { defaultImage: white }))
    expect(verdict).toMatchObject({ safe: false, source: 'model', categories: ['violence'] })
  })

  it('an APNG with one red frame behind a white default image (acTL says one frame) is judged unsafe', async () => {
    expect(await judge(makeApng([red], { defaultImage: white }))).toMatchObject({ safe: false, source: 'model', categories: ['violence'] })
  })

  it('an APNG whose red default image is no frame, behind white frames, is judged by that default image too (what non-APNG viewers show)', async () => {
    const verdict = await judge(makeApng([white], { defaultImage: red }))
    expect(verdict).toMatchObject({ safe: false, source: 'model', categories: ['violence'] })
  })

  it('an APNG of 100,000 one-pixel frames is answered without building a PNG for each (it stalled the loop 1.6 s)', async () => {
    const { measureStall } = await import('../helpers/event-loop-stall.js')
    const many = makeApng(Array.from({ length: 100_000 }, () => white), { width: 1, height: 1 })
    const { result, stallMs } = await measureStall(() => judge(many))
    expect(result.safe).toBe(false)
    // Judged (most frames named unjudged) or out of time on a busy test machine: never safe.
    if (result.source === 'model') expect(result.signals).toContain('frames_not_judged')
    expect(stallMs).toBeLessThan(1_000)
  })

  it('an APNG whose default image is its white first frame is judged by its later red frame too', async () => {
    expect(await judge(makeApng([white, white, red]))).toMatchObject({ safe: false, source: 'model', categories: ['violence'] })
  })

  it('an APNG frame that draws a small red patch over white, then restores it, is seen as browsers compose it', async () => {
    const patch = { colour: red, region: { x: 20, y: 10, width: 8, height: 8 }, dispose: 2, blend: 1 }
    const verdict = await judge(makeApng([white, patch, { colour: white, region: { x: 0, y: 0, width: 4, height: 4 } }]))
    expect(verdict).toMatchObject({ safe: false, source: 'model', categories: ['violence'] })
  })

  it('a 100-frame GIF and WebP with white frames where the old sampling looked and red ones between are judged unsafe', async () => {
    const colours = Array.from({ length: 100 }, (_, i) => (i % 33 === 0 ? white : red))
    for (const format of ['gif', 'webp'] as const) {
      const verdict = await judge(await makeAnimation(format, colours))
      expect(verdict).toMatchObject({ safe: false, source: 'model', categories: ['violence'] })
      // The encoder merged the equal frames: every one of them fits on the sheet.
      expect(verdict.signals ?? []).not.toContain('frames_not_judged')
    }
  })

  it('an ordinary all-white animation (GIF, WebP, APNG) is still judged safe, with every frame on the sheet', async () => {
    const frames = [white, white, white, white, white].map((c, i) => ({ ...c, b: 255 - i * 40 }))
    for (const bytes of [await makeAnimation('gif', frames), await makeAnimation('webp', frames), makeApng(frames), makeApng(frames, { defaultImage: white })]) {
      const verdict = await judge(bytes)
      expect(verdict).toMatchObject({ safe: true, action: 'allow', source: 'model' })
      expect(verdict.signals).toBeUndefined()
    }
  })

  it('consecutive equal frames share one cell, so a long animation of few scenes is judged whole', async () => {
    // 60 APNG frames (APNG encoders here do not merge them), in three runs: white, red, white.
    const verdict = await judge(makeApng(Array.from({ length: 60 }, (_, i) => (i >= 20 && i < 40 ? red : white))))
    expect(verdict).toMatchObject({ safe: false, categories: ['violence'] })
    expect(verdict.signals ?? []).not.toContain('frames_not_judged')
    const { width, height } = await sharp(Buffer.from(gemini.requests.at(-1)!.body.contents[0]!.parts.find((p) => p.inlineData)!.inlineData!.data, 'base64')).metadata()
    // Three cells of the size a 60-frame grid has (25 cells: 5x5 of 204 px), laid out 2x2.
    expect([width, height]).toEqual([2 * 204, 2 * 204])
  })

  it('more distinct frames than the sheet holds: never safe, at least review, and the frames left off are named', async () => {
    const frames = 40
    const gif = await makeAnimation('gif', Array.from({ length: frames }, (_, i) => (i === 1 ? red : white)), 40, 30, { numbered: true })
    expect((await sharp(gif).metadata()).pages).toBe(frames)
    const verdict = await judge(gif)
    expect(verdict.safe).toBe(false)
    expect(verdict.action).not.toBe('allow')
    expect(verdict.signals).toContain('frames_not_judged')
    const ranges = verdict.unjudged_frames ?? []
    expect(ranges.every((range) => range.image === 0 && range.first <= range.last && range.last < frames)).toBe(true)
    expect(ranges.reduce((sum, range) => sum + range.last - range.first + 1, 0)).toBe(frames - MAX_SHEET_CELLS)
  })

  it('frames past the decoding cap are never decoded, and named as unjudged', async () => {
    const frames = MAX_DECODED_FRAMES + 10
    const verdict = await judge(await makeAnimation('gif', Array.from({ length: frames }, () => white), 40, 30, { numbered: true }))
    expect(verdict).toMatchObject({ safe: false, action: 'review', signals: ['frames_not_judged'] })
    expect(verdict.unjudged_frames?.at(-1)).toMatchObject({ image: 0, last: frames - 1 })
    expect(verdict.unjudged_frames?.at(-1)?.first).toBeLessThanOrEqual(MAX_DECODED_FRAMES)
  })

  it('a 100-frame GIF of distinct red frames with a few white ones: unsafe, and the frames left off are named', async () => {
    const colours = Array.from({ length: 100 }, (_, i) => (i % 33 === 0 ? white : red))
    const verdict = await judge(await makeAnimation('gif', colours, 40, 30, { numbered: true }))
    expect(verdict).toMatchObject({ safe: false, action: 'block', categories: ['violence'] })
    expect(verdict.signals).toContain('frames_not_judged')
  })
})

describe('an animation on the edge decoder (photon: first image only)', () => {
  const images = createPhotonImageProcessor()

  it('an APNG whose default image is not a frame is never safe, even when that image looks clean', async () => {
    for (const bytes of [makeApng([red], { defaultImage: white }), makeApng([red, red], { defaultImage: white }), makeApng([white, red])]) {
      const verdict = await judge(bytes, { images })
      expect(verdict).toMatchObject({ safe: false, action: 'review', source: 'model' })
      expect(verdict.signals).toContain('animation_first_frame_only')
    }
  })

  it('a still PNG is judged as it is', async () => {
    expect(await judge(makeApng([white]), { images })).toMatchObject({ safe: true })
  })
})
