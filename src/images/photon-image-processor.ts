import { PhotonImage, resize, SamplingFilter } from '@cf-wasm/photon'
import { isAnimated } from '../core/images/animation.js'
import { MODEL_IMAGE_TYPES, type ImageProcessor, type ImageType, type ProcessedImage } from '../core/images/image-types.js'
import { createHeaderImageProcessor } from './header-image-processor.js'

// What the photon (Rust `image` crate) build decodes; AVIF and HEIC/HEIF it does not.
const PHOTON_DECODES: readonly ImageType[] = ['image/png', 'image/jpeg', 'image/webp', 'image/gif']
const JPEG_QUALITY = 85

export interface PhotonImageProcessorOptions {
  /**
   * Larger images are not decoded but passed through unscaled (header-checked, within the byte
   * cap). Measured (photon's Node build, same WASM): decoding grows WASM memory by 25-79 MB at
   * 2.5 Mpx and 70-114 MB at 4.2 Mpx (a 16-bit PNG the most), 182 MB at 12 Mpx, and WASM memory
   * never shrinks. 2 Mpx keeps an isolate well inside the Worker's 128 MB.
   */
  maxDecodePixels?: number
}

// Measured decode + resize + encode cost, rounded up: ~150 ms per megapixel on this hardware.
const DECODE_MS_PER_PIXEL = 150 / 1_000_000

/**
 * Image work through photon (Rust compiled to WASM), for workerd where sharp cannot run: the
 * header checks of the header processor first (pixel cap before any decoding), then a full
 * decode (proves the file whole), downscale to `maxSide` and re-encode as JPEG. One decode at a
 * time per isolate, so only one decoded image is ever in memory; none when the budget has no
 * room for it. Animations are judged by their
 * first frame, and say so.
 *
 * @example
 * const images = createPhotonImageProcessor({ maxDecodePixels: 2_000_000 })
 */
export function createPhotonImageProcessor({ maxDecodePixels = 2_000_000 }: PhotonImageProcessorOptions = {}): ImageProcessor {
  const header = createHeaderImageProcessor()
  let turn: Promise<unknown> = Promise.resolve()
  return {
    async process(bytes, type, limits) {
      const checked = await header.process(bytes, type, limits)
      if (checked.kind !== 'undecodable') return checked
      if (!PHOTON_DECODES.includes(type)) return { kind: 'undecodable' }
      if ((checked.width ?? 0) * (checked.height ?? 0) > maxDecodePixels) return checked
      const pixels = (checked.width ?? 0) * (checked.height ?? 0)
      const run = turn.then((): ProcessedImage => {
        // Decoding blocks the isolate: no timer can fire until it ends. Past the budget, a type
        // the model takes is sent as it is instead (GIF must be decoded whatever it costs).
        const late = limits.remainingMs !== undefined && pixels * DECODE_MS_PER_PIXEL > limits.remainingMs()
        if (late && MODEL_IMAGE_TYPES.includes(type)) return checked
        return decodeAndScale(bytes, type, limits.maxSide)
      })
      turn = run.catch(() => {})
      return run
    },
  }
}

function decodeAndScale(bytes: Uint8Array, type: ImageType, maxSide: number): ProcessedImage {
  let image: PhotonImage
  try {
    image = PhotonImage.new_from_byteslice(bytes)
  } catch {
    // Decoder panics surface as a WASM trap without a message.
    return { kind: 'corrupt', detail: 'the decoder could not read it' }
  }
  try {
    const width = image.get_width()
    const height = image.get_height()
    const firstFrameOnly = isAnimated(bytes, type)
    const oversize = Math.max(width, height) > maxSide
    if (!oversize && MODEL_IMAGE_TYPES.includes(type)) {
      return { kind: 'ready', data: bytes, mimeType: type, width, height, resized: false, firstFrameOnly }
    }
    const scale = Math.min(1, maxSide / Math.max(width, height))
    const [outWidth, outHeight] = [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))]
    const scaled = oversize ? resize(image, outWidth, outHeight, SamplingFilter.Triangle) : image
    try {
      const data = scaled.get_bytes_jpeg(JPEG_QUALITY)
      return { kind: 'ready', data, mimeType: 'image/jpeg', width: outWidth, height: outHeight, resized: oversize, firstFrameOnly }
    } finally {
      if (scaled !== image) scaled.free()
    }
  } finally {
    image.free()
  }
}
