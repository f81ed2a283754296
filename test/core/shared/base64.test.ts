import { describe, expect, it } from 'vitest'
import { decodeBase64, encodeBase64 } from '../../../src/core/shared/base64.js'

describe('base64', () => {
  it('round-trips bytes, including a subarray view', () => {
    const bytes = new Uint8Array(1000).map((_, i) => (i * 7) & 255)
    expect(decodeBase64(encodeBase64(bytes))).toEqual(bytes)
    const view = bytes.subarray(10, 20)
    expect(encodeBase64(view)).toBe(Buffer.from(view).toString('base64'))
  })

  it('accepts URL-safe, unpadded and wrapped base64', () => {
    expect(decodeBase64('-_8')).toEqual(new Uint8Array([0xfb, 0xff]))
    expect(decodeBase64('AQID\nBA==')).toEqual(new Uint8Array([1, 2, 3, 4]))
  })

  it('refuses what is not base64 instead of skipping characters', () => {
    expect(decodeBase64('AQ*D')).toBeUndefined()
    expect(decodeBase64('A')).toBeUndefined()
    expect(decodeBase64('AQ==AQ==')).toBeUndefined()
  })
})
