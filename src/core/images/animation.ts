import type { ImageType } from './image-types.js'

/**
 * How many images a file holds, from its container alone (no decoding): GIF image descriptors,
 * WebP ANMF chunks, an APNG's fcTL frames plus its default image when that is not a frame; 1 for
 * anything else. `stopAt` ends the walk early when the caller only needs to know "more than one".
 */
export function countFrames(bytes: Uint8Array, type: ImageType, stopAt = Number.POSITIVE_INFINITY): number {
  switch (type) {
    case 'image/gif':
      return Math.max(1, gifFrameCount(bytes, stopAt))
    case 'image/webp':
      // RIFF....WEBPVP8X, then the flags byte: bit 1 is "animation".
      if (ascii(bytes, 12, 4) !== 'VP8X' || ((bytes[20] ?? 0) & 0x02) === 0) return 1
      return Math.max(1, webpAnimationFrames(bytes, stopAt))
    case 'image/png': {
      const apng = apngLayout(bytes)
      return apng ? Math.max(1, apng.frames + (apng.defaultImageIsFrame ? 0 : 1)) : 1
    }
    default:
      return 1
  }
}

/**
 * Whether a viewer sees more than the first image of the file: for decoders and pass-throughs
 * that only see that one. An APNG whose default image is not a frame counts even with one frame.
 */
export const isAnimated = (bytes: Uint8Array, type: ImageType) => countFrames(bytes, type, 2) > 1

export interface ApngLayout {
  /** fcTL chunks: the frames a browser shows. */
  frames: number
  /** The APNG spec: the default image (IDAT) is frame 0 only if the first fcTL precedes it. */
  defaultImageIsFrame: boolean
}

/**
 * The animation in a PNG, walking chunk headers only: undefined for a still (no acTL before the
 * first IDAT, which is where the spec requires it and where browsers look).
 */
export function apngLayout(bytes: Uint8Array): ApngLayout | undefined {
  let at = 8
  let animated = false
  let seenData = false
  let frames = 0
  let defaultImageIsFrame = false
  while (at + 8 <= bytes.length) {
    const length = readU32(bytes, at)
    const type = ascii(bytes, at + 4, 4)
    if (type === 'acTL' && !seenData) animated = true
    else if (type === 'IDAT' && !seenData) {
      if (!animated) return undefined
      seenData = true
      defaultImageIsFrame = frames > 0
    } else if (type === 'fcTL') frames++
    else if (type === 'IEND') break
    at += 12 + length
  }
  return animated ? { frames, defaultImageIsFrame } : undefined
}

const readU32 = (bytes: Uint8Array, at: number) => ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0
const readU32le = (bytes: Uint8Array, at: number) => ((bytes[at + 3]! << 24) | (bytes[at + 2]! << 16) | (bytes[at + 1]! << 8) | bytes[at]!) >>> 0

function webpAnimationFrames(bytes: Uint8Array, stopAt: number): number {
  let frames = 0
  let at = 12
  while (at + 8 <= bytes.length && frames < stopAt) {
    if (ascii(bytes, at, 4) === 'ANMF') frames++
    const size = readU32le(bytes, at + 4)
    at += 8 + size + (size & 1)
  }
  return frames
}

const ascii = (bytes: Uint8Array, at: number, length: number) => String.fromCharCode(...bytes.subarray(at, at + length))

function gifFrameCount(bytes: Uint8Array, stopAt: number): number {
  const packed = bytes[10] ?? 0
  let at = 13 + (packed & 0x80 ? 3 * 2 ** ((packed & 0x07) + 1) : 0)
  let frames = 0
  const skipSubBlocks = () => {
    while (at < bytes.length && bytes[at] !== 0) at += (bytes[at] ?? 0) + 1
    at += 1
  }
  while (at < bytes.length && frames < stopAt) {
    const marker = bytes[at]
    if (marker === 0x21) {
      at += 2 // extension introducer and label
      skipSubBlocks()
    } else if (marker === 0x2c) {
      frames++
      const local = bytes[at + 9] ?? 0
      at += 10 + (local & 0x80 ? 3 * 2 ** ((local & 0x07) + 1) : 0)
      at += 1 // LZW minimum code size
      skipSubBlocks()
    } else break // 0x3b trailer, or something we do not understand: stop counting
  }
  return frames
}
