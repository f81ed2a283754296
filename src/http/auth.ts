import type { MiddlewareHandler } from 'hono'
import { sha256Hex } from '../core/shared/hash.js'
import { checkWebhookHeaders, verifySignatures, type WebhookKeys } from '../core/webhooks/webhook-signature.js'
import type { AppEnv } from './app-env.js'
import { ApiError } from './errors.js'
import { createInProcessReplayGuard, type ReplayGuard } from './replay-guard.js'

export interface BearerAuthOptions {
  /** Accepted keys; empty means no authentication. */
  keys?: string[]
  /** Also accept the key in this query parameter (Perspective clients send `?key=`). */
  queryParam?: string
  /**
   * Also accept a request signed the Standard Webhooks way (webhook-id, -timestamp, -signature
   * over the raw body) with one of these keys (WEBHOOK_SECRET).
   */
  signed?: {
    keys: Promise<WebhookKeys>
    maxBodyBytes: number
    now?: () => number
    replays?: ReplayGuard
    /**
     * Signed requests whose body is still being read, unverified, at once; beyond, 503. Their
     * signature covers the body, so anyone can send a well-formed header and trickle a body: this
     * keeps such uploads from holding every in-flight place. Unbounded when absent.
     */
    maxUnverified?: number
  }
}

// Standard Webhooks' tolerance: a signed request more than 5 minutes off either way is refused,
// and a webhook-id is remembered for longer than that, so a replay inside the window is caught.
const TOLERANCE_SECONDS = 5 * 60
/** How long a webhook-id is remembered: longer than the tolerance either way. */
export const REPLAY_WINDOW_MS = 2 * TOLERANCE_SECONDS * 1000
const unauthorized = (message: string) => new ApiError('unauthorized', message, { 'WWW-Authenticate': 'Bearer' })

/**
 * Bearer API keys. Keys and the presented token are hashed first, then compared in constant time,
 * so neither the key length nor its prefix leaks through timing.
 *
 * @example
 * app.use('/v1/*', bearerAuth({ keys: config.MODERATION_API_KEYS }))
 */
export function bearerAuth({ keys = [], queryParam, signed }: BearerAuthOptions = {}): MiddlewareHandler<AppEnv> {
  const digests = Promise.all(keys.map((key) => sha256Hex(key)))
  const replays = signed?.replays ?? createInProcessReplayGuard({ ttlMs: REPLAY_WINDOW_MS })
  const now = signed?.now ?? Date.now
  let unverified = 0
  return async function bearerAuthMiddleware(c, next) {
    if (signed && c.req.header('webhook-signature') !== undefined) {
      const headers = { id: c.req.header('webhook-id'), timestamp: c.req.header('webhook-timestamp'), signature: c.req.header('webhook-signature') }
      // Everything but the HMAC is checked before the body is read: a forged header costs nothing.
      const nowSeconds = Math.floor(now() / 1000)
      const checked = checkWebhookHeaders(headers, nowSeconds, TOLERANCE_SECONDS)
      if (!checked.ok) throw unauthorized(`signed request refused: ${checked.problem.message}`)
      if (replays.knows(checked.value.id)) throw unauthorized(`signed request refused: webhook-id ${checked.value.id} was already used`)
      // The signature covers the raw body: read it once, capped, and hand the route the same bytes
      // (never a clone: a tee'd copy buffers what the other branch has not read, and cancelling
      // one branch waits for the other, which held in-flight places for ever; issue 12).
      if (unverified >= (signed.maxUnverified ?? Number.POSITIVE_INFINITY)) {
        throw new ApiError('service_unavailable', `${unverified} signed requests are being read and checked already; retry shortly`, { 'Retry-After': '1' })
      }
      unverified++
      let body: Uint8Array | undefined
      try {
        body = await readCapped(c.req.raw, signed.maxBodyBytes)
      } finally {
        unverified--
      }
      if (!body) throw new ApiError('payload_too_large', `body exceeds ${signed.maxBodyBytes} bytes`)
      const verified = await verifySignatures(await signed.keys, checked.value, body)
      if (!verified.ok) throw unauthorized(`signed request refused: ${verified.problem.message}`)
      // Claimed once verified (a forged request cannot use an id up), atomically: another request
      // with the same id, here or on another replica, may have been verified meanwhile.
      if (!(await replays.claim(verified.value.id))) throw unauthorized(`signed request refused: webhook-id ${verified.value.id} was already used`)
      const raw = c.req.raw
      c.req.raw = new Request(raw.url, { method: raw.method, headers: raw.headers, body: body as Uint8Array<ArrayBuffer>, signal: raw.signal })
      c.set('clientId', 'signed')
      await next()
      // Refused for a reason the sender retries with the same webhook-id (Standard Webhooks: 429,
      // 5xx): the id is not used up, or the retry would get 401 and the message be lost.
      if (c.res.status === 429 || c.res.status >= 500) await replays.release(verified.value.id)
      return
    }
    c.set('clientId', 'anonymous')
    if (keys.length === 0) return next()
    const token = bearerToken(c.req.header('authorization')) ?? (queryParam ? c.req.query(queryParam) : undefined)
    if (!token) throw new ApiError('unauthorized', 'missing bearer token', { 'WWW-Authenticate': 'Bearer' })
    const presented = await sha256Hex(token)
    c.set('clientId', clientIdOf(presented))
    if (!isKeyDigest(await digests, presented)) throw new ApiError('unauthorized', 'invalid bearer token', { 'WWW-Authenticate': 'Bearer error="invalid_token"' })
    return next()
  }
}

