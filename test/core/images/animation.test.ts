import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { apngLayout, countFrames, isAnimated } from '../../../src/core/images/animation.js'
import { makeAnimation, makeApng, makeImage } from '../../helpers/images.js'

const red = { r: 255, g: 0, b: 0 }
const blue = { r: 0, g: 0, b: 255 }

describe('isAnimated, from the container alone', () => {
  it('tells animated GIF and WebP from stills', async () => {
    expect(isAnimated(await makeAnimation('gif', [red, blue]), 'image/gif')).toBe(true)
    expect(isAnimated(await makeImage('gif', 20, 10), 'image/gif')).toBe(false)
    expect(isAnimated(await makeAnimation('webp', [red, blue]), 'image/webp')).toBe(true)
    expect(isAnimated(await makeImage('webp', 20, 10), 'image/webp')).toBe(false)
  })

  it('finds a GIF second frame behind extensions and colour tables', async () => {
    const frames = await Promise.all([red, blue, red].map((background) => sharp({ create: { width: 8, height: 8, channels: 3, background } }).png().toBuffer()))
    const gif = new Uint8Array(await sharp(frames, { join: { animated: true } }).gif({ loop: 0, delay: [50, 50, 50] }).toBuffer())
    expect(isAnimated(gif, 'image/gif')).toBe(true)
  })

  it('sees a still PNG as a still, and an APNG with more than one frame as animation', async () => {
    expect(isAnimated(await makeImage('png', 20, 10), 'image/png')).toBe(false)
    expect(isAnimated(makeApng([red, blue]), 'image/png')).toBe(true)
    expect(isAnimated(makeApng([red]), 'image/png')).toBe(false)
  })

  it('sees an APNG whose default image is not a frame as animation, even with one frame', () => {
    const hidden = makeApng([red], { defaultImage: blue })
    expect(isAnimated(hidden, 'image/png')).toBe(true)
    expect(apngLayout(hidden)).toEqual({ frames: 1, defaultImageIsFrame: false })
    expect(apngLayout(makeApng([red, blue]))).toEqual({ frames: 2, defaultImageIsFrame: true })
  })

  it('does not throw on truncated input', () => {
    expect(isAnimated(new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 0]), 'image/gif')).toBe(false)
    expect(isAnimated(new Uint8Array([0x89, 0x50]), 'image/png')).toBe(false)
  })

  it('counts frames of GIF, WebP and APNG', async () => {
    const three = [red, blue, red]
    expect(countFrames(await makeAnimation('gif', three), 'image/gif')).toBe(3)
    expect(countFrames(await makeAnimation('webp', three), 'image/webp')).toBe(3)
    expect(countFrames(await makeImage('png', 4, 4), 'image/png')).toBe(1)
    expect(countFrames(makeApng(three), 'image/png')).toBe(3)
    // Its default image is decoded too, by decoders that ignore animation: it counts for the pixel cap.
    expect(countFrames(makeApng(three, { defaultImage: blue }), 'image/png')).toBe(4)
    expect(countFrames(await makeImage('jpeg', 4, 4), 'image/jpeg')).toBe(1)
  })
})
