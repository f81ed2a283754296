import { isUtf8 } from 'node:buffer'
import { defaultTextMapGetter, ROOT_CONTEXT, SpanKind, trace, type Context, type Span } from '@opentelemetry/api'
import { Hono } from 'hono'
import { secureHeaders } from 'hono/secure-headers'
import { SECURE_HEADERS } from '../app/app.js'
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import { sha256HexSync } from '../core/shared/hash.js'
import type { Moderator } from '../core/moderation/moderate.js'
import type { PolicyRegistry } from '../core/moderation/policy.js'
import type { Clock, Logger } from '../core/shared/ports.js'
import { writeAccessLog } from '../http/access-log.js'
import { checkJsonShape } from '../http/json-shape.js'
import { bearerToken, clientIdOf, isKeyDigest, type TraceparentTrust } from '../http/auth.js'
import { verdictLogFields, type Limits } from '../http/judge-item.js'
import type { ClientPlaces, InFlightPlaces } from '../http/load-shed.js'
import { finishRequest } from '../http/trace-requests.js'
import type { Telemetry } from '../core/telemetry/telemetry.js'
import { traceLogFields } from '../core/telemetry/trace-context.js'

export interface CacheHitFastPathOptions {
  moderator: Moderator
  policies: PolicyRegistry
  limits: Pick<Limits, 'maxTextChars' | 'maxBudgetMs' | 'maxBodyBytes'>
  /** MODERATION_API_KEYS; empty means no authentication. */
  apiKeys: string[]
  /**
   * MODERATION_TRUST_TRACEPARENT. Every request answered here presented a valid key (or needed
   * none), so only `never` ignores the caller's trace context here.
   */
  trustTraceparent?: TraceparentTrust
  /** The app's own count of requests in flight: a place taken here is one the app cannot give. */
  places: InFlightPlaces
  /** The app's per-client share of them (MODERATION_MAX_IN_FLIGHT_PER_CLIENT), when set: past it, the app answers (429). */
  clientPlaces?: ClientPlaces
  logger: Logger
  clock: Clock
  /** When the request reached the process (the app's estimate, so both doors count alike). */
  arrivedAt: () => number
  /** The headers the app puts on every answer (its secure headers and content type), read from it at start. */
  appHeaders: [string, string][]
  /** The app's request span (a child of the caller's traceparent) and HTTP metric, for the answers given here. */
  telemetry?: Pick<Telemetry, 'tracer' | 'propagator' | 'recordHttpRequest'>
}

// Larger bodies are rare among repeats and go the whole way. (The shape check's shortcut below
// counts on bodies this small.)
export const FAST_PATH_MAX_BODY_BYTES = 16 * 1024
const FIELDS = new Set(['text', 'policy', 'budget_ms'])

/**
 * Node's first door: a repeated text whose verdict the in-process cache holds is answered here,
 * before Hono, with the same verdict, headers, access line, span and metrics the app would give
 * (the cache-hit path through the app cost about four times a bare node:http answer; issue 12).
 * It checks what the app checks first (bearer key, the in-flight cap) and holds a place while it
 * works. Anything else, or anything it is unsure of (another body form or field, a query string,
 * a signed request, a bad key, a full house, a miss), goes on to the app unchanged, with the body
 * it has read: every error the caller sees is the app's.
 *
 * @example
 * createServer(options, answerCacheHitsFirst({ moderator, policies, ... }, getRequestListener(app.fetch)))
 */
