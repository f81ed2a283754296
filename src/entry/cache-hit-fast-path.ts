import { isUtf8 } from 'node:buffer'
import { Hono } from 'hono'
import { secureHeaders } from 'hono/secure-headers'
import { SECURE_HEADERS } from '../app.js'
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http'
import { sha256HexSync } from '../core/hash.js'
import type { Moderator } from '../core/moderate.js'
import type { PolicyRegistry } from '../core/policy.js'
import type { Clock, Logger } from '../core/ports.js'
import { writeAccessLog } from '../http/access-log.js'
import { bearerToken, isKeyDigest } from '../http/auth.js'
import { verdictLogFields, type Limits } from '../http/judge-item.js'
import type { InFlightPlaces } from '../http/load-shed.js'

export interface CacheHitFastPathOptions {
  moderator: Moderator
  policies: PolicyRegistry
  limits: Pick<Limits, 'maxTextChars' | 'maxBudgetMs'>
  /** MODERATION_API_KEYS; empty means no authentication. */
  apiKeys: string[]
  /** The app's own count of requests in flight: a place taken here is one the app cannot give. */
  places: InFlightPlaces
  logger: Logger
  clock: Clock
  /** When the request reached the process (the app's estimate, so both doors count alike). */
  arrivedAt: () => number
  /** The headers the app puts on every answer (its secure headers and content type), read from it at start. */
  appHeaders: [string, string][]
}

// Larger bodies are rare among repeats and go the whole way (with its shape checks).
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
  const { moderator, policies, limits, places, logger, clock, arrivedAt } = options
  const keyDigests = options.apiKeys.map((key) => sha256HexSync(key))
  // Without a synchronous hash (never on Node) nothing can be answered here.
  if (keyDigests.some((digest) => digest === undefined) || sha256HexSync('') === undefined) return app
  // The answer's headers: the app's, then the two that differ per answer (filled in as it goes out;
  // Node reads the list synchronously in writeHead and keeps no reference to it).
  const headers = [...options.appHeaders.flat(), 'content-length', '', 'x-request-id', '']
  const LENGTH = headers.length - 3
  const REQUEST_ID = headers.length - 1

  return function cacheHitFastPath(req: IncomingMessage, res: ServerResponse) {
    if (!mayBeCacheHit(req) || !authorized(req.headers.authorization, keyDigests as string[]) || !places.take()) return app(req, res)
    const startedAt = arrivedAt()
    let held = true
    const release = () => {
      if (held) places.release()
      held = false
    }
    // Given back when the answer is out or the socket closes, whichever comes first.
    res.once('close', release)
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
      if (answered) return
      // The app reads the same bytes (@hono/node-server takes a Buffer `rawBody` as the body).
      release()
      ;(req as IncomingMessage & { rawBody?: Buffer }).rawBody = body
      app(req, res)
    })
  }

  function answerFromCache(req: IncomingMessage, res: ServerResponse, body: Buffer, startedAt: number): boolean {
    // Invalid UTF-8 is the app's: its decoder and this one might replace it differently.
    if (!isUtf8(body)) return false
    const fields = moderationFields(body.toString('utf8'))
    if (!fields || !fields.text.trim() || fields.text.length > limits.maxTextChars) return false
    const policy = policies.get(fields.policy ?? policies.defaultName)
    if (!policy) return false
    const header = req.headers['x-request-id']
    const requestId = requestIdOf(typeof header === 'string' ? header : undefined)
    const textSha256 = sha256HexSync(fields.text)
    const budgetMs = Math.min(policy.budgetMs, fields.budget_ms ?? Number.POSITIVE_INFINITY, limits.maxBudgetMs)
    const verdict = moderator.fromCache({ item: { text: fields.text, textSha256, images: [] }, policy, budgetMs, startedAt, requestId })
    if (!verdict) return false
    const json = JSON.stringify(verdict)
    headers[LENGTH] = String(Buffer.byteLength(json))
    headers[REQUEST_ID] = requestId
    res.writeHead(200, headers)
    res.end(json)
    if (logger.writes?.('info') !== false) writeAccessLog(logger, {
      request_id: requestId,
      method: 'POST',
      route: '/v1/moderate',
      status: 200,
      duration_ms: Math.round((clock.now() - startedAt) * 10) / 10,
      text_sha256: textSha256,
      text_chars: fields.text.length,
      images: [],
      ...verdictLogFields(verdict),
    })
    return true
  }
}

/** The request line and headers of a synchronous JSON moderation small enough to be read here. */
function mayBeCacheHit(req: IncomingMessage): boolean {
  if (req.method !== 'POST' || req.url !== '/v1/moderate') return false
  const { headers } = req
  if (headers['transfer-encoding'] !== undefined || headers['webhook-signature'] !== undefined) return false
  const length = Number(headers['content-length'])
  if (!(length > 0 && length <= FAST_PATH_MAX_BODY_BYTES)) return false
  const type = headers['content-type']
  return type === 'application/json' || (type !== undefined && type.split(';')[0]!.trim().toLowerCase() === 'application/json')
}

/** Whether the bearer key is one of the keys; a missing or wrong one is the app's to refuse. */
function authorized(header: string | undefined, keyDigests: string[]): boolean {
  if (keyDigests.length === 0) return true
  const token = bearerToken(header)
  return token !== undefined && isKeyDigest(keyDigests, sha256HexSync(token)!)
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
