import { decodeBase64, encodeBase64 } from '../shared/base64.js'
import { problem, type Checked } from '../shared/problem.js'

/**
 * Standard Webhooks v1 signatures (the scheme Svix and others use): HMAC-SHA256 over
 * `${id}.${timestamp}.${body}` with the secret's base64 bytes (after `whsec_`), sent as
 * `v1,<base64>`; several space-separated signatures while a secret is being rotated. Web Crypto
 * only, so Node and Workers share it.
 */
export type WebhookKeys = CryptoKey[]

export async function importWebhookSecrets(secrets: string[]): Promise<WebhookKeys> {
  return Promise.all(
    secrets.map(async (secret) => {
      const bytes = decodeBase64(secret.replace(/^whsec_/, ''))
      if (!bytes || bytes.length === 0) throw new Error('a webhook secret is whsec_ followed by base64')
      return crypto.subtle.importKey('raw', bytes as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify'])
    }),
  )
}

const encoder = new TextEncoder()
/** `${id}.${timestamp}.${body}` as bytes; a byte body is used as it is (no UTF-8 round trip). */
function content(id: string, timestamp: number, body: string | Uint8Array): Uint8Array<ArrayBuffer> {
  if (typeof body === 'string') return encoder.encode(`${id}.${timestamp}.${body}`)
  const prefix = encoder.encode(`${id}.${timestamp}.`)
  const bytes = new Uint8Array(prefix.length + body.length)
  bytes.set(prefix)
  bytes.set(body, prefix.length)
  return bytes
}

/** The `webhook-signature` header value: one `v1,` signature per key, current key first. */
export async function signWebhook(keys: WebhookKeys, id: string, timestamp: number, body: string): Promise<string> {
  const signatures = await Promise.all(keys.map(async (key) => encodeBase64(new Uint8Array(await crypto.subtle.sign('HMAC', key, content(id, timestamp, body))))))
  return signatures.map((signature) => `v1,${signature}`).join(' ')
}

export interface WebhookHeaders {
  id?: string
  timestamp?: string
  signature?: string
}

/**
 * Checks a signed request: a timestamp within `toleranceSeconds` either way of `nowSeconds`, and
 * a `v1` signature made with one of the keys over the exact raw body (compared in constant time
 * by Web Crypto's verify).
 */
export async function verifyWebhook(
  keys: WebhookKeys,
  headers: WebhookHeaders,
  body: string | Uint8Array,
  nowSeconds: number,
  toleranceSeconds = 300,
): Promise<Checked<{ id: string }>> {
  const checked = checkWebhookHeaders(headers, nowSeconds, toleranceSeconds)
  return checked.ok ? verifySignatures(keys, checked.value, body) : checked
}

/** The HMAC part of `verifyWebhook`, on headers `checkWebhookHeaders` already accepted. */
export async function verifySignatures(keys: WebhookKeys, { id, timestamp, signatures }: CheckedHeaders, body: string | Uint8Array): Promise<Checked<{ id: string }>> {
  const data = content(id, timestamp, body)
  for (const signature of signatures) {
    for (const key of keys) {
      if (await crypto.subtle.verify('HMAC', key, signature as Uint8Array<ArrayBuffer>, data)) return { ok: true, value: { id } }
    }
  }
  return problem('invalid_request', 'no valid webhook signature')
}

/** A signed request's headers, parsed: its id, its timestamp in seconds, its well-formed `v1` signatures. */
export interface CheckedHeaders {
  id: string
  timestamp: number
  signatures: Uint8Array[]
}

// An HMAC-SHA256 is 32 bytes; a header can carry a few while keys rotate, not hundreds.
const SIGNATURE_BYTES = 32
const MAX_SIGNATURES = 8

/**
 * What can be checked of a signed request before its body is read: all three headers, a
 * timestamp inside the tolerance, and at least one well-formed `v1` signature. A request that
 * fails here is refused without reading (or buffering) its body.
 */
export function checkWebhookHeaders(
  { id, timestamp, signature }: WebhookHeaders,
  nowSeconds: number,
  toleranceSeconds = 300,
): Checked<CheckedHeaders> {
  if (!id || !timestamp || !signature) return problem('invalid_request', 'webhook-id, webhook-timestamp and webhook-signature are all required')
  if (id.length > 256) return problem('invalid_request', 'webhook-id is longer than 256 characters')
  if (!/^\d{1,12}$/.test(timestamp)) return problem('invalid_request', 'webhook-timestamp is not a number of seconds')
  const sent = Number(timestamp)
  if (Math.abs(nowSeconds - sent) > toleranceSeconds) return problem('invalid_request', `webhook-timestamp is more than ${toleranceSeconds} s off`)
  const signatures: Uint8Array[] = []
  for (const candidate of signature.split(' ', MAX_SIGNATURES)) {
    const [version, encoded] = candidate.split(',', 2)
    const bytes = version === 'v1' && encoded ? decodeBase64(encoded) : undefined
    if (bytes?.length === SIGNATURE_BYTES) signatures.push(bytes)
  }
  if (signatures.length === 0) return problem('invalid_request', 'no v1 signature of 32 bytes in webhook-signature')
  return { ok: true, value: { id, timestamp: sent, signatures } }
}
