/**
 * images/: Image codecs behind core/images' ports: sharp on Node (this file, with its decode pool,
 * frame sheets and APNG frames), photon and header-only at the edge, and the guarded image
 * fetcher.
 *
 * May import: net, config, core/images, core/shared.
 */
import { availableParallelism } from 'node:os'
import sharp, { type Metadata } from 'sharp'
import { countFrames } from '../core/images/animation.js'
import { MODEL_IMAGE_TYPES, type ImageProcessor, type ImageType, type ProcessedImage, type ProcessLimits } from '../core/images/image-types.js'
import { apngCells, splitApng, type DecodeRun } from './apng-frames.js'
import type { Config } from '../config/config.js'
import { createDecodePool, type DecodePool, type DecodePoolOptions } from './decode-pool.js'
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

export interface SharpImageProcessorOptions {
  /** Where decodes wait for a lane; one pool per process, shared by every request. */
  pool?: DecodePool
}

/**
 * Decodes running at once by default: each takes sharp.concurrency() cores, and one core is left
 * to the event loop (two decodes on two cores starved it: a 64x64 image behind a backlog of huge
 * ones waited 1.5 s, one decode served it in 0.3 s); at most UV_THREADPOOL_SIZE (4) - 2, as
 * libuv's threads run them, the small-image lane and everything else (header reads, zlib, DNS).
 */
export function defaultImageDecodes(uvThreads = 4): number {
  return Math.max(1, Math.min(Math.floor((availableParallelism() - 1) / sharp.concurrency()), uvThreads - 2))
}

/**
 * The decode pool's settings from the configuration.
 *
 * @example
 * const pool = createDecodePool(decodePoolOptions(config, Number(process.env.UV_THREADPOOL_SIZE) || undefined))
 */
export function decodePoolOptions(config: Pick<Config, 'MODERATION_IMAGE_DECODES' | 'MODERATION_IMAGE_DECODE_PIXELS' | 'MODERATION_MAX_IMAGE_PIXELS'>, uvThreads?: number): DecodePoolOptions {
  return {
    maxDecodes: config.MODERATION_IMAGE_DECODES ?? defaultImageDecodes(uvThreads),
    // Two of the largest images allowed: one can start while another ends.
    maxPixels: config.MODERATION_IMAGE_DECODE_PIXELS ?? 2 * config.MODERATION_MAX_IMAGE_PIXELS,
  }
}

/**
 * Image work on Node through sharp (libvips): header-only pixel check, full decode, downscale,
 * and for an animation (GIF, WebP, APNG) one sheet with a cell for every distinct frame. Header
 * reads run at once; decodes wait for a lane in the pool, and are dropped if their request stops
 * needing them first.
 *
 * @example
 * const images = createSharpImageProcessor({ pool: createDecodePool({ maxDecodes: 2, maxPixels: 100_000_000 }) })
 */
export function createSharpImageProcessor({ pool = createDecodePool({ maxDecodes: defaultImageDecodes(), maxPixels: 100_000_000 }) }: SharpImageProcessorOptions = {}): ImageProcessor {
  // Each image is decoded once; libvips' operation cache would only hold memory.
  sharp.cache(false)
  return {
    async process(bytes, type, limits) {
      const { maxPixels, remainingMs, signal } = limits
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

      const job = { pixels: width * height * Math.min(frames, MAX_DECODED_FRAMES), remainingMs, signal }
      const decoded = await pool.run(job, () => decode(bytes, type, { width, height, frames }, limits))
      return decoded.kind === 'done' ? decoded.value : { kind: 'expired' }
    },
  }
}

/** The pixels of a sound header decoded, within the request's time: the work the pool admits. */
async function decode(bytes: Uint8Array, type: ImageType, { width, height, frames }: { width: number; height: number; frames: number }, limits: ProcessLimits): Promise<ProcessedImage> {
  const { maxSide, maxPixels, remainingMs, signal } = limits
  // libvips cannot be told to stop, but sharp's timeout makes it give up (whole seconds, from
  // when it opens the image): a decode started just in time ends at most a second after the budget.
  const timeout = { seconds: remainingMs ? Math.min(3600, Math.max(1, Math.ceil(remainingMs() / 1000))) : 0 }
  const stopped = () => signal?.aborted === true || (remainingMs !== undefined && remainingMs() <= 0)
  try {
    if (frames > 1) return await animationSheet(bytes, type, frames, maxSide, maxPixels, { timeout, stopped })
    const resize = Math.max(width, height) > maxSide
    const image = sharp(bytes, { limitInputPixels: maxPixels, failOn: 'warning' }).timeout(timeout)
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
    // Cut off by the timeout, or a frame not started: not proof that the file is corrupt.
    if (stopped()) return { kind: 'expired' }
    return SHARP_DECODES[type] ? { kind: 'corrupt', detail: firstLine(error) } : { kind: 'undecodable' }
  }
}

/** Every frame (as a browser composes it) fitted into a cell, the cells laid out on one sheet. */
async function animationSheet(bytes: Uint8Array, type: ImageType, frames: number, maxSide: number, maxPixels: number, run: DecodeRun): Promise<ProcessedImage> {
  let cells: Uint8Array[]
  let side: number
  if (type === 'image/png') {
    const apng = splitApng(bytes, MAX_DECODED_FRAMES)
    if (!apng) return { kind: 'corrupt', detail: 'an animated PNG whose frames cannot be read' }
    // A default image that is no frame is what viewers without APNG support show: frame 0 here.
    frames = apng.total + (apng.defaultImage ? 1 : 0)
    side = cellSide(frames, maxSide)
    cells = await apngCells(apng, side, maxPixels, run)
    if (apng.defaultImage) cells.unshift(await stillCell(apng.defaultImage, side, maxPixels, run))
  } else {
    // One pass over all pages: libvips composes each GIF/WebP frame on the previous ones, so
    // decoding page n alone would decode pages 0..n again.
    side = cellSide(frames, maxSide)
    // 'contain' on a multi-page image costs ~20x 'inside' in libvips (2.6 s against 0.27 s of CPU
    // for 100 frames of 480x270): frames are scaled here and centred on their cells below.
    const { data, info } = await sharp(bytes, { pages: Math.min(frames, MAX_DECODED_FRAMES), limitInputPixels: maxPixels, failOn: 'warning' })
      .timeout(run.timeout)
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

/** One still image fitted into a `side` x `side` raw RGB cell. */
async function stillCell(png: Buffer, side: number, maxPixels: number, run: DecodeRun): Promise<Uint8Array> {
  const { data, info } = await sharp(png, { limitInputPixels: maxPixels, failOn: 'warning' })
    .timeout(run.timeout)
    .resize({ width: side, height: side, fit: 'inside' })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
  return centredInCell(asBytes(data), info.width, info.height, side)
}

const asBytes = (buffer: Buffer) => new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
const firstLine = (error: unknown) => String((error as Error)?.message ?? error).split('\n')[0]?.slice(0, 160) ?? 'unreadable'