export function answerCacheHitsFirst(options: CacheHitFastPathOptions, app: RequestListener): RequestListener {
  const { moderator, policies, limits, places, clientPlaces, logger, clock, arrivedAt, telemetry } = options
  const maxBodyBytes = Math.min(FAST_PATH_MAX_BODY_BYTES, limits.maxBodyBytes)
  const keyDigests = options.apiKeys.map((key) => sha256HexSync(key))
  // Without a synchronous hash (never on Node) nothing can be answered here.
  if (keyDigests.some((digest) => digest === undefined) || sha256HexSync('') === undefined) return app
  // The answer's headers: the app's, then the two that differ per answer (filled in as it goes out;
  // Node reads the list synchronously in writeHead and keeps no reference to it).
  const headers = [...options.appHeaders.flat(), 'content-length', '', 'x-request-id', '']
  const LENGTH = headers.length - 3
  const REQUEST_ID = headers.length - 1

  return function cacheHitFastPath(req: IncomingMessage, res: ServerResponse) {
    const client = mayBeCacheHit(req, maxBodyBytes) ? clientOf(req, keyDigests as string[]) : undefined
    if (client === undefined || !places.take()) return app(req, res)
    if (clientPlaces && !clientPlaces.take(client)) {
      places.release()
      return app(req, res)
    }
    const startedAt = arrivedAt()
    let held = true
    const release = () => {
      if (held) {
        places.release()
        clientPlaces?.release(client)
      }
      held = false
    }
    // Held while the body is read and the answer made, as the app holds it while its handler
    // runs; given back at once after, not when the answer is flushed: a client that pipelines
    // requests and never reads kept places for ever when they waited for 'close' (an answer queued
    // behind an unread one never gets the socket, nor a 'close' event when it dies).
    req.once('close', release)
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.once('end', () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
      let answered = false
      try {
        answered = answerFromCache(req, res, body, startedAt)
      } catch (error) {
        logger.error('cache-hit path failed; the request goes through the app', { error: String(error) })
      }
      release()
      if (answered || res.headersSent) return
      // The app reads the same bytes (@hono/node-server takes a Buffer `rawBody` as the body).
      const handedOver = req as ArrivedRequest & { rawBody?: Buffer }
      handedOver.rawBody = body
      // The app's clock starts where this one did, before the body was read.
      handedOver[ARRIVED_AT] = startedAt
      app(req, res)
    })
  }

  function answerFromCache(req: IncomingMessage, res: ServerResponse, body: Buffer, startedAt: number): boolean {
    // Invalid UTF-8 is the app's: its decoder and this one might replace it differently.
    if (!isUtf8(body)) return false
    const json = body.toString('utf8')
    // The app's limits on the body's shape, before the parse (a duplicate key could hide a value).
    // Valid JSON with no '[' and at most one '{' anywhere is one flat object: depth 1, and in 16 KiB
    // fewer than 2,800 members (6 bytes each at least), so its limits cannot refuse it: not scanned.
    const flat = json.indexOf('[') === -1 && json.indexOf('{') === json.lastIndexOf('{')
    if (!flat && checkJsonShape(json) !== undefined) return false
    const fields = moderationFields(json)
    if (!fields || !fields.text.trim() || fields.text.length > limits.maxTextChars) return false
    const policy = policies.get(fields.policy ?? policies.defaultName)
    if (!policy) return false
    const header = req.headers['x-request-id']
    const requestId = requestIdOf(typeof header === 'string' ? header : undefined)
    const textSha256 = sha256HexSync(fields.text)
    const budgetMs = Math.min(policy.budgetMs, fields.budget_ms ?? Number.POSITIVE_INFINITY, limits.maxBudgetMs)
    // The app's request span, made only for a hit (a miss goes on to the app, which makes its own).
    let span: Span | undefined
    const parentOf = telemetry && ((): Context => {
      const parent = options.trustTraceparent === 'never' ? ROOT_CONTEXT : telemetry.propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter)
      span = telemetry.tracer.startSpan('POST', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST', 'url.path': ROUTE, request_id: requestId } }, parent)
      return trace.setSpan(parent, span)
    })
    const verdict = moderator.fromCache({ item: { text: fields.text, textSha256, images: [] }, policy, budgetMs, startedAt, requestId }, parentOf)
    if (!verdict) return false
    const answer = JSON.stringify(verdict)
    headers[LENGTH] = String(Buffer.byteLength(answer))
    headers[REQUEST_ID] = requestId
    res.writeHead(200, headers)
    res.end(answer)
    const durationMs = clock.now() - startedAt
    if (telemetry) finishRequest(telemetry, span, { method: 'POST', route: ROUTE, status: 200, durationMs })
    if (logger.writes?.('info') !== false) writeAccessLog(logger, {
      request_id: requestId,
      method: 'POST',
      route: ROUTE,
      status: 200,
      duration_ms: Math.round(durationMs * 10) / 10,
      text_sha256: textSha256,
      text_chars: fields.text.length,
      images: [],
      ...verdictLogFields(verdict),
      ...traceLogFields(span),
    })
    return true
  }
}

const ROUTE = '/v1/moderate'
const ARRIVED_AT = Symbol('arrived at')
type ArrivedRequest = IncomingMessage & { [ARRIVED_AT]?: number }

/**
 * The app's `arrivedAt` on Node: when this door first saw a request it handed on (it read the
 * body first), else the event loop's estimate now.
 */
