import { crc32 } from 'node:zlib'
import sharp from 'sharp'
import { centredInCell } from './frame-sheet.js'

/** One fcTL frame as a standalone PNG, with where and how a browser draws it. */
interface ApngFrame {
  png: Buffer
  x: number
  y: number
  width: number
  height: number
  /** 0 none, 1 clear to transparent, 2 restore what was there before. */
  dispose: number
  /** 0 replace the region, 1 draw over it. */
  blend: number
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
// Chunks before the first IDAT that decoding a frame needs (palette, transparency, colour).
const SHARED = new Set(['PLTE', 'tRNS', 'gAMA', 'cHRM', 'sRGB', 'iCCP', 'sBIT'])

/** An APNG taken apart: its first frames as PNGs, how many there are, and a default image that is no frame. */
export interface SplitApng {
  width: number
  height: number
  /** The first `maxFrames` fcTL frames. */
  frames: ApngFrame[]
  /** How many fcTL frames the file holds. */
  total: number
  /**
   * The default image (IDAT) as a PNG of its own, when it is not a frame: what viewers without
   * APNG support (and thumbnailers reading with libvips) show instead of the animation.
   */
  defaultImage?: Buffer
}

/**
 * Splits an APNG into its fcTL frames, each a PNG of its own that libvips can read (libvips
 * reads only the default image, which need not be a frame). Only the first `maxFrames` are built
 * (each costs a copy and a CRC; 100,000 1x1 frames took 1.6 s), the rest are counted. Chunk
 * headers are trusted only as far as they stay inside the file and the canvas; anything else is
 * `undefined` (corrupt).
 */
export function splitApng(bytes: Uint8Array, maxFrames = Number.POSITIVE_INFINITY): SplitApng | undefined {
  const file = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (file.length < 33 || file.toString('latin1', 12, 16) !== 'IHDR') return undefined
  const ihdr = file.subarray(16, 29)
  const [width, height] = [ihdr.readUInt32BE(0), ihdr.readUInt32BE(4)]
  const shared: Buffer[] = []
  const frames: (Omit<ApngFrame, 'png'> & { data: Buffer[] })[] = []
  const idat: Buffer[] = []
  let total = 0
  let seenData = false
  let defaultIsFrame = false
  for (let at = 33; at + 12 <= file.length; ) {
    const length = file.readUInt32BE(at)
    const type = file.toString('latin1', at + 4, at + 8)
    const data = file.subarray(at + 8, at + 8 + length)
    if (data.length !== length) return undefined
    // Frames past the first `maxFrames` are counted, not kept.
    const current = total <= maxFrames ? frames.at(-1) : undefined
    if (type === 'fcTL' && length >= 26) {
      total++
      if (total <= maxFrames) {
        frames.push({
          width: data.readUInt32BE(4),
          height: data.readUInt32BE(8),
          x: data.readUInt32BE(12),
          y: data.readUInt32BE(16),
          // The spec: a first frame's "previous" is the cleared canvas.
          dispose: frames.length === 0 && data[24] === 2 ? 1 : data[24]!,
          blend: data[25]!,
          data: [],
        })
      }
    } else if (type === 'IDAT') {
      // The default image belongs to the animation only if an fcTL came before it.
      if (!seenData) defaultIsFrame = frames.length > 0
      if (defaultIsFrame) frames[0]?.data.push(data)
      else idat.push(data)
      seenData = true
    } else if (type === 'fdAT' && current && length > 4) current.data.push(data.subarray(4))
    else if (!seenData && SHARED.has(type)) shared.push(file.subarray(at, at + 12 + length))
    else if (type === 'IEND') break
    at += 12 + length
  }
  if (frames.length === 0) return undefined
  const inside = (f: (typeof frames)[number]) => f.width > 0 && f.height > 0 && f.x + f.width <= width && f.y + f.height <= height && f.data.length > 0
  if (!frames.every(inside)) return undefined
  const png = (header: Buffer, data: Buffer[]) => Buffer.concat([SIGNATURE, chunk('IHDR', header), ...shared, chunk('IDAT', Buffer.concat(data)), chunk('IEND', Buffer.alloc(0))])
  return {
    width,
    height,
    total,
    defaultImage: !defaultIsFrame && idat.length > 0 ? png(Buffer.from(ihdr), idat) : undefined,
    frames: frames.map(({ data, ...frame }) => {
      const header = Buffer.from(ihdr)
      header.writeUInt32BE(frame.width, 0)
      header.writeUInt32BE(frame.height, 4)
      return { ...frame, png: png(header, data) }
    }),
  }
}

/** How one image's decodes run: sharp's timeout for each, and whether its request gave up on it. */
export interface DecodeRun {
  timeout: { seconds: number }
  stopped: () => boolean
}

/** Frames of one APNG decoded at once: the image holds one lane of the decode pool, not all of libuv's threads. */
const FRAMES_AT_ONCE = 2

/**
 * What a browser shows at each frame of an APNG, each fitted into a `side` x `side` raw RGB cell.
 * The canvas is kept at cell size (frames are scaled before they are drawn), so memory stays a
 * few hundred KB per frame whatever the APNG's size; decoding and scaling run in sharp's threadpool.
 * Throws when the request stops needing the frames (`run.stopped`): the rest are not decoded.
 */
export async function apngCells(apng: Pick<SplitApng, 'width' | 'height' | 'frames'>, side: number, maxPixels: number, run: DecodeRun): Promise<Uint8Array[]> {
  const scale = side / Math.max(apng.width, apng.height)
  const [canvasWidth, canvasHeight] = [Math.max(1, Math.round(apng.width * scale)), Math.max(1, Math.round(apng.height * scale))]
  const canvas = Buffer.alloc(canvasWidth * canvasHeight * 4)
  const regions = apng.frames.map((frame): Region => {
    const left = Math.min(canvasWidth - 1, Math.floor(frame.x * scale))
    const top = Math.min(canvasHeight - 1, Math.floor(frame.y * scale))
    const width = Math.max(1, Math.min(canvasWidth, Math.ceil((frame.x + frame.width) * scale)) - left)
    const height = Math.max(1, Math.min(canvasHeight, Math.ceil((frame.y + frame.height) * scale)) - top)
    return { left, top, width, height }
  })
  // Decoded and scaled a few at a time (each at most a cell of RGBA); only drawing is in order.
  const scaled = await mapLimited(apng.frames, FRAMES_AT_ONCE, (frame, i) => {
    if (run.stopped()) throw new Error('the request no longer needs this image')
    return sharp(frame.png, { limitInputPixels: maxPixels, failOn: 'warning' })
      .timeout(run.timeout)
      .resize({ width: regions[i]!.width, height: regions[i]!.height, fit: 'fill' })
      .toColourspace('srgb')
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer()
  })
  const cells: Uint8Array[] = []
  for (const [i, frame] of apng.frames.entries()) {
    const region = regions[i]!
    const { width, height } = region
    const pixels = scaled[i]!
    const before = frame.dispose === 2 ? readRegion(canvas, canvasWidth, region) : undefined
    const drawn =
      frame.blend === 1
        ? await sharp(readRegion(canvas, canvasWidth, region), { raw: { width, height, channels: 4 } })
            .composite([{ input: pixels, raw: { width, height, channels: 4 }, blend: 'over' }])
            .raw()
            .toBuffer()
        : pixels
    writeRegion(canvas, canvasWidth, region, drawn)
    cells.push(centredInCell(withoutAlpha(canvas), canvasWidth, canvasHeight, side))
    if (frame.dispose === 1) writeRegion(canvas, canvasWidth, region, Buffer.alloc(width * height * 4))
    else if (before) writeRegion(canvas, canvasWidth, region, before)
  }
  return cells
}

/** `work` over `items` with at most `limit` calls pending; the results in order. The first failure fails all. */
async function mapLimited<T, R>(items: T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      results[i] = await work(items[i]!, i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

/** RGB of RGBA, as sharp's removeAlpha does for GIF and WebP frames. */
function withoutAlpha(rgba: Buffer): Uint8Array {
  const rgb = new Uint8Array((rgba.length / 4) * 3)
  for (let i = 0, o = 0; i < rgba.length; i += 4, o += 3) {
    rgb[o] = rgba[i]!
    rgb[o + 1] = rgba[i + 1]!
    rgb[o + 2] = rgba[i + 2]!
  }
  return rgb
}

type Region = { left: number; top: number; width: number; height: number }

function readRegion(canvas: Buffer, canvasWidth: number, { left, top, width, height }: Region): Buffer {
  const out = Buffer.alloc(width * height * 4)
  for (let y = 0; y < height; y++) canvas.copy(out, y * width * 4, ((top + y) * canvasWidth + left) * 4, ((top + y) * canvasWidth + left + width) * 4)
  return out
}

function writeRegion(canvas: Buffer, canvasWidth: number, { left, top, width, height }: Region, pixels: Buffer): void {
  for (let y = 0; y < height; y++) pixels.copy(canvas, ((top + y) * canvasWidth + left) * 4, y * width * 4, (y + 1) * width * 4)
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.length, 0)
  head.write(type, 4, 'latin1')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])))
  return Buffer.concat([head, data, crc])
}
