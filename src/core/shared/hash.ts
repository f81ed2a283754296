type SyncSha256 = (data: Uint8Array | string) => string

let syncSha256: SyncSha256 | undefined

/**
 * Registers a synchronous SHA-256 for this process (the Node entry passes node:crypto's): an
 * awaited Web Crypto digest costs ~125 us here against ~2.5 us, on the hot path twice a request.
 * Set once at start; the core stays free of Node APIs.
 */
export function useSyncSha256(impl: SyncSha256): void {
  syncSha256 = impl
}

/** SHA-256 as lower-case hex: the registered synchronous one, or Web Crypto (Node and workerd alike). */
export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  if (syncSha256) return syncSha256(data)
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')
}

/**
 * SHA-256 as lower-case hex, now, when this process registered a synchronous one (Node);
 * undefined otherwise (then use `sha256Hex`). For paths that answer without awaiting anything.
 */
export function sha256HexSync(data: Uint8Array | string): string | undefined {
  return syncSha256?.(data)
}