export function arrivalOf(estimate: () => number): (env: unknown) => number {
  return (env) => (env as { incoming?: ArrivedRequest } | undefined)?.incoming?.[ARRIVED_AT] ?? estimate()
}

// @hono/node-server's own test for a Host it takes as it is (others it checks through URL).
const PLAIN_HOST = /^[a-z0-9._-]+(?::(?:[1-5]\d{3,4}|[6-9]\d{3}))?$/

/** Whether @hono/node-server would take this Host header (it answers 400 to the others). */
function hostTheAppTakes(host: string | undefined): boolean {
  if (host === undefined || host === '') return false
  if (PLAIN_HOST.test(host)) return true
  let hostname: string
  try {
    hostname = new URL(`http://${host}/`).hostname
  } catch {
    return false
  }
  // Its check as it makes it: the URL's hostname is the header less any port, lower-cased.
  const colon = host.lastIndexOf(':')
  const bare = colon >= 0 && colon < host.length - 1 && /^\d+$/.test(host.slice(colon + 1)) ? host.slice(0, colon) : host
  return hostname.length === host.length || hostname === bare.toLowerCase()
}

/**
 * The request line and headers of a synchronous JSON moderation small enough to be read here,
 * each header as the app would read it (Node keeps the first of two Content-Type headers where
 * the app joins them: a repeated one is the app's to judge).
 */
function mayBeCacheHit(req: IncomingMessage, maxBodyBytes: number): boolean {
  if (req.method !== 'POST' || req.url !== '/v1/moderate') return false
  const { headers } = req
  if (headers['transfer-encoding'] !== undefined || headers['webhook-signature'] !== undefined) return false
  if (!hostTheAppTakes(headers.host)) return false
  const length = Number(headers['content-length'])
  if (!(length > 0 && length <= maxBodyBytes)) return false
  const type = headers['content-type']
  if (type !== 'application/json' && (type === undefined || type.split(';')[0]!.trim().toLowerCase() !== 'application/json')) return false
  return !repeated(req.rawHeaders, 'content-type')
}

/** Whether the bearer key is one of the keys; a missing, wrong or repeated one is the app's to refuse. */
/** Who the request's bearer key says the client is (as bearerAuth names it), or undefined when the key is not one of `keyDigests`. */
function clientOf(req: IncomingMessage, keyDigests: string[]): string | undefined {
  if (keyDigests.length === 0) return 'anonymous'
  const token = bearerToken(req.headers.authorization)
  if (token === undefined || repeated(req.rawHeaders, 'authorization')) return undefined
  const digest = sha256HexSync(token)!
  return isKeyDigest(keyDigests, digest) ? clientIdOf(digest) : undefined
}

/** Whether a header (lower-case name) comes more than once among the raw name/value pairs. */
function repeated(rawHeaders: string[], name: string): boolean {
  let seen = 0
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const raw = rawHeaders[i]!
    if (raw.length === name.length && raw.toLowerCase() === name && ++seen > 1) return true
  }
  return false
}

interface ModerationFields {
  text: string
  policy?: string
  budget_ms?: number
}

/**
 * `{ text, policy?, budget_ms? }` exactly as the app's schema would accept them, or undefined for
 * anything else (other fields, other types, malformed JSON): those are the app's to judge.
 */
function moderationFields(json: string): ModerationFields | undefined {
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  for (const key of Object.keys(value)) if (!FIELDS.has(key)) return undefined
  const { text, policy, budget_ms } = value as Record<string, unknown>
  if (typeof text !== 'string') return undefined
  if (policy !== undefined && (typeof policy !== 'string' || policy.length === 0)) return undefined
  if (budget_ms !== undefined && !(Number.isSafeInteger(budget_ms) && (budget_ms as number) > 0)) return undefined
  return { text, policy: policy as string | undefined, budget_ms: budget_ms as number | undefined }
}

/** The caller's X-Request-Id when Hono's requestId middleware would keep it (255 characters of [A-Za-z0-9_=-]), a new one otherwise. */
function requestIdOf(header: string | undefined): string {
  return header && header.length <= 255 && !/[^\w\-=]/.test(header) ? header : crypto.randomUUID()
}

/** The headers the app puts on a JSON answer, taken from Hono's own middleware with the app's settings. */
export async function appJsonHeaders(): Promise<[string, string][]> {
  const probe = new Hono().use(secureHeaders(SECURE_HEADERS)).get('/', (c) => c.json({}))
  const res = await probe.request('/')
  return [...res.headers].filter(([name]) => name !== 'content-length')
}
