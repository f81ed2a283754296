import sharp from 'sharp'
import { MODEL_IMAGE_TYPES, type ImageProcessor, type ImageType } from '../core/images.js'

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
 * Image work on Node through sharp (libvips): header-only pixel check, full decode, downscale.
 *
 * @example
 * const images = createSharpImageProcessor()
 */
export function createSharpImageProcessor(): ImageProcessor {
  // Each image is decoded once; libvips' operation cache would only hold memory.
  sharp.cache(false)
  return {
    async process(bytes, type, { maxSide, maxPixels }) {
      let width: number | undefined
      let height: number | undefined
      try {
        // metadata() parses the header only: a decompression bomb is measured, not decoded.
        const meta = await sharp(bytes, { limitInputPixels: false }).metadata()
        width = meta.width
        height = meta.height
      } catch (error) {
        if (!SHARP_DECODES[type]) return { kind: 'undecodable' }
        return { kind: 'corrupt', detail: firstLine(error) }
      }
      if (!width || !height) return SHARP_DECODES[type] ? { kind: 'corrupt', detail: 'no dimensions in header' } : { kind: 'undecodable' }
      if (width * height > maxPixels) return { kind: 'too_many_pixels', width, height }

      const resize = Math.max(width, height) > maxSide
      const convert = !MODEL_IMAGE_TYPES.includes(type)
      try {
        const image = sharp(bytes, { limitInputPixels: maxPixels, failOn: 'warning' })
        if (!resize && !convert) {
          await image.stats() // decodes every pixel: a truncated or corrupt file fails here
          return { kind: 'ready', data: bytes, mimeType: type, width, height, resized: false }
        }
        const { data, info } = await image
          .rotate()
          .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
          .webp({ quality: 85 })
          .toBuffer({ resolveWithObject: true })
        return { kind: 'ready', data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), mimeType: 'image/webp', width: info.width, height: info.height, resized: resize }
      } catch (error) {
        if (!SHARP_DECODES[type]) return { kind: 'undecodable' }
        return { kind: 'corrupt', detail: firstLine(error) }
      }
    },
  }
}

const firstLine = (error: unknown) => String((error as Error)?.message ?? error).split('\n')[0]?.slice(0, 160) ?? 'unreadable'