/** Whose trace context (`traceparent`) a request span continues: MODERATION_TRUST_TRACEPARENT. */
export type TraceparentTrust = 'authenticated' | 'always' | 'never'

/**
 * Whether to continue a request's incoming trace context, decided before authentication runs:
 * `authenticated` trusts a request to the API (`/v1/`, `/v1alpha1/`) that presents one of `keys`
 * (bearer header, or on `/v1alpha1/` `?key=` as Perspective clients send it; every request when
 * there are no keys). Not checked, so never hashed (a flood of them costs what it did): requests
 * with no `traceparent`, to pages that take no key, or with a token over MAX_TRUSTED_TOKEN
 * characters (no key is that long in practice; such a caller is still authenticated, just not
 * traced under its own context). A signed request's is not trusted: its signature covers the
 * body, read only later.
 */
export function trustsTraceparent(trust: TraceparentTrust, keys: string[]): (request: Request) => boolean | Promise<boolean> {
  if (trust === 'always' || (trust === 'authenticated' && keys.length === 0)) return () => true
  if (trust === 'never') return () => false
  const digests = Promise.all(keys.map((key) => sha256Hex(key)))
  const presentsKey = async (token: string) => isKeyDigest(await digests, await sha256Hex(token))
  // Synchronous until a token must be hashed: most requests carry no traceparent.
  return (request) => {
    if (!request.headers.has('traceparent')) return false
    const url = new URL(request.url)
    const perspective = url.pathname.startsWith('/v1alpha1/')
    if (!perspective && !url.pathname.startsWith('/v1/')) return false
    const token = bearerToken(request.headers.get('authorization') ?? undefined) ?? (perspective ? url.searchParams.get('key') ?? undefined : undefined)
    return token !== undefined && token.length <= MAX_TRUSTED_TOKEN && presentsKey(token)
  }
}

/** The longest token whose trace context is trusted (and so hashed before authentication). */
export const MAX_TRUSTED_TOKEN = 512

/** The token of an `Authorization: Bearer <token>` header (linear: the two classes are disjoint). */
export const bearerToken = (header: string | undefined): string | undefined => (header ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined)

/** Who a key holder is in logs and per-client caps: a prefix of the key's digest, never the key. */
export const clientIdOf = (tokenSha256: string) => `key:${tokenSha256.slice(0, 16)}`

/** Whether a presented token's digest is one of the keys' digests; every key is compared, in constant time. */
export function isKeyDigest(keyDigests: string[], presented: string): boolean {
  let accepted = false
  for (const digest of keyDigests) accepted = constantTimeEqual(digest, presented) || accepted
  return accepted
}

function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let difference = 0
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return difference === 0
}

/** The body's bytes, or undefined as soon as they pass `maxBytes`. */
async function readCapped(request: Request, maxBytes: number): Promise<Uint8Array | undefined> {
  if (Number(request.headers.get('content-length') ?? 0) > maxBytes) return undefined
  if (!request.body) return new Uint8Array(0)
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = request.body.getReader()
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    size += chunk.value.length
    if (size > maxBytes) {
      // Not awaited: the answer (413) must not wait on the client's side of the socket.
      reader.cancel().catch(() => {})
      return undefined
    }
    chunks.push(chunk.value)
  }
  const bytes = new Uint8Array(size)
  let at = 0
  for (const chunk of chunks) {
    bytes.set(chunk, at)
    at += chunk.length
  }
  return bytes
}
