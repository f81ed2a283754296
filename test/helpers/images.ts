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

/** An ISO-BMFF file with a HEIC brand: sniffed as HEIC, not decodable by the stock sharp build. */
export function heicLike(): Uint8Array<ArrayBuffer> {
  const ftyp = Buffer.alloc(24)
  ftyp.writeUInt32BE(24, 0)
  ftyp.write('ftyp', 4, 'ascii')
  ftyp.write('heic', 8, 'ascii')
  ftyp.writeUInt32BE(0, 12)
  ftyp.write('mif1', 16, 'ascii')
  ftyp.write('heic', 20, 'ascii')
  const mdat = Buffer.concat([Buffer.from([0, 0, 0, 16]), Buffer.from('mdat', 'ascii'), Buffer.alloc(8, 7)])
  return new Uint8Array(Buffer.concat([ftyp, mdat]))
}

export const toBase64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')
export const toDataUrl = (bytes: Uint8Array, mime: string) => `data:${mime};base64,${toBase64(bytes)}`

/** An animated GIF or WebP whose frames are solid colours, in order. */
export async function makeAnimation(
  format: 'gif' | 'webp',
  colours: { r: number; g: number; b: number }[],
  width = 40,
  height = 30,
): Promise<Uint8Array<ArrayBuffer>> {
  const frames = await Promise.all(colours.map((background) => sharp({ create: { width, height, channels: 3, background } }).png().toBuffer()))
  return new Uint8Array(await sharp(frames, { join: { animated: true } }).toFormat(format).toBuffer())
}
