/**
 * Overhead benchmark: what the service itself adds on top of the model call, and how soon after the
 * budget a timed-out request is answered.
 *
 * Method: one Node process, real loopback HTTP, fetch (undici, keep-alive), performance.now().
 *  - The fake Gemini (test/helpers) answers every generateContent instantly with a safe verdict.
 *  - The real app is composed as the Node entry does (composeApp, shipped policies, sharp, silent
 *    logger) and served by @hono/node-server on 127.0.0.1.
 *  (a) service: sequential POST /v1/moderate, unique text each (no cache hit), client wall time.
 *  (b) direct: sequential createGeminiModel().generate() to the same fake, same system instruction
 *      and schema: the model call alone. (a) and (b) alternate call by call.
 *      Overhead = a percentile of (a) minus the same percentile of (b).
 *  (c) cache hit: one text repeated, sequential.  (d) 64 requests in flight, unique texts.
 *  (e) GET /healthz: the loopback HTTP + Hono floor, to help read (a)-(b).
 *  Budget: the fake hangs; per budget_ms, (client time - budget_ms); every answer must be
 *  source=fallback, fallback_reason=timeout.
 * Run: npm run bench:overhead [-- --requests N]  (or BENCH_REQUESTS=N). Writes bench/results.json.
 */
import { execSync } from 'node:child_process'
import dc from 'node:diagnostics_channel'
import { writeFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import { serve } from '@hono/node-server'
import { composeApp } from '../src/app/compose.js'
import { parseConfig } from '../src/config/config.js'
import type { ModelRequest } from '../src/core/shared/model.js'
import { outputSchemaFor } from '../src/core/moderation/model-output.js'
import { loadPolicies } from '../src/core/moderation/policy.js'
import { buildSystemInstruction } from '../src/core/moderation/prompt.js'
import { readPolicyFiles } from '../src/entry/read-policy-files.js'
import { createSharpImageProcessor } from '../src/images/sharp-image-processor.js'
import { createJsonLogger } from '../src/logging/json-logger.js'
import { createGeminiModel } from '../src/model/gemini-model.js'
import { startFakeGemini } from '../test/helpers/fake-gemini.js'
import { r2, round, stats, type Stats } from './stats.js'

const flag = process.argv.indexOf('--requests')
const N = Number(flag >= 0 ? process.argv[flag + 1] : (process.env.BENCH_REQUESTS ?? 2000))
if (!Number.isInteger(N) || N < 1) throw new Error('--requests / BENCH_REQUESTS must be a positive integer')
const WARMUP = Math.min(200, N)
const CONCURRENCY = 64
const CONCURRENT_TOTAL = Math.round(N * 2.5) // 5000 at the default N
const BUDGETS = [100, 250, 500]
const PER_BUDGET = 30
const MODEL = 'gemini-3.5-flash'


let peakRss = 0
function sampleRss() {
  const rss = process.memoryUsage().rss
  peakRss = Math.max(peakRss, rss)
  return rss
}
const rssTimer = setInterval(sampleRss, 50)

// New TCP connections opened by fetch, by destination port: shows whether keep-alive holds.
const opened = new Map<string, number>()
dc.subscribe('undici:client:connected', (message) => {
  const port = String((message as { connectParams: { port: string | number } }).connectParams.port)
  opened.set(port, (opened.get(port) ?? 0) + 1)
})
type Phase = { rss_mb: number; new_connections_to_service: number; new_connections_to_fake_gemini: number }
const phases: Record<string, Phase> = {}
function phaseDone(name: string) {
  const to = (port: string) => opened.get(port) ?? 0
  phases[name] = { rss_mb: Math.round(sampleRss() / 2 ** 20), new_connections_to_service: to(servicePort), new_connections_to_fake_gemini: to(fakePort) }
  opened.clear()
  fake.requests.length = 0 // the fake records every request; drop them so the harness does not grow RSS
  console.error(`  ${name} done: ${JSON.stringify(phases[name])}`)
}

let seq = 0
const uniqueText = () => `bench ${process.pid} message ${seq++}: what a lovely day for a walk in the park`

// --- Set up: fake Gemini, the real app on a real port, the adapter alone ----------------------------
const fake = await startFakeGemini()
// The breaker stays closed: the expiry series measures timeouts, not the circuit answering at once.
const config = parseConfig({ GEMINI_API_KEY: 'bench', GEMINI_BASE_URL: fake.url, LOG_LEVEL: 'silent', MODERATION_BREAKER_MIN_CALLS: '1000000' })
const policies = await loadPolicies(await readPolicyFiles('policies'), 'default')
const { app } = composeApp({ config, policies, images: createSharpImageProcessor(), logger: createJsonLogger({ level: 'silent' }) })
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 })
await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', () => resolve())))
const servicePort = String((server.address() as AddressInfo).port)
const fakePort = new URL(fake.url).port
const base = `http://127.0.0.1:${servicePort}`

