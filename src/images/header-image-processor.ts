import { imageSize } from 'image-size'
import { countFrames } from '../core/images/animation.js'
import type { ImageProcessor } from '../core/images/image-types.js'

/**
 * Image work without a codec, for runtimes where sharp cannot run (workerd): the header is
 * parsed (dimensions, pixel cap, that it is the image it claims to be) and the bytes are passed
 * through unscaled within the byte cap. Pure JavaScript: no pixel is decoded, so a request stays
 * far inside the Worker's 128 MB whatever it uploads.
 *
 * @example
 * const images = createHeaderImageProcessor()
 */
export function createHeaderImageProcessor(): ImageProcessor {
  return {
    async process(bytes, type, { maxPixels }) {
      let width: number | undefined
      let height: number | undefined
      let frames = 1
      try {
        const size = imageSize(bytes)
        width = size.width
        height = size.height
        frames = countFrames(bytes, type)
      } catch (error) {
        return { kind: 'corrupt', detail: String((error as Error).message ?? error).slice(0, 160) }
      }
      if (!width || !height) return { kind: 'corrupt', detail: 'no dimensions in header' }
      if (width * height * frames > maxPixels) return { kind: 'too_many_pixels', width, height, frames }
      return { kind: 'undecodable', width, height }
    },
  }
}
