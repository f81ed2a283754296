import { crc32, deflateSync } from 'node:zlib'
import sharp from 'sharp'

type Format = 'png' | 'jpeg' | 'webp' | 'gif' | 'avif'

/** A real image of the given size, drawn by sharp (a gradient-ish noise so it is not trivially compressible). */
export async function makeImage(format: Format, width: number, height: number): Promise<Uint8Array<ArrayBuffer>> {
  const channels = 3
  const raw = Buffer.alloc(width * height * channels)
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 31 + (i >> 7)) & 0xff
  const buffer = await sharp(raw, { raw: { width, height, channels } }).toFormat(format).toBuffer()
  return new Uint8Array(buffer)
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(typeAndData))
  return Buffer.concat([length, typeAndData, crc])
}

/**
 * A PNG whose header claims width x height pixels but which is a few hundred bytes long: a
 * decompression bomb as far as any decoder is concerned.
 */
export function pngBomb(width: number, height: number): Uint8Array<ArrayBuffer> {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr.writeUInt8(8, 8) // bit depth
  ihdr.writeUInt8(2, 9) // truecolour
  return new Uint8Array(
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(Buffer.alloc(1024))),
      chunk('IEND', Buffer.alloc(0)),
    ]),
  )
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}
const u16 = (n: number) => {
  const b = Buffer.alloc(2)
  b.writeUInt16BE(n)
  return b
}
const box = (type: string, ...parts: Buffer[]) => {
  const body = Buffer.concat(parts)
  return Buffer.concat([u32(8 + body.length), Buffer.from(type, 'ascii'), body])
}
const fullBox = (type: string, version: number, ...parts: Buffer[]) => box(type, Buffer.from([version, 0, 0, 0]), ...parts)

/**
 * A HEIC file as far as its header goes (ftyp, meta with hdlr/pitm/iloc/iinf/iprp, an hvcC and
 * an ispe of width x height) with a stub HEVC payload: libheif reads its size, nothing here can
 * decode it, as with a phone photo and the stock sharp build.
 */
export function heicImage(width: number, height: number): Uint8Array<ArrayBuffer> {
  const payload = Buffer.alloc(64, 1)
  const ftyp = box('ftyp', Buffer.from('heic'), u32(0), Buffer.from('mif1'), Buffer.from('heic'))
  const hdlr = fullBox('hdlr', 0, u32(0), Buffer.from('pict'), Buffer.alloc(12), Buffer.from([0]))
  const pitm = fullBox('pitm', 0, u16(1))
  const iinf = fullBox('iinf', 0, u16(1), fullBox('infe', 2, u16(1), u16(0), Buffer.from('hvc1'), Buffer.from([0])))
  const hvcC = box('hvcC', Buffer.from([1, 1, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x5d, 0xf0, 0, 0xfc, 0xfd, 0xf8, 0xf8, 0, 0, 0x0f, 0]))
  const iprp = box('iprp', box('ipco', hvcC, fullBox('ispe', 0, u32(width), u32(height))), fullBox('ipma', 0, u32(1), u16(1), Buffer.from([2, 0x81, 0x02])))
  const meta = (offset: number) =>
    fullBox('meta', 0, hdlr, pitm, fullBox('iloc', 0, Buffer.from([0x44, 0x00]), u16(1), u16(1), u16(0), u16(1), u32(offset), u32(payload.length)), iinf, iprp)
  const offset = ftyp.length + meta(0).length + 8
  return new Uint8Array(Buffer.concat([ftyp, meta(offset), box('mdat', payload)]))
}

/** Only an ftyp box with a HEIC brand and junk: sniffed as HEIC, no readable header. */
export function heicBrandOnly(): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.concat([box('ftyp', Buffer.from('heic'), u32(0), Buffer.from('mif1'), Buffer.from('heic')), Buffer.alloc(32, 7)]))
}

export const toBase64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')
export const toDataUrl = (bytes: Uint8Array, mime: string) => `data:${mime};base64,${toBase64(bytes)}`

