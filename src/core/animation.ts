import type { ImageType } from './images.js'

/**
 * Whether an image holds more than one frame, from its container alone (no decoding): a GIF
 * with a second image descriptor, a WebP with the VP8X animation flag, a PNG with an acTL chunk.
 * For decoders that only see the first frame.
 */
export function isAnimated(bytes: Uint8Array, type: ImageType): boolean {
  switch (type) {
    case 'image/gif':
      return gifFrameCount(bytes, 2) > 1
    case 'image/webp':
      // RIFF....WEBPVP8X, then the flags byte: bit 1 is "animation".
      return ascii(bytes, 12, 4) === 'VP8X' && ((bytes[20] ?? 0) & 0x02) !== 0
    case 'image/png':
      return hasPngChunkBeforeData(bytes, 'acTL')
    default:
      return false
  }
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

function hasPngChunkBeforeData(bytes: Uint8Array, wanted: string): boolean {
  let at = 8
  while (at + 8 <= bytes.length) {
    const length = ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0
    const type = ascii(bytes, at + 4, 4)
    if (type === wanted) return true
    if (type === 'IDAT') return false
    at += 12 + length
  }
  return false
}
