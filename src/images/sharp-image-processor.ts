import sharp, { type Metadata } from 'sharp'
import { countFrames } from '../core/animation.js'
import { MODEL_IMAGE_TYPES, type ImageProcessor, type ImageType, type ProcessedImage } from '../core/images.js'
import { apngCells, splitApng } from './apng-frames.js'
import { cellSide, centredInCell, frameSheet, MAX_DECODED_FRAMES } from './frame-sheet.js'

const SHARP_DECODES: Record<ImageType, boolean> = {
  'image/png': true,
  'image/jpeg': true,
  'image/webp': true,
  'image/gif': true,
  'image/avif': true,
  // The prebuilt libvips reads HEIF containers but carries no HEVC decoder.
  'image/heic': false,
  'image/heif': false,
}

/**
 * Image work on Node through sharp (libvips): header-only pixel check, full decode, downscale,
 * and for an animation (GIF, WebP, APNG) one sheet with a cell for every distinct frame.
 *
 * @example
 * const images = createSharpImageProcessor()
 */
export function createSharpImageProcessor(): ImageProcessor {
  // Each image is decoded once; libvips' operation cache would only hold memory.
  sharp.cache(false)
  return {
    async process(bytes, type, { maxSide, maxPixels }) {
      let meta: Metadata
      try {
        // metadata() parses the header only: a decompression bomb is measured, not decoded.
        meta = await sharp(bytes, { limitInputPixels: false }).metadata()
      } catch (error) {
        // Even a format we cannot decode must show a readable header: size, and that it is an image.
        return { kind: 'corrupt', detail: firstLine(error) }
      }
      const { width, height } = meta
      // libvips reads only an APNG's default image (no pages): its frames are counted from the chunks.
      const frames = type === 'image/png' ? countFrames(bytes, type) : Math.max(1, meta.pages ?? 1)
      if (!width || !height) return { kind: 'corrupt', detail: 'no dimensions in header' }
      if (width * height * frames > maxPixels) return { kind: 'too_many_pixels', width, height, frames }

      try {
        if (frames > 1) return await animationSheet(bytes, type, frames, maxSide, maxPixels)
        const resize = Math.max(width, height) > maxSide
        const image = sharp(bytes, { limitInputPixels: maxPixels, failOn: 'warning' })
        if (!resize && MODEL_IMAGE_TYPES.includes(type)) {
          await image.stats() // decodes every pixel: a truncated or corrupt file fails here
          return { kind: 'ready', data: bytes, mimeType: type, width, height, resized: false }
        }
        const { data, info } = await image
          .rotate()
          .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
          .webp({ quality: 85 })
          .toBuffer({ resolveWithObject: true })
        return { kind: 'ready', data: asBytes(data), mimeType: 'image/webp', width: info.width, height: info.height, resized: resize }
      } catch (error) {
        return SHARP_DECODES[type] ? { kind: 'corrupt', detail: firstLine(error) } : { kind: 'undecodable' }
      }
    },
  }
}

/** Every frame (as a browser composes it) fitted into a cell, the cells laid out on one sheet. */
async function animationSheet(bytes: Uint8Array, type: ImageType, frames: number, maxSide: number, maxPixels: number): Promise<ProcessedImage> {
  let cells: Uint8Array[]
  let side: number
  if (type === 'image/png') {
    const apng = splitApng(bytes)
    if (!apng) return { kind: 'corrupt', detail: 'an animated PNG whose frames cannot be read' }
    frames = apng.frames.length
    side = cellSide(frames, maxSide)
    cells = await apngCells({ ...apng, frames: apng.frames.slice(0, MAX_DECODED_FRAMES) }, side, maxPixels)
  } else {
    // One pass over all pages: libvips composes each GIF/WebP frame on the previous ones, so
    // decoding page n alone would decode pages 0..n again.
    side = cellSide(frames, maxSide)
    // 'contain' on a multi-page image costs ~20x 'inside' in libvips (2.6 s against 0.27 s of CPU
    // for 100 frames of 480x270): frames are scaled here and centred on their cells below.
    const { data, info } = await sharp(bytes, { pages: Math.min(frames, MAX_DECODED_FRAMES), limitInputPixels: maxPixels, failOn: 'warning' })
      .resize({ width: side, height: side, fit: 'inside' })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true })
    const pageHeight = info.pageHeight ?? info.height
    const size = info.width * pageHeight * 3
    cells = Array.from({ length: Math.floor(data.length / size) }, (_, i) => centredInCell(asBytes(data).subarray(i * size, (i + 1) * size), info.width, pageHeight, side))
    if (cells.length === 0) return { kind: 'corrupt', detail: 'an animation without frames' }
  }
  const sheet = await frameSheet(cells, side, frames)
  return { kind: 'ready', data: sheet.data, mimeType: 'image/webp', width: sheet.width, height: sheet.height, resized: true, unjudgedFrames: sheet.unjudged }
}

const asBytes = (buffer: Buffer) => new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
const firstLine = (error: unknown) => String((error as Error)?.message ?? error).split('\n')[0]?.slice(0, 160) ?? 'unreadable'
