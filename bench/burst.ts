/**
 * Burst and adversarial-input runs (issue 12), on a freshly started service each time:
 *  - 256 requests sent at once (one connection each) with a healthy model (50 ms) at budget
 *    800 ms, an instant model at budget 300 ms, and a hanging model at budget 300 ms; against
 *    the floor: a bare node:http server answering every request exactly at the budget, driven by
 *    the same client. Reports client-side p50/p99/max, what judged, and the circuit after.
 *  - hostile inputs, one at a time, while /healthz is polled every 5 ms: the worst /healthz wait.
 * Run on its own: npx tsx bench/burst.ts (after npm run build); npm run bench includes it.
 */
import { request as httpRequest, Agent } from 'node:http'
import { service, start, stop, withFake } from './processes.js'
import { stats, type Stats } from './stats.js'

export interface BurstRun {
  latency: Stats
  /** What the service reported as latency_ms: from its estimate of arrival. */
  reported: Stats
  statuses: Record<string, number>
  outcomes: Record<string, number>
  circuit?: string
}

interface Reply {
  status: number
  ms: number
  body: string
}

export function post(url: string, body: string, agent: Agent): Promise<Reply> {
  const started = performance.now()
  return new Promise((resolve) => {
    const req = httpRequest(`${url}/v1/moderate`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, body: Buffer.concat(chunks).toString('utf8') }))
    })
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started, body: '' }))
    req.end(body)
  })
}

/** `count` requests at once, each on its own connection. */
export async function burst(url: string, count: number, body: (i: number) => string): Promise<BurstRun> {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity })
  const replies = await Promise.all(Array.from({ length: count }, (_, i) => post(url, body(i), agent)))
  agent.destroy()
  const statuses: Record<string, number> = {}
  const outcomes: Record<string, number> = {}
  for (const reply of replies) {
    statuses[reply.status] = (statuses[reply.status] ?? 0) + 1
    const outcome = /"fallback_reason":"(\w+)"/.exec(reply.body)?.[1] ?? /"source":"(\w+)"/.exec(reply.body)?.[1] ?? 'other'
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1
  }
  const reported = replies.map((r) => Number(/"latency_ms":(\d+)/.exec(r.body)?.[1] ?? Number.NaN)).filter((v) => !Number.isNaN(v))
  return { latency: stats(replies.map((r) => r.ms)), reported: stats(reported.length > 0 ? reported : [0]), statuses, outcomes }
}

const BURST = 256
let seq = 0
const text = (budget: number) => () => JSON.stringify({ text: `burst ${process.pid} #${seq++}: a lovely day for a walk in the park`, budget_ms: budget })

/** A fresh service per run (JIT, connections and all cold), ready before the burst. */
export async function freshBurst(mode: string, budget: number): Promise<BurstRun> {
  return withFake(mode, async (fakeUrl) => {
    const svc = await service(fakeUrl)
    await waitReady(svc.url)
    const run = await burst(svc.url, BURST, text(budget))
    run.circuit = ((await (await fetch(`${svc.url}/readyz`)).json()) as { circuit?: string }).circuit
    await stop(svc.child)
    return run
  })
}

async function waitReady(url: string) {
  for (let i = 0; i < 200; i++) {
    if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error('the service never became ready')
}

/** The floor: node:http answering each request at exactly the budget. */
export async function floor(budget: number): Promise<BurstRun> {
  const bare = await start(process.execPath, ['--import', 'tsx', 'bench/bare-servers.ts'], { KIND: 'budget', BUDGET_MS: String(budget) })
  const run = await burst(bare.url, BURST, text(budget))
  await stop(bare.child)
  return run
}

// Each within the limits (10 MiB body, 50,000 characters of text).
const HOSTILE: Record<string, () => { body: string; type: string; path?: string }> = {
  'text: 50k of .! with no space after': () => ({ body: JSON.stringify({ text: '.!'.repeat(24_999) + 'x' }), type: 'application/json' }),
  'text: U+FDFA x 30k (NFKC x18)': () => ({ body: JSON.stringify({ text: '\uFDFA'.repeat(30_000) }), type: 'application/json' }),
  'text: ignore all x 4.5k': () => ({ body: JSON.stringify({ text: 'ignore all '.repeat(4_545) }), type: 'application/json' }),
  'json: 2M deep': () => ({ body: '['.repeat(2_000_000) + ']'.repeat(2_000_000), type: 'application/json' }),
  'json: 1M-element array': () => ({ body: JSON.stringify({ text: 'x', images: new Array(1_000_000).fill(0) }), type: 'application/json' }),
  'multipart: 150k parts': () => {
    const boundary = 'b'
    const part = `--${boundary}\r\ncontent-disposition: form-data; name="x"\r\n\r\ny\r\n`
    return { body: part.repeat(150_000) + `--${boundary}--\r\n`, type: `multipart/form-data; boundary=${boundary}` }
  },
  'perspective: 200k attributes': () => ({
    body: JSON.stringify({ comment: { text: 'hi' }, requestedAttributes: Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`A${i}`, {}])) }),
    type: 'application/json',
    path: '/v1alpha1/comments:analyze',
  }),
  'openai: 100k inputs': () => ({ body: JSON.stringify({ input: new Array(100_000).fill('x') }), type: 'application/json', path: '/v1/moderations' }),
}

