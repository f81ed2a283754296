import sharp, { type Metadata } from 'sharp'
import { MODEL_IMAGE_TYPES, type ImageProcessor, type ImageType, type ProcessedImage } from '../core/images.js'

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

// An animation is judged by a 2x2 sheet of frames sampled from start to end.
const SHEET_FRAMES = 4

/**
 * Image work on Node through sharp (libvips): header-only pixel check, full decode, downscale,
 * and a sheet of sampled frames for animations.
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
      const frames = Math.max(1, meta.pages ?? 1)
      if (!width || !height) return { kind: 'corrupt', detail: 'no dimensions in header' }
      if (width * height * frames > maxPixels) return { kind: 'too_many_pixels', width, height, frames }

      try {
        if (frames > 1) return await frameSheet(bytes, frames, maxSide, maxPixels)
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

/** Frames sampled evenly from first to last, each fitted into a cell of a 2x2 (or 1x2) sheet. */
async function frameSheet(bytes: Uint8Array, frames: number, maxSide: number, maxPixels: number): Promise<ProcessedImage> {
  const count = Math.min(frames, SHEET_FRAMES)
  const pages = Array.from({ length: count }, (_, i) => Math.round((i * (frames - 1)) / (count - 1)))
  const columns = 2
  const rows = Math.ceil(count / columns)
  const cell = Math.floor(maxSide / columns)
  const cells = await Promise.all(
    pages.map((page) =>
      sharp(bytes, { page, limitInputPixels: maxPixels, failOn: 'warning' })
        .resize({ width: cell, height: cell, fit: 'contain', background: '#000' })
        .removeAlpha()
        .png()
        .toBuffer(),
    ),
  )
  const sheet = sharp({ create: { width: columns * cell, height: rows * cell, channels: 3, background: '#000' } }).composite(
    cells.map((input, i) => ({ input, left: (i % columns) * cell, top: Math.floor(i / columns) * cell })),
  )
  const { data, info } = await sheet.webp({ quality: 85 }).toBuffer({ resolveWithObject: true })
  return { kind: 'ready', data: asBytes(data), mimeType: 'image/webp', width: info.width, height: info.height, resized: true }
}

const asBytes = (buffer: Buffer) => new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
const firstLine = (error: unknown) => String((error as Error)?.message ?? error).split('\n')[0]?.slice(0, 160) ?? 'unreadable'
