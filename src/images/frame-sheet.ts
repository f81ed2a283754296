import sharp from 'sharp'
import type { FrameRange } from '../core/images/image-types.js'

/**
 * At most this many cells on an animation's sheet (5x5: 204 px cells at a 1024 px long side).
 * Past it the model would see thumbnails too small to judge; the frames left off are reported.
 */
export const MAX_SHEET_CELLS = 25

/**
 * Frames decoded at most, whatever the pixel cap allows (a tiny GIF can hold 100 000 frames):
 * their cells take at most 200 x 204 x 204 x 3 = 25 MB. The frames after them are unjudged.
 */
export const MAX_DECODED_FRAMES = 200

/** The side of one square cell, for an animation of `frames` images laid out within `maxSide`. */
export function cellSide(frames: number, maxSide: number): number {
  return Math.max(1, Math.floor(maxSide / gridColumns(Math.min(frames, MAX_SHEET_CELLS))))
}

export interface FrameSheet {
  data: Uint8Array
  width: number
  height: number
  /** Frames (0-based, in file order) that are on no cell; empty when every frame is judged. */
  unjudged: FrameRange[]
}

/**
 * Lays out cells (raw RGB, `side` x `side`, one per frame in order, the first of `frames`) as one
 * WebP sheet, row by row. Consecutive cells that are byte for byte equal show the model the same
 * thing, so they share one cell; past `MAX_SHEET_CELLS` distinct cells, an even spread is shown.
 * Frames on no cell (and those never decoded) are returned as unjudged.
 */
export async function frameSheet(cells: Uint8Array[], side: number, frames: number): Promise<FrameSheet> {
  const runs: { first: number; last: number }[] = []
  cells.forEach((cell, i) => {
    const previous = runs.at(-1)
    if (previous && Buffer.compare(cell, cells[previous.first]!) === 0) previous.last = i
    else runs.push({ first: i, last: i })
  })
  const shown = runs.length <= MAX_SHEET_CELLS ? runs : spread(runs, MAX_SHEET_CELLS)
  const columns = gridColumns(shown.length)
  const rows = Math.ceil(shown.length / columns)
  const [width, height] = [columns * side, rows * side]
  const sheet = Buffer.alloc(width * height * 3)
  const rowBytes = side * 3
  shown.forEach((run, i) => {
    const cell = cells[run.first]!
    const [left, top] = [(i % columns) * side, Math.floor(i / columns) * side]
    for (let y = 0; y < side; y++) sheet.set(cell.subarray(y * rowBytes, (y + 1) * rowBytes), ((top + y) * width + left) * 3)
  })
  const data = await sharp(sheet, { raw: { width, height, channels: 3 } }).webp({ quality: 85 }).toBuffer()
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height, unjudged: framesOutside(shown, Math.max(frames, cells.length)) }
}

/** A raw RGB image of at most `side` x `side`, centred on a black `side` x `side` cell. */
export function centredInCell(pixels: Uint8Array, width: number, height: number, side: number): Uint8Array {
  if (width === side && height === side) return pixels
  const cell = new Uint8Array(side * side * 3)
  const [left, top] = [Math.floor((side - width) / 2), Math.floor((side - height) / 2)]
  for (let y = 0; y < height; y++) cell.set(pixels.subarray(y * width * 3, (y + 1) * width * 3), ((top + y) * side + left) * 3)
  return cell
}

const gridColumns = (cells: number) => Math.max(1, Math.ceil(Math.sqrt(cells)))

/** `count` runs spread evenly from the first to the last, so no stretch of the animation goes unseen. */
function spread<T>(runs: T[], count: number): T[] {
  const picked = new Set(Array.from({ length: count }, (_, i) => Math.round((i * (runs.length - 1)) / (count - 1))))
  return runs.filter((_, i) => picked.has(i))
}

function framesOutside(shown: { first: number; last: number }[], frames: number): FrameRange[] {
  const unjudged: FrameRange[] = []
  let next = 0
  for (const run of shown) {
    if (run.first > next) unjudged.push({ first: next, last: run.first - 1 })
    next = run.last + 1
  }
  if (next < frames) unjudged.push({ first: next, last: frames - 1 })
  return unjudged
}