export interface StallRun {
  status: number
  answerMs: number
  worstHealthzMs: number
}

/** Sends one hostile body while /healthz is polled every 5 ms on a keep-alive connection. */
async function stallUnder(url: string, make: () => { body: string; type: string; path?: string }): Promise<StallRun> {
  const { body, type, path = '/v1/moderate' } = make()
  let polling = true
  let worst = 0
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const poll = (async () => {
    while (polling) {
      const started = performance.now()
      await new Promise<void>((resolve) => httpRequest(`${url}/healthz`, { agent }, (res) => res.resume().on('end', resolve)).on('error', () => resolve()).end())
      worst = Math.max(worst, performance.now() - started)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  })()
  await new Promise((resolve) => setTimeout(resolve, 50))
  const started = performance.now()
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': type }, body })
  await res.arrayBuffer()
  const answerMs = performance.now() - started
  await new Promise((resolve) => setTimeout(resolve, 50))
  polling = false
  await poll
  agent.destroy()
  return { status: res.status, answerMs, worstHealthzMs: worst }
}

export async function runBurstBenchmarks() {
  const results = {
    healthy800: await freshBurst('healthy', 800),
    instant300: await freshBurst('instant', 300),
    hanging300: await freshBurst('hang', 300),
    floor300: await floor(300),
    floor800: await floor(800),
    stalls: {} as Record<string, StallRun>,
  }
  await withFake('instant', async (fakeUrl) => {
    const svc = await service(fakeUrl)
    await waitReady(svc.url)
    for (const [name, make] of Object.entries(HOSTILE)) results.stalls[name] = await stallUnder(svc.url, make)
    await stop(svc.child)
  })
  return results
}

export function burstTable(results: Awaited<ReturnType<typeof runBurstBenchmarks>>): string {
  const f = (v: number) => v.toFixed(0)
  const share = (run: BurstRun) => Object.entries(run.outcomes).map(([k, v]) => `${k} ${v}`).join(', ')
  const line = (name: string, run: BurstRun, extra = '') =>
    `${name.padEnd(44)}${f(run.latency.p50).padStart(7)}${f(run.latency.p99).padStart(7)}${f(run.latency.max).padStart(7)}  ${share(run)}${run.circuit ? `; circuit ${run.circuit}` : ''}${extra}`
  return [
    `Burst: ${BURST} requests at once, fresh process   ${'p50'.padStart(7)}${'p99'.padStart(7)}${'max'.padStart(7)}  (ms at the client)`,
    line('floor: node:http answering at 300 ms', results.floor300),
    line('floor: node:http answering at 800 ms', results.floor800),
    line('healthy model (50 ms), budget 800', results.healthy800, `; p99 - floor ${f(results.healthy800.latency.p99 - results.floor800.latency.p99)} ms`),
    line('instant model, budget 300', results.instant300),
    line('hanging model, budget 300', results.hanging300, `; p99 - floor ${f(results.hanging300.latency.p99 - results.floor300.latency.p99)} ms`),
    'Hostile inputs, one at a time, /healthz polled every 5 ms:',
    ...Object.entries(results.stalls).map(([name, run]) => `  ${name.padEnd(36)} ${String(run.status).padStart(4)} in ${f(run.answerMs).padStart(6)} ms; worst /healthz ${f(run.worstHealthzMs).padStart(6)} ms`),
  ].join('\n')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = await runBurstBenchmarks()
  console.log(`\n${burstTable(results)}\n`)
  process.exit(0)
}
