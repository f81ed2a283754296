// The fastest codec the runtime has: the ES2026 Uint8Array base64 methods where they exist
// (newer workerd), Buffer where it exists (Node; measured on Node 20: 7 MiB encodes in 2 ms
// with Buffer against 480 ms with btoa), btoa/atob otherwise.
interface Base64Bytes {
  toBase64?: () => string
}
interface Base64Constructor {
  fromBase64?: (text: string) => Uint8Array
}
interface BufferLike {
  from(data: ArrayBufferLike, offset: number, length: number): { toString(encoding: 'base64'): string }
  from(text: string, encoding: 'base64'): Uint8Array
}
const NodeBuffer = (globalThis as { Buffer?: BufferLike }).Buffer
const CHUNK = 0x8000
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

export function encodeBase64(bytes: Uint8Array): string {
  const native = (bytes as Base64Bytes).toBase64
  if (native) return native.call(bytes)
  if (NodeBuffer) return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
  let binary = ''
  for (let i = 0; i < bytes.length; i += CHUNK) binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK))
  return btoa(binary)
}

/** Decodes standard or URL-safe base64, whitespace allowed; returns undefined when it is not base64. */
export function decodeBase64(text: string): Uint8Array | undefined {
  const cleaned = text.replace(/\s+/g, '').replace(/-/g, '+').replace(/_/g, '/')
  // Validate first: Buffer would skip characters that are not base64 instead of refusing them.
  if (!BASE64.test(cleaned) || cleaned.length % 4 === 1) return undefined
  const native = (Uint8Array as Base64Constructor).fromBase64
  try {
    if (native) return native(cleaned.padEnd(Math.ceil(cleaned.length / 4) * 4, '='))
    if (NodeBuffer) {
      const decoded = NodeBuffer.from(cleaned, 'base64')
      return new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength)
    }
    const binary = atob(cleaned)
    const bytes = new Uint8Array(binary.length)
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
    return bytes
  } catch {
    return undefined
  }
}

const DATA_URL = /^data:([^;,]*)((?:;[^;,]*)*?);base64,/i

/**
 * A base64 `data:` URL's media type and base64 payload, or undefined when the text is not one
 * (a plain base64 string, or a non-base64 data URL).
 */
export function splitDataUrl(text: string): { mediaType?: string; base64: string } | undefined {
  const match = DATA_URL.exec(text)
  return match ? { mediaType: match[1] || undefined, base64: text.slice(match[0].length) } : undefined
}