const policy = policies.get('default')!
const direct = createGeminiModel({ apiKey: 'bench', baseUrl: fake.url, model: MODEL })
const systemInstruction = buildSystemInstruction(policy) // built once, as the service caches it per policy
const responseSchema = outputSchemaFor(policy).json
// maxOutputTokens: the service's MAX_OUTPUT_TOKENS (src/core/moderation/judge-with-model.ts).
const modelRequest = (text: string): ModelRequest => ({
  ...{ model: MODEL, thinkingLevel: policy.thinkingLevel, systemInstruction, text, images: [], responseSchema },
  ...{ maxOutputTokens: 384, signal: new AbortController().signal },
})

type Verdict = { source: string; fallback_reason?: string; latency_ms: number }
async function moderate(body: Record<string, unknown>): Promise<{ ms: number; verdict: Verdict }> {
  const t0 = performance.now()
  const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
  const res = await fetch(`${base}/v1/moderate`, init)
  const verdict = (await res.json()) as Verdict
  const ms = performance.now() - t0
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${JSON.stringify(verdict)}`)
  return { ms, verdict }
}
async function generateDirect(): Promise<number> {
  const t0 = performance.now()
  const result = await direct.generate(modelRequest(uniqueText()))
  const ms = performance.now() - t0
  if (result.kind !== 'answer') throw new Error(`direct call failed: ${JSON.stringify(result)}`)
  return ms
}
async function healthz(): Promise<number> {
  const t0 = performance.now()
  await (await fetch(`${base}/healthz`)).arrayBuffer()
  return performance.now() - t0
}
phaseDone('setup')

// --- 1. Overhead with an instant model --------------------------------------------------------------
const unexpected = { service: 0, cache: 0, concurrent: 0 } // answers whose source was not the expected one
const serviceMs: number[] = []
const directMs: number[] = []
console.error(`(a)+(b): ${WARMUP} warmup + ${N} each, alternating...`)
for (let i = 0; i < WARMUP + N; i++) {
  // Swap the order every other pair so neither side always runs right after the other.
  const first = i % 2 ? await generateDirect() : undefined
  const a = await moderate({ text: uniqueText() })
  const b = first ?? (await generateDirect())
  if (a.verdict.source !== 'model') unexpected.service++
  if (i >= WARMUP) serviceMs.push(a.ms), directMs.push(b)
  if (i % 500 === 0) fake.requests.length = 0
}
phaseDone('(a)+(b)')

console.error(`(e) healthz: ${N}...`)
const healthMs: number[] = []
for (let i = 0; i < WARMUP + N; i++) {
  const ms = await healthz()
  if (i >= WARMUP) healthMs.push(ms)
}
phaseDone('(e) healthz')

console.error(`(c) cache hits: ${N}...`)
const repeated = { text: 'bench: the same sentence every time, to hit the cache' }
for (let i = 0; i <= WARMUP; i++) await moderate(repeated) // the first fills the cache
const cacheMs: number[] = []
const cacheStart = performance.now()
for (let i = 0; i < N; i++) {
  const { ms, verdict } = await moderate(repeated)
  if (verdict.source !== 'cache') unexpected.cache++
  cacheMs.push(ms)
}
const cacheRps = N / ((performance.now() - cacheStart) / 1000)
phaseDone('(c) cache')

console.error(`(d) ${CONCURRENT_TOTAL} requests, ${CONCURRENCY} in flight...`)
const concurrentMs: number[] = []
let issued = 0
const concurrentStart = performance.now()
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (issued < CONCURRENT_TOTAL) {
      if (++issued % 500 === 0) fake.requests.length = 0
      const { ms, verdict } = await moderate({ text: uniqueText() })
      if (verdict.source !== 'model') unexpected.concurrent++
      concurrentMs.push(ms)
    }
  }),
)
const concurrentRps = CONCURRENT_TOTAL / ((performance.now() - concurrentStart) / 1000)
phaseDone('(d) concurrent')

// --- 2. Budget expiry to response -------------------------------------------------------------------
fake.setDefault({ hang: true })
const budgetRows: Record<number, { late: Stats; serverLate: Stats; notTimeout: number }> = {}
for (const budget of BUDGETS) {
  console.error(`budget ${budget} ms: ${PER_BUDGET} requests...`)
  const late: number[] = []
  const serverLate: number[] = [] // the verdict's own latency_ms (whole ms) minus the budget
  let notTimeout = 0
  for (let i = 0; i < PER_BUDGET; i++) {
    const { ms, verdict } = await moderate({ text: uniqueText(), budget_ms: budget })
    if (verdict.source !== 'fallback' || verdict.fallback_reason !== 'timeout') notTimeout++
    late.push(ms - budget)
    serverLate.push(verdict.latency_ms - budget)
  }
  budgetRows[budget] = { late: stats(late), serverLate: stats(serverLate), notTimeout }
  phaseDone(`budget ${budget}`)
}

// --- Clean up and report ----------------------------------------------------------------------------
clearInterval(rssTimer)
await new Promise<void>((resolve) => {
  server.close(() => resolve())
  if ('closeAllConnections' in server) server.closeAllConnections()
})
await fake.close()

const [a, b, health, cache, concurrent] = [serviceMs, directMs, healthMs, cacheMs, concurrentMs].map(stats) as Stats[]
const overhead = { p50: a!.p50 - b!.p50, p99: a!.p99 - b!.p99, mean: a!.mean - b!.mean, max: a!.max - b!.max }
const git = (args: string) => execSync(`git ${args}`, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
let commit = 'unknown'
try {
  commit = git('rev-parse --short HEAD') + (git('status --porcelain -- src test policies') ? '+uncommitted' : '')
} catch {}
const machine = {
  date: new Date().toISOString(),
  commit,
  node: process.version,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  peak_rss_mb: r2(peakRss / 2 ** 20),
  max_rss_mb: r2(process.resourceUsage().maxRSS / 1024),
}
const results = {
  machine,
  requests: N,
  warmup: WARMUP,
  overhead_ms: { p50: r2(overhead.p50), p99: r2(overhead.p99), mean: r2(overhead.mean), max: r2(overhead.max) },
  service_ms: round(a!),
  direct_model_ms: round(b!),
  healthz_ms: round(health!),
  cache_hit_ms: { ...round(cache!), req_per_s: Math.round(cacheRps) },
  concurrent_ms: { in_flight: CONCURRENCY, total: CONCURRENT_TOTAL, ...round(concurrent!), req_per_s: Math.round(concurrentRps) },
  budget_expiry_ms: Object.fromEntries(
    BUDGETS.map((budget) => {
      const row = budgetRows[budget]!
      return [budget, { client_minus_budget: round(row.late), server_latency_minus_budget: round(row.serverLate), not_timeout_fallback: row.notTimeout }]
    }),
  ),
  unexpected_source: unexpected,
  phases,
}
await writeFile(new URL('./results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`)

