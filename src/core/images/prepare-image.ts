/**
 * core/images/: What an image is before a model sees it: its type from its bytes (this file),
 * limits, frames of an animation (animation.ts), and the ports a codec implements (image-types.ts:
 * ImageProcessor, ImageFetcher). Codecs live in src/images/.
 *
 * May import: core/shared.
 */
import { fileTypeFromBuffer } from 'file-type'
import { isAnimated } from './animation.js'
import { sha256Hex } from '../shared/hash.js'
import { ACCEPTED_IMAGE_TYPES, MODEL_IMAGE_TYPES, type ImageLimits, type ImageProcessor, type ImageType, type ModerationImage, type UploadedImage } from './image-types.js'
import { problem, type Checked } from '../shared/problem.js'

const HEIF_FAMILY = new Set(['image/heic', 'image/heif', 'image/heic-sequence', 'image/heif-sequence'])

/** The image type the bytes show, or what they look like instead. */
export async function sniffImageType(bytes: Uint8Array): Promise<{ type?: ImageType; detected?: string }> {
  const found = await fileTypeFromBuffer(bytes)
  if (!found) return {}
  // An APNG is a PNG to every decoder here (its default image).
  const mime = HEIF_FAMILY.has(found.mime) ? found.mime.replace('-sequence', '') : found.mime === 'image/apng' ? 'image/png' : found.mime
  const type = ACCEPTED_IMAGE_TYPES.find((t) => t === mime)
  return { type, detected: found.mime }
}

/**
 * Checks an uploaded image before it costs anything: size, the type its bytes show, pixel count
 * (without decoding), integrity; then downscales it for the model.
 *
 * @example
 * const checked = await prepareImage({ bytes, label: 'images[0]' }, limits, processor)
 *
 * 'late': the processor gave up on it because its request ran out of time or was answered.
 */
export async function prepareImage(upload: UploadedImage, limits: ImageLimits, processor: ImageProcessor): Promise<Checked<ModerationImage> | 'late'> {
  const { bytes, label } = upload
  if (bytes.length === 0) return problem('invalid_request', `${label} is empty`)
  if (bytes.length > limits.maxBytes) {
    return problem('payload_too_large', `${label} is ${bytes.length} bytes; the limit is ${limits.maxBytes}`)
  }
  const { type, detected } = await sniffImageType(bytes)
  if (!type) {
    const what = detected ? `its bytes are ${detected}` : 'its bytes match no known image format'
    return problem('unprocessable_content', `${label} is not a supported image (${what}); send PNG, JPEG, WebP, GIF, HEIC/HEIF or AVIF`)
  }
  const processed = await processor.process(bytes, type, limits)
  const sha256 = await sha256Hex(bytes)
  switch (processed.kind) {
    case 'expired':
      return 'late'
    case 'too_many_pixels': {
      const frames = processed.frames > 1 ? ` x ${processed.frames} frames` : ''
      return problem(
        'unprocessable_content',
        `${label} is ${processed.width}x${processed.height} pixels${frames}; the limit is ${limits.maxPixels} pixels`,
      )
    }
    case 'corrupt':
      return problem('unprocessable_content', `${label} is a corrupt ${type} (${processed.detail})`)
    case 'undecodable':
      if (!MODEL_IMAGE_TYPES.includes(type)) {
        const size = processed.width ? ` at ${processed.width}x${processed.height}` : ''
        return problem('unprocessable_content', `${label}: ${type}${size} cannot be decoded here, and the model does not take it as it is`)
      }
      // Passed through as uploaded: whether the model looks past an animation's first frame is
      // not ours to promise, so the verdict may not call it safe.
      return { ok: true, value: { mimeType: type, data: bytes, sha256, ...(isAnimated(bytes, type) ? { firstFrameOnly: true } : {}) } }
    case 'ready': {
      const { mimeType, data, firstFrameOnly, unjudgedFrames } = processed
      return { ok: true, value: { mimeType, data, sha256, ...(firstFrameOnly ? { firstFrameOnly } : {}), ...(unjudgedFrames?.length ? { unjudgedFrames } : {}) } }
    }
  }
}
