import { fileTypeFromBuffer } from 'file-type'
import { isAnimated } from './animation.js'
import { sha256Hex } from './hash.js'
import type { ModerationImage } from './moderate.js'
import { problem, type Checked } from './problem.js'

/** Formats we accept, by the type their bytes show. */
export const ACCEPTED_IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif', 'image/heic', 'image/heif', 'image/avif'] as const
export type ImageType = (typeof ACCEPTED_IMAGE_TYPES)[number]
/** What Gemini takes as inline data; others are converted before the call. */
export const MODEL_IMAGE_TYPES: readonly string[] = ['image/png', 'image/jpeg', 'image/webp', 'image/heic', 'image/heif']

export type ProcessedImage =
  | {
      kind: 'ready'
      data: Uint8Array
      mimeType: string
      width: number
      height: number
      resized: boolean
      /** An animation of which only the first frame could be prepared (edge decoders). */
      firstFrameOnly?: boolean
      /** Frames of an animation that are on no cell of its sheet (more than the sheet holds). */
      unjudgedFrames?: FrameRange[]
    }
  | { kind: 'too_many_pixels'; width: number; height: number; frames: number }
  | { kind: 'corrupt'; detail: string }
  /**
   * The header is sound and within limits, but this runtime will not decode the pixels (HEIC with
   * the stock sharp build, a photo too large for the edge's memory): pass it through unscaled.
   */
  | { kind: 'undecodable'; width?: number; height?: number }
  /** Not decoded, or not to the end: its request stopped needing it (out of time, or answered). */
  | { kind: 'expired' }

/** Frames `first` to `last` of an animation, 0-based in file order, both included. */
export interface FrameRange {
  first: number
  last: number
}

/** Image work that needs a codec: sharp on Node, a WASM codec at the edge. */
export interface ImageProcessor {
  /**
   * Reads the header first and refuses more than `maxPixels` (all frames together) without
   * decoding; otherwise decodes (which proves the file is whole), downscales to `maxSide`, converts
   * to a model type if needed, and lays an animation's frames out on one sheet.
   */
  process(bytes: Uint8Array, type: ImageType, limits: ProcessLimits): Promise<ProcessedImage>
}

export interface ProcessLimits {
  maxSide: number
  maxPixels: number
  /**
   * Milliseconds left in the request's budget. A processor whose decoding blocks the thread
   * (WASM) uses it to pass an image through rather than decode past the deadline.
   */
  remainingMs?: () => number
  /**
   * Aborted when the request no longer needs the image: its budget ended, or it was answered (a
   * sibling image failed). Decoding that has not started then never starts.
   */
  signal?: AbortSignal
}

export interface ImageLimits extends ProcessLimits {
  maxBytes: number
}

export interface UploadedImage {
  bytes: Uint8Array
  /** What the caller said the type is; a hint only, the bytes decide. */
  declaredType?: string
  /** Where it came from, for error messages: "images[1]", "file photo.png". */
  label: string
}

/** Fetches an image URL for moderation (off by default): SSRF-guarded, size-capped, abortable. */
export interface ImageFetcher {
  fetch(url: string, options: { maxBytes: number; signal: AbortSignal; label: string }): Promise<Checked<UploadedImage>>
}

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