/**
 * An animated GIF or WebP whose frames are solid colours, in order. The encoders merge equal
 * consecutive frames; `numbered` keeps every frame in the file by blacking out pixel i of frame i.
 */
export async function makeAnimation(
  format: 'gif' | 'webp',
  colours: { r: number; g: number; b: number }[],
  width = 40,
  height = 30,
  { numbered = false } = {},
): Promise<Uint8Array<ArrayBuffer>> {
  const frames = await Promise.all(
    colours.map(({ r, g, b }, i) => {
      const raw = Buffer.from(Array.from({ length: width * height }, () => [r, g, b]).flat())
      if (numbered) raw.fill(0, i * 3, i * 3 + 3)
      return sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer()
    }),
  )
  return new Uint8Array(await sharp(frames, { join: { animated: true } }).toFormat(format).toBuffer())
}

type Colour = { r: number; g: number; b: number }

/** The zlib stream of a width x height truecolour image in one colour (filter byte 0 per row). */
function solidIdat(width: number, height: number, { r, g, b }: Colour): Buffer {
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => [r, g, b]).flat())])
  return deflateSync(Buffer.concat(Array.from({ length: height }, () => row)))
}

/** A frame of `makeApng`: a colour over a region (the whole canvas unless given), how it is drawn and cleared. */
export interface ApngFrameSpec {
  colour: Colour
  region?: { x: number; y: number; width: number; height: number }
  /** 0 none, 1 clear to transparent, 2 restore the previous canvas. */
  dispose?: number
  /** 0 replace, 1 draw over. */
  blend?: number
}

function fctl(sequence: number, width: number, height: number, { region, dispose = 0, blend = 0 }: ApngFrameSpec): Buffer {
  const data = Buffer.alloc(26)
  data.writeUInt32BE(sequence, 0)
  data.writeUInt32BE(region?.width ?? width, 4)
  data.writeUInt32BE(region?.height ?? height, 8)
  data.writeUInt32BE(region?.x ?? 0, 12)
  data.writeUInt32BE(region?.y ?? 0, 16)
  data.writeUInt16BE(10, 20) // delay 10/100 s
  data.writeUInt16BE(100, 22)
  data.writeUInt8(dispose, 24)
  data.writeUInt8(blend, 25)
  return chunk('fcTL', data)
}

/**
 * An APNG assembled chunk by chunk, each frame one solid colour over the whole canvas. With
 * `defaultImage`, the IDAT is that colour and comes before the first fcTL: the spec's "default
 * image is not part of the animation", shown only by decoders that ignore animation.
 */
export function makeApng(
  frames: (Colour | ApngFrameSpec)[],
  { defaultImage, width = 40, height = 30 }: { defaultImage?: Colour; width?: number; height?: number } = {},
): Uint8Array<ArrayBuffer> {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr.writeUInt8(8, 8)
  ihdr.writeUInt8(2, 9)
  const actl = Buffer.alloc(8)
  actl.writeUInt32BE(frames.length, 0) // num_frames; num_plays 0 = forever
  let sequence = 0
  const chunks: Buffer[] = [chunk('IHDR', ihdr), chunk('acTL', actl)]
  frames.forEach((frame, i) => {
    const spec = 'colour' in frame ? frame : { colour: frame }
    const pixels = solidIdat(spec.region?.width ?? width, spec.region?.height ?? height, spec.colour)
    if (i === 0 && !defaultImage) {
      chunks.push(fctl(sequence++, width, height, spec), chunk('IDAT', pixels))
      return
    }
    if (i === 0) chunks.push(chunk('IDAT', solidIdat(width, height, defaultImage!)))
    chunks.push(fctl(sequence++, width, height, spec))
    const seq = Buffer.alloc(4)
    seq.writeUInt32BE(sequence++)
    chunks.push(chunk('fdAT', Buffer.concat([seq, pixels])))
  })
  return new Uint8Array(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), ...chunks, chunk('IEND', Buffer.alloc(0))]))
}
