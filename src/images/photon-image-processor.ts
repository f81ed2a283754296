import { PhotonImage, resize, SamplingFilter } from '@cf-wasm/photon'
import { isAnimated } from '../core/animation.js'
import { MODEL_IMAGE_TYPES, type ImageProcessor, type ImageType, type ProcessedImage } from '../core/images.js'
import { createHeaderImageProcessor } from './header-image-processor.js'

// What the photon (Rust `image` crate) build decodes; AVIF and HEIC/HEIF it does not.
const PHOTON_DECODES: readonly ImageType[] = ['image/png', 'image/jpeg', 'image/webp', 'image/gif']
const JPEG_QUALITY = 85

export interface PhotonImageProcessorOptions {
  /**
   * Larger images are not decoded but passed through unscaled (header-checked, within the byte
   * cap). Measured: photon needs ~15 bytes of WASM memory per pixel to decode (a 12 Mpx photo
   * grew it by 182 MB), and WASM memory never shrinks; 4.2 Mpx stays near 65 MB, inside the
   * Worker's 128 MB.
   */
  maxDecodePixels?: number
}

/**
 * Image work through photon (Rust compiled to WASM), for workerd where sharp cannot run: the
 * header checks of the header processor first (pixel cap before any decoding), then a full
 * decode (proves the file whole), downscale to `maxSide` and re-encode as JPEG. One decode at a
 * time per isolate, so only one decoded image is ever in memory. Animations are judged by their
 * first frame, and say so.
 *
 * @example
 * const images = createPhotonImageProcessor({ maxDecodePixels: 4_200_000 })
 */
export function createPhotonImageProcessor({ maxDecodePixels = 4_200_000 }: PhotonImageProcessorOptions = {}): ImageProcessor {
  const header = createHeaderImageProcessor()
  let turn: Promise<unknown> = Promise.resolve()
  return {
    async process(bytes, type, limits) {
      const checked = await header.process(bytes, type, limits)
      if (checked.kind !== 'undecodable') return checked
      if (!PHOTON_DECODES.includes(type)) return { kind: 'undecodable' }
      if ((checked.width ?? 0) * (checked.height ?? 0) > maxDecodePixels) return checked
      const run = turn.then(() => decodeAndScale(bytes, type, limits.maxSide))
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
