/**
 * config/: The service's settings: every environment variable, parsed and checked (this file).
 *
 * May import: core/shared.
 */
import { z } from 'zod'
import { PROVIDERS } from '../core/shared/model.js'

const MIB = 1024 * 1024

const commaList = z
  .string()
  .optional()
  .transform((value) => (value ?? '').split(',').map((item) => item.trim()).filter(Boolean))

// Standard Webhooks secrets: whsec_ and base64 of at least 16 bytes; comma-separated while rotating.
const webhookSecrets = commaList.refine((secrets) => secrets.every((secret) => /^whsec_[A-Za-z0-9+/]{22,}={0,2}$/.test(secret)), {
  message: 'each secret is whsec_ followed by the base64 of at least 16 random bytes',
})

// Endpoint URLs: credentials go in the key settings, never in a URL (URLs end up in error details).
const endpoint = z.url().refine((url) => !/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(url), {
  message: 'put credentials in the key setting, not in the URL',
})

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback)

/**
 * Everything the service reads from its environment (Node) or bindings (Workers), parsed once.
 *
 * @example
 * const config = parseConfig(process.env)
 */
export const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('127.0.0.1'),
  GEMINI_API_KEY: z.string().optional(),
  GEMINI_BASE_URL: endpoint.optional(),
  // Gemini 3.5 Flash accepts MINIMAL thinking; models that refuse it are handled at call time.
  GEMINI_MODEL: z.string().default('gemini-3.5-flash'),
  // Which API the model is reached through (policies may pick another configured one).
  MODERATION_PROVIDER: z.enum(PROVIDERS).default('gemini'),
  // Vertex AI: an API key (express mode), or a project for application-default credentials (Node).
  VERTEX_API_KEY: z.string().optional(),
  VERTEX_PROJECT: z.string().optional(),
  VERTEX_LOCATION: z.string().default('global'),
  VERTEX_BASE_URL: endpoint.optional(),
  VERTEX_MODEL: z.string().default('gemini-3.5-flash'),
  // Any OpenAI-compatible chat completions endpoint: Google's /v1beta/openai/, OpenRouter, AI/ML API, ...
  OPENAI_COMPATIBLE_BASE_URL: endpoint.optional(),
  OPENAI_COMPATIBLE_API_KEY: z.string().optional(),
  OPENAI_COMPATIBLE_MODEL: z.string().default('gemini-3.5-flash'),
  // Runware's task API.
  RUNWARE_API_KEY: z.string().optional(),
  RUNWARE_BASE_URL: endpoint.default('https://api.runware.ai/v1'),
  RUNWARE_MODEL: z.string().default('google:gemini@3-flash'),
  MODERATION_POLICIES_DIR: z.string().default('policies'),
  MODERATION_DEFAULT_POLICY: z.string().default('default'),
  // The embedded text classifier: 'on' (the shipped models/text-classifier.bin), 'off' (word lists
  // only), or on Node the path of another artifact made by `npm run train:local`.
  MODERATION_LOCAL_CLASSIFIER: z.string().min(1).default('on'),
  MODERATION_API_KEYS: commaList,
  // The service's URL as clients reach it (behind a proxy: the proxy's), e.g.
  // https://moderation.example.com/: the Perspective discovery document's rootUrl. Unset: the
  // scheme and host each request came to.
  MODERATION_PUBLIC_URL: endpoint
    .refine((url) => /^https?:\/\/[^/?#]+(\/[^?#]*)?$/i.test(url), { message: 'an http(s) URL without query or fragment, e.g. https://moderation.example.com/' })
    .transform((url) => (url.endsWith('/') ? url : `${url}/`))
    .optional(),
  // Whose W3C traceparent a request's span continues: `authenticated` (callers presenting a valid
  // key, or every caller when MODERATION_API_KEYS is unset), `always`, or `never`. An untrusted
  // one is ignored: the request starts a trace of its own, sampled by this service's rules.
  MODERATION_TRUST_TRACEPARENT: z.enum(['authenticated', 'always', 'never']).default('authenticated'),
  // Standard Webhooks secrets, comma-separated while rotating (deliveries carry one signature each).
  WEBHOOK_SECRET: webhookSecrets,
  // Verifies signed requests in, when set; otherwise WEBHOOK_SECRET does, and then anyone able to
  // verify deliveries can also sign requests (README).
  WEBHOOK_INBOUND_SECRET: webhookSecrets,
  WEBHOOK_ALLOWED_HOSTS: commaList,
  // Jobs not yet delivered or failed; beyond this, asynchronous submissions get 503.
  WEBHOOK_MAX_PENDING: positiveInt(1000),
  // The same per client (API key): one client's dead receiver cannot take every place. Unset: a
  // quarter of WEBHOOK_MAX_PENDING (webhookMaxPendingPerClient). Beyond it, that client gets 429.
  WEBHOOK_MAX_PENDING_PER_CLIENT: z.coerce.number().int().positive().optional(),
  // Jobs accepted but not yet judged, which hold their content (images up to
  // MODERATION_MAX_BODY_BYTES each); beyond this, asynchronous submissions get 503. The default
  // matches MODERATION_MAX_MODEL_CALLS: more would wait for a model slot anyway.
  WEBHOOK_MAX_JUDGING: positiveInt(64),
  // Deliveries are retried for this long after submission, then the job is failed.
  WEBHOOK_RETRY_WINDOW_SECONDS: positiveInt(3600),
  // Node with REDIS_URL: a process judging or delivering a job holds a claim on it for this long,
  // renewed while it works; a claim that lapses (the process died) lets another process judge the
  // job from the content kept in Redis, or deliver it. Shorter: crashed jobs are picked up sooner;
  // shorter than the event loop's worst stall: a job may be judged or attempted twice (same
  // webhook-id, receivers deduplicate).
  WEBHOOK_LEASE_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  // Node: a request (headers and body) slower than this is cut off with 408, so trickling
  // uploads cannot hold MODERATION_MAX_IN_FLIGHT places for minutes.
  MODERATION_REQUEST_TIMEOUT_MS: positiveInt(30_000),
  // On SIGTERM (Node): how long /readyz answers 503 while the listener keeps serving, so a load
  // balancer stops sending first; then the shutdown below.
  MODERATION_DRAIN_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(5_000),
  // On SIGTERM (Node): how long in-flight requests and pending deliveries get before exit.
  MODERATION_SHUTDOWN_GRACE_MS: positiveInt(15_000),
  // Node: synthetic requests through the whole pipeline (against an in-process fake model)
  // before listening, so the first real ones do not pay for compiling it; 0 skips.
  MODERATION_WARMUP_REQUESTS: z.coerce.number().int().min(0).max(10_000).default(200),
  MODERATION_MAX_BODY_BYTES: positiveInt(10 * MIB),
  MODERATION_MAX_BUDGET_MS: positiveInt(10_000),
  MODERATION_MAX_TEXT_CHARS: positiveInt(50_000),
  MODERATION_MAX_IMAGES: positiveInt(4),
  MODERATION_MAX_BATCH_ITEMS: positiveInt(32),
  MODERATION_MAX_IMAGE_BYTES: positiveInt(7 * MIB),
  // 50 megapixels: a 10000x5000 photo passes, a decompression bomb does not.
  MODERATION_MAX_IMAGE_PIXELS: positiveInt(50_000_000),
  MODERATION_IMAGE_MAX_SIDE: positiveInt(1024),
  // Node: image decodes running at once (one lane more is kept for images up to 4 megapixels).
  // Unset: a core is left to the event loop, and at most UV_THREADPOOL_SIZE - 2 (libuv's threads run them).
  MODERATION_IMAGE_DECODES: z.coerce.number().int().positive().optional(),
  // Node: pixels being decoded at once, all requests together. Unset: twice MODERATION_MAX_IMAGE_PIXELS.
  MODERATION_IMAGE_DECODE_PIXELS: z.coerce.number().int().positive().optional(),
  // Fetch http(s) image URLs given to /v1/moderations (SSRF-guarded). Off by default.
  MODERATION_FETCH_IMAGE_URLS: z.enum(['true', 'false']).default('false').transform((value) => value === 'true'),
  // Hosts exempt from the private-address refusal when fetching images (tests, private networks).
  MODERATION_FETCH_ALLOWED_HOSTS: commaList,
  // Concurrent model calls; a request that gets no slot before its budget ends is `overloaded`.
  MODERATION_MAX_MODEL_CALLS: positiveInt(64),
  // Requests in flight beyond which the HTTP layer answers 503 with Retry-After.
  MODERATION_MAX_IN_FLIGHT: positiveInt(512),
  // At most this many of them per client (API key; every caller is one client without keys):
  // past it, that client gets 429 while the others are still served. Unset: no share.
  MODERATION_MAX_IN_FLIGHT_PER_CLIENT: z.coerce.number().int().positive().optional(),
  // The circuit opens when, over the last MODERATION_BREAKER_WINDOW_MS, at least
  // MODERATION_BREAKER_MIN_CALLS calls were judged and MODERATION_BREAKER_FAILURE_RATE of them
  // were the model's failures...
  MODERATION_BREAKER_FAILURE_RATE: z.coerce.number().gt(0).max(1).default(0.5),
  MODERATION_BREAKER_MIN_CALLS: positiveInt(10),
  MODERATION_BREAKER_WINDOW_MS: positiveInt(10_000),
  // ...and lets one probe call through after this long.
  MODERATION_BREAKER_COOLDOWN_MS: positiveInt(10_000),
  // Read until issue 12 (consecutive failures): now only warned about at start (compose.ts), so
  // an upgrade with it still set keeps running.
  MODERATION_BREAKER_FAILURES: z.string().optional(),
  // Hedged requests (off when unset): a second model call when the first is slower than this.
  MODERATION_HEDGE_AFTER_MS: z.coerce.number().int().positive().optional(),
  MODERATION_CACHE_MAX_ENTRIES: positiveInt(10_000),
  MODERATION_CACHE_TTL_SECONDS: positiveInt(3600),
  // Node: Redis (or Valkey) shared by every process and replica, e.g. redis://10.0.0.5:6379/0.
  // Unset: everything stays in the process (lost on restart; README, "Running several instances").
  // It holds the verdict cache's second level, async jobs and their deliveries, idempotency keys
  // and the replay guard for signed requests.
  REDIS_URL: z.string().url().optional(),
  // Node: a Redis command slower than this is given up (a cache read is then a miss).
  MODERATION_REDIS_TIMEOUT_MS: positiveInt(25),
  // Node: processes serving one port (node:cluster). Unset: one per core with REDIS_URL (state is
  // shared there), one without it (each process would keep its own jobs and cache). 1: no cluster.
  MODERATION_WORKERS: z.coerce.number().int().positive().max(256).optional(),
  // Node: every key and queue the service keeps in Redis starts with this (services sharing one).
  MODERATION_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (1-64)').default('moderation'),
  // Workers only: the second cache level, shared across isolates (after the in-memory LRU).
  // cache-api: the data centre's Cache API; kv: the VERDICT_CACHE KV namespace (global); none.
  MODERATION_EDGE_CACHE: z.enum(['cache-api', 'kv', 'none']).default('cache-api'),
  // Workers only: wasm decodes, checks and downscales (photon; needs CPU time beyond the free
  // plan's 10 ms for large images); header checks the header and passes images through.
  MODERATION_EDGE_IMAGES: z.enum(['wasm', 'header']).default('wasm'),
  // Workers only: larger images are passed through unscaled instead of decoded (WASM memory).
  MODERATION_EDGE_DECODE_MAX_PIXELS: positiveInt(2_000_000),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
})

