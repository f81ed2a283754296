import type { ModelImage } from '../shared/model.js'
import type { Checked } from '../shared/problem.js'

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

export interface ModerationImage extends ModelImage {
  /** SHA-256 of the bytes as uploaded, before any downscaling. */
  sha256: string
  /** Only the first frame of an animation reaches the model: the verdict cannot be "safe". */
  firstFrameOnly?: boolean
  /** Frames of an animation the model is not shown: the verdict cannot be "safe" either. */
  unjudgedFrames?: FrameRange[]
}