const f = (v: number) => v.toFixed(2).padStart(8)
const row = (label: string, s: Omit<Stats, 'n'>, extra = '') => `${label.padEnd(36)}${f(s.p50)}${f(s.p99)}${f(s.mean)}${f(s.max)}  ${extra}`.trimEnd()
const fakeConnections = (phase: string) => phases[phase]!.new_connections_to_fake_gemini
console.log(
  [
    '',
    `Moderation service overhead, ${machine.date}`,
    `node ${machine.node} | ${machine.cpu} | ${machine.cores} cores | peak RSS ${machine.peak_rss_mb} MB (maxRSS ${machine.max_rss_mb} MB, after setup ${phases.setup!.rss_mb} MB)`,
    `commit ${commit} | N=${N} sequential after ${WARMUP} warmup; all times in ms`,
    '',
    `${''.padEnd(36)}${'p50'.padStart(8)}${'p99'.padStart(8)}${'mean'.padStart(8)}${'max'.padStart(8)}`,
    row('(a) service, instant fake model', a!),
    row('(b) model call alone (adapter)', b!),
    row('OVERHEAD = (a) - (b)', overhead, '(max: difference of maxima, noisy)'),
    row('(e) GET /healthz (HTTP floor)', health!),
    row('(c) cache hit, sequential', cache!, `${Math.round(cacheRps)} req/s`),
    row(`(d) ${CONCURRENCY} in flight, ${CONCURRENT_TOTAL} requests`, concurrent!, `${Math.round(concurrentRps)} req/s`),
    '',
    'Budget expiry -> response: client time - budget_ms (fake Gemini hangs)',
    ...BUDGETS.map((budget) => {
      const { late, serverLate, notTimeout } = budgetRows[budget]!
      return row(`budget_ms=${budget} (n=${late.n})`, late, `not timeout fallback: ${notTimeout}; server-side p50 ${serverLate.p50} max ${serverLate.max}`)
    }),
    '',
    `unexpected sources: service ${unexpected.service}, cache ${unexpected.cache}, concurrent ${unexpected.concurrent}`,
    `new connections to the fake Gemini: ${fakeConnections('(a)+(b)')} for ${2 * (WARMUP + N)} calls in (a)+(b), ${fakeConnections('(d) concurrent')} for ${CONCURRENT_TOTAL} in (d)`,
    'full results: bench/results.json',
  ].join('\n'),
)
