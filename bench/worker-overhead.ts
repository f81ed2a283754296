/**
 * Worker benchmark: the same service in workerd (`wrangler dev`, local), against the fake Gemini
 * in this Node process. Time inside workerd only moves on I/O, so everything is timed from the
 * client, over loopback, exactly as for the Node service (bench/overhead.ts):
 *  (a) Worker, sequential POST /v1/moderate, unique text (model path, instant fake model)
 *  (b) the model call alone from Node (@google/genai adapter, same request) ; overhead = (a) - (b)
 *  (c) cache hit (same text)   (e) GET /healthz through workerd: the HTTP floor
 *  budget expiry: fake hangs, budget_ms 250, client time - budget.
 * Run: npm run bench:worker [-- --requests N]
 */
import { spawn } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { outputSchemaFor } from '../src/core/moderation/model-output.js'
import { loadPolicies } from '../src/core/moderation/policy.js'
import { buildSystemInstruction } from '../src/core/moderation/prompt.js'
import { readPolicyFiles } from '../src/entry/read-policy-files.js'
import { createGeminiModel } from '../src/model/gemini-model.js'
import { startFakeGemini } from '../test/helpers/fake-gemini.js'
import { r2, stats, type Stats } from './stats.js'

const flag = process.argv.indexOf('--requests')
const N = Number(flag >= 0 ? process.argv[flag + 1] : (process.env.BENCH_REQUESTS ?? 500))
const PORT = 8799
const base = `http://127.0.0.1:${PORT}`
let seq = 0
const uniqueText = () => `worker bench ${process.pid} message ${seq++}: what a lovely day for a walk`

const fake = await startFakeGemini()
const state = await mkdtemp(join(tmpdir(), 'worker-bench-')) // a fresh Cache API: no hits from earlier runs
const vars = ['GEMINI_API_KEY:bench', `GEMINI_BASE_URL:${fake.url}`, 'LOG_LEVEL:error'].flatMap((v) => ['--var', v])
const worker = spawn('node_modules/.bin/wrangler', ['dev', '--ip', '127.0.0.1', '--port', String(PORT), '--persist-to', state, ...vars], {
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  detached: true, // its own process group, so workerd goes down with it
})
await new Promise<void>((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('wrangler dev did not start in 60 s')), 60_000)
  createInterface({ input: worker.stdout! }).on('line', (line) => {
    if (line.includes('Ready on')) {
      clearTimeout(timer)
      resolve()
    }
  })
  worker.on('exit', (code) => reject(new Error(`wrangler dev exited with ${code}`)))
})

const policy = (await loadPolicies(await readPolicyFiles('policies'), 'default')).get('default')!
const direct = createGeminiModel({ apiKey: 'bench', baseUrl: fake.url, model: 'gemini-3.5-flash' })
const [systemInstruction, responseSchema] = [buildSystemInstruction(policy), outputSchemaFor(policy).json]

async function timed(work: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now()
  await work()
  return performance.now() - t0
}
async function moderate(body: Record<string, unknown>, expectSource: string) {
  const res = await fetch(`${base}/v1/moderate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const verdict = (await res.json()) as { source: string }
  if (verdict.source !== expectSource) throw new Error(`expected ${expectSource}, got ${JSON.stringify(verdict)}`)
}
const callDirect = () =>
  direct.generate({
    model: 'gemini-3.5-flash',
    thinkingLevel: 'minimal',
    systemInstruction,
    text: uniqueText(),
    images: [],
    responseSchema,
    maxOutputTokens: 384,
    signal: new AbortController().signal,
  })

for (let i = 0; i < 50; i++) await moderate({ text: uniqueText() }, 'model') // warm up the isolate and connections
const worker_: number[] = []
const model_: number[] = []
const cache_: number[] = []
const health_: number[] = []
for (let i = 0; i < N; i++) {
  worker_.push(await timed(() => moderate({ text: uniqueText() }, 'model')))
  model_.push(await timed(callDirect))
}
for (let i = 0; i < N; i++) cache_.push(await timed(() => moderate({ text: 'the same text, to hit the cache' }, i === 0 ? 'model' : 'cache')))
for (let i = 0; i < N; i++) health_.push(await timed(() => fetch(`${base}/healthz`).then((r) => r.arrayBuffer())))
fake.setDefault({ hang: true })
const expiry: number[] = []
for (let i = 0; i < 20; i++) expiry.push((await timed(() => moderate({ text: uniqueText(), budget_ms: 250 }, 'fallback'))) - 250)

const row = (name: string, s: Stats) => `${name.padEnd(40)}${[s.p50, s.p99, s.mean, s.max].map((v) => r2(v).toFixed(2).padStart(8)).join('')}`
const [a, b] = [stats(worker_), stats(model_)]
console.log(`\nWorker (workerd via wrangler dev) overhead, ${new Date().toISOString()}, N=${N}, times in ms`)
console.log(`${''.padEnd(40)}${['p50', 'p99', 'mean', 'max'].map((h) => h.padStart(8)).join('')}`)
console.log(row('(a) Worker, instant fake model', a))
console.log(row('(b) model call alone (Node adapter)', b))
console.log(`${'OVERHEAD = (a) - (b)'.padEnd(40)}${[a.p50 - b.p50, a.p99 - b.p99, a.mean - b.mean].map((v) => r2(v).toFixed(2).padStart(8)).join('')}`)
console.log(row('(c) cache hit', stats(cache_)))
console.log(row('(e) GET /healthz (HTTP floor)', stats(health_)))
console.log(row('budget 250 ms: client time - budget', stats(expiry)))

process.kill(-worker.pid!, 'SIGTERM')
await fake.close()
process.exit(0)