export type Config = z.infer<typeof configSchema>

/** WEBHOOK_MAX_PENDING_PER_CLIENT, or a quarter of WEBHOOK_MAX_PENDING when unset. */
export const webhookMaxPendingPerClient = (config: Config): number =>
  config.WEBHOOK_MAX_PENDING_PER_CLIENT ?? Math.max(1, Math.floor(config.WEBHOOK_MAX_PENDING / 4))

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Parses raw settings; empty strings count as unset. Throws ConfigError naming each bad setting. */
export function parseConfig(raw: Record<string, unknown>): Config {
  const present = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== '' && value !== undefined))
  const result = configSchema.safeParse(present)
  const problems = result.success ? settingsAgainstEachOther(result.data) : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)
  if (result.success && problems.length === 0) return result.data
  throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`)
}

/** Settings each valid alone that make no sense together. */
function settingsAgainstEachOther(config: Config): string[] {
  const problems: string[] = []
  const share = config.MODERATION_MAX_IN_FLIGHT_PER_CLIENT
  // Without keys every caller is one client: the share would be a smaller cap on everyone.
  if (share !== undefined && config.MODERATION_API_KEYS.length === 0) problems.push('MODERATION_MAX_IN_FLIGHT_PER_CLIENT: needs MODERATION_API_KEYS (without keys every caller is one client, and the share would cap everyone together)')
  if (share !== undefined && share > config.MODERATION_MAX_IN_FLIGHT) problems.push(`MODERATION_MAX_IN_FLIGHT_PER_CLIENT: ${share} is over MODERATION_MAX_IN_FLIGHT (${config.MODERATION_MAX_IN_FLIGHT}) and would never apply`)
  return problems
}

/** How many processes the Node entry runs (MODERATION_WORKERS, or its default). */
export function workerCount(config: Config, cores: number): number {
  return config.MODERATION_WORKERS ?? (config.REDIS_URL ? cores : 1)
}

// Families of settings this service reads: a variable of theirs that it does not know is a typo.
const OWN_PREFIXES = ['MODERATION_', 'GEMINI_', 'WEBHOOK_', 'VERTEX_', 'OPENAI_COMPATIBLE_', 'RUNWARE_', 'REDIS_']

/**
 * Variables of the service's own families (MODERATION_*, GEMINI_*, WEBHOOK_*, ...) that it does
 * not read, each with the known setting closest to it: a misspelt one is otherwise ignored
 * without a word. Names are short: the edit distance is cheap, and only prefixed names are read.
 */
export function unknownSettings(env: Record<string, unknown>): { name: string; closest?: string }[] {
  const known = Object.keys(configSchema.shape)
  return Object.keys(env)
    .filter((name) => name.length <= 64 && OWN_PREFIXES.some((prefix) => name.startsWith(prefix)) && !known.includes(name))
    .map((name) => {
      let closest: string | undefined
      let best = Math.max(3, Math.floor(name.length / 4)) + 1
      for (const candidate of known) {
        const distance = editDistance(name, candidate)
        if (distance < best) [best, closest] = [distance, candidate]
      }
      return { name, closest }
    })
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    previous = current
  }
  return previous[b.length]!
}
