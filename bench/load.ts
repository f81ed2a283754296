/**
 * Load benchmark (npm run bench): the built Node service in its own process, the fake Gemini in
 * another, autocannon (from this process) at fixed concurrency over loopback.
 *  A. cache-hit path: the service vs a bare node:http server and a bare Hono app doing the same
 *     JSON round trip; the service's throughput as a ratio of theirs.
 *  B. model path with an instant fake: latency, and the service's overhead over calling the
 *     fake directly at the same concurrency.
 *  C. realistic model: lognormal latency (p50 300 ms, p99 1.5 s), 2% 500s, 1% hangs, budget
 *     800 ms: throughput, latency, fallbacks by reason.
 *  D. hanging model at 256 connections, budget 300 ms: how far past the budget answers come.
 *  F. bursts of 256 at once on fresh processes, and hostile inputs against /healthz (burst.ts).
 *  G. several instances: MODERATION_WORKERS=2, and the verdict cache through Redis (instances.ts).
 * Peak RSS of the service process (VmHWM). Writes bench/load-results.json.
 * Run: npm run bench [-- --seconds N]
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import autocannon from 'autocannon'
import { burstTable, runBurstBenchmarks } from './burst.js'
import { runInstances } from './instances.js'
import { children, peakRssMb, service, start, stop, withFake } from './processes.js'

const flag = process.argv.indexOf('--seconds')
const SECONDS = Number(flag >= 0 ? process.argv[flag + 1] : (process.env.BENCH_SECONDS ?? 8))

interface Run {
  rps: number
  p50: number
  p99: number
  max: number
  non2xx: number
  errors: number
  reasons: Record<string, number>
}

/** One autocannon run; `body` is called per request (unique texts), verdict bodies are tallied. */
async function load(url: string, path: string, connections: number, body: () => string, seconds = SECONDS): Promise<Run> {
  const reasons: Record<string, number> = {}
  const result = await autocannon({
    url: `${url}${path}`,
    connections,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (request) => ({ ...request, body: body() }) }],
    setupClient: (client) => {
      client.on('body', (buffer: Buffer) => {
        const text = buffer.toString('utf8')
        const reason = /"fallback_reason":"(\w+)"/.exec(text)?.[1] ?? /"source":"(\w+)"/.exec(text)?.[1] ?? 'other'
        reasons[reason] = (reasons[reason] ?? 0) + 1
      })
    },
  })
  return summary(result, reasons)
}

/**
 * The lightest client autocannon makes (one fixed body, answers not read), for the cache-hit
 * comparison: the per-request client above costs the shared 2 cores enough that the servers'
 * differences shrink. Also the server's CPU per request (user + system, from /proc).
 */
async function lightLoad(url: string, pid: number, connections: number, body: string): Promise<Run & { cpuUsPerRequest: number }> {
  const before = cpuUs(pid)
  const result = await autocannon({ url: `${url}/v1/moderate`, connections, duration: SECONDS, method: 'POST', headers: { 'content-type': 'application/json' }, body })
  return { ...summary(result, {}), cpuUsPerRequest: (cpuUs(pid) - before) / result.requests.total }
}

const cpuUs = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) * (1_000_000 / 100)
}

function summary(result: autocannon.Result, reasons: Record<string, number>): Run {
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    reasons,
  }
}

let seq = 0
const unique = () => JSON.stringify({ text: `load test ${process.pid} #${seq++}: a lovely day for a walk in the park` })
const same = () => JSON.stringify({ text: 'load test: the same sentence, to hit the cache' })

const results: Record<string, unknown> = {}
console.error(`load benchmark: ${SECONDS} s per run, ${os.cpus().length} cores`)

// A. Cache-hit path, against the bare servers.
await withFake('instant', async (fakeUrl) => {
  const svc = await service(fakeUrl)
  await load(svc.url, '/v1/moderate', 8, same, 1) // warm up (and fill the cache)
  const cached = await load(svc.url, '/v1/moderate', 64, same)
  const bareNode = await start(process.execPath, ['--import', 'tsx', 'bench/bare-servers.ts'], { KIND: 'node' })
  const node = await load(bareNode.url, '/v1/moderate', 64, same)
  await stop(bareNode.child)
  const bareHono = await start(process.execPath, ['--import', 'tsx', 'bench/bare-servers.ts'], { KIND: 'hono' })
  const hono = await load(bareHono.url, '/v1/moderate', 64, same)
  await stop(bareHono.child)
  results.cacheHit = { service: cached, bareNode: node, bareHono: hono, ratioToNode: cached.rps / node.rps, ratioToHono: cached.rps / hono.rps }
  // The same with the lightest client, and the CPU each request costs each server.
  const lightService = await lightLoad(svc.url, svc.child.pid!, 64, same())
  const lightBare = await start(process.execPath, ['--import', 'tsx', 'bench/bare-servers.ts'], { KIND: 'node' })
  const lightNode = await lightLoad(lightBare.url, lightBare.child.pid!, 64, same())
  await stop(lightBare.child)
  results.cacheHitLight = { service: lightService, bareNode: lightNode, ratioToNode: lightService.rps / lightNode.rps }

  // B. Model path, instant fake: the service, and the fake called directly the same way.
  const model = await load(svc.url, '/v1/moderate', 64, unique)
  const direct = await load(fakeUrl, '/v1beta/models/gemini-3.5-flash:generateContent', 64, () =>
    JSON.stringify({ contents: [{ role: 'user', parts: [{ text: `direct ${seq++}` }] }], generationConfig: { temperature: 0 } }),
  )
  results.instantModel = { service: model, directFake: direct, overheadP50: model.p50 - direct.p50, overheadP99: model.p99 - direct.p99 }
  results.rssAfterAB = peakRssMb(svc.child.pid!)
  await stop(svc.child)
})

// C. Realistic model latency with errors and hangs.
await withFake('realistic', async (fakeUrl) => {
  // Room for a hedge next to each of the 64 calls (a hedge never waits for a slot).
  const svc = await service(fakeUrl, { MODERATION_MAX_MODEL_CALLS: '128' })
  const realistic = await load(svc.url, '/v1/moderate', 64, unique, SECONDS * 2)
  results.realistic = { ...realistic, peakRssMb: peakRssMb(svc.child.pid!) }
  await stop(svc.child)
  // The same with hedging: a second call when the first has not answered after 450 ms.
  const hedgedSvc = await service(fakeUrl, { MODERATION_MAX_MODEL_CALLS: '128', MODERATION_HEDGE_AFTER_MS: '450' })
  results.realisticHedged = await load(hedgedSvc.url, '/v1/moderate', 64, unique, SECONDS * 2)
  await stop(hedgedSvc.child)
})

// D. A hanging model at 256 connections: answers must come at the budget.
await withFake('hang', async (fakeUrl) => {
  const svc = await service(fakeUrl)
  const hanging = await load(svc.url, '/v1/moderate', 256, () => JSON.stringify({ text: `hang ${seq++}`, budget_ms: 300 }))
  results.hanging = { ...hanging, p99OverBudget: hanging.p99 - 300, maxOverBudget: hanging.max - 300, peakRssMb: peakRssMb(svc.child.pid!) }
  await stop(svc.child)
})

// E. Memory with images: IMAGE_REQUESTS raw 1 MB PNG uploads, 16 connections, instant model; the
// service's peak RSS. Every upload is sniffed and fully decoded (before the cache is consulted).
const IMAGE_REQUESTS = Number(process.env.BENCH_IMAGE_REQUESTS ?? 10_000)
if (IMAGE_REQUESTS > 0) {
  await withFake('instant', async (fakeUrl) => {
    const svc = await service(fakeUrl)
    const sharp = (await import('sharp')).default
    const side = 590 // ~1 MB as PNG with noise
    const raw = randomBytes(side * side * 3) // noise: the PNG stays about as large as the pixels
    const png = await sharp(raw, { raw: { width: side, height: side, channels: 3 } }).png({ compressionLevel: 1 }).toBuffer()
    const started = performance.now()
    const result = await autocannon({
      url: `${svc.url}/v1/moderate`,
      connections: 16,
      amount: IMAGE_REQUESTS,
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: png,
    })
    results.images = {
      requests: result.requests.total,
      seconds: (performance.now() - started) / 1000,
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      non2xx: result.non2xx,
      imageBytes: png.length,
      peakRssMb: peakRssMb(svc.child.pid!),
    }
    await stop(svc.child)
  })
}

// F. Bursts on fresh processes and hostile inputs (issue 12).
results.bursts = await runBurstBenchmarks()

// G. Several instances (issue 14): MODERATION_WORKERS=2, and the verdict cache through Redis.
results.instances = await runInstances().catch((error: Error) => [`not run: ${error.message} (needs Redis at REDIS_URL or 127.0.0.1:6379)`])

const r = results as {
  cacheHit: { service: Run; bareNode: Run; bareHono: Run; ratioToNode: number; ratioToHono: number }
  cacheHitLight: { service: Run & { cpuUsPerRequest: number }; bareNode: Run & { cpuUsPerRequest: number }; ratioToNode: number }
  instantModel: { service: Run; directFake: Run; overheadP50: number; overheadP99: number }
  realistic: Run & { peakRssMb: number }
  realisticHedged: Run
  hanging: Run & { p99OverBudget: number; maxOverBudget: number; peakRssMb: number }
}
const f = (v: number) => v.toFixed(v >= 100 ? 0 : 1)
const line = (name: string, run: Run, extra = '') =>
  `${name.padEnd(34)}${f(run.rps).padStart(8)}${f(run.p50).padStart(8)}${f(run.p99).padStart(8)}${f(run.max).padStart(8)}  ${extra}`
const share = (run: Run) => {
  const total = Object.values(run.reasons).reduce((a, b) => a + b, 0) || 1
  return Object.entries(run.reasons)
    .sort(([, a], [, b]) => b - a)
    .map(([k, v]) => `${k} ${((v / total) * 100).toFixed(1)}%`)
    .join(', ')
}
const table = [
  `Load benchmark, ${new Date().toISOString()} | node ${process.version} | ${os.cpus()[0]?.model} | ${os.cpus().length} cores | ${SECONDS} s runs`,
  `${''.padEnd(34)}${'req/s'.padStart(8)}${'p50'.padStart(8)}${'p99'.padStart(8)}${'max'.padStart(8)}  (latency in ms)`,
  line('A. bare node:http, 64 conns', r.cacheHit.bareNode),
  line('A. bare Hono, 64 conns', r.cacheHit.bareHono),
  line('A. service, cache hit, 64 conns', r.cacheHit.service, `= ${r.cacheHit.ratioToNode.toFixed(2)} of node:http, ${r.cacheHit.ratioToHono.toFixed(2)} of Hono`),
  line('A. light client: bare node:http', r.cacheHitLight.bareNode, `${f(r.cacheHitLight.bareNode.cpuUsPerRequest)} us CPU/request`),
  line('A. light client: service, cache hit', r.cacheHitLight.service, `${f(r.cacheHitLight.service.cpuUsPerRequest)} us CPU/request; = ${r.cacheHitLight.ratioToNode.toFixed(2)} of node:http`),
  line('B. fake Gemini called directly', r.instantModel.directFake),
  line('B. service, instant model', r.instantModel.service, `overhead p50 ${f(r.instantModel.overheadP50)} ms, p99 ${f(r.instantModel.overheadP99)} ms`),
  line('C. service, realistic model', r.realistic, `${share(r.realistic)}`),
  line('C. the same, hedged after 450 ms', r.realisticHedged, `${share(r.realisticHedged)}`),
  line('D. service, hanging model, 256 c', r.hanging, `p99 ${f(r.hanging.p99OverBudget)} ms over the 300 ms budget; ${share(r.hanging)}`),
  `non-2xx: A ${r.cacheHit.service.non2xx}, B ${r.instantModel.service.non2xx}, C ${r.realistic.non2xx + r.realisticHedged.non2xx}, D ${r.hanging.non2xx}; errors: ${r.cacheHit.service.errors + r.instantModel.service.errors + r.realistic.errors + r.hanging.errors}`,
  `service peak RSS (VmHWM): A+B ${f(results.rssAfterAB as number)} MB, C ${f(r.realistic.peakRssMb)} MB, D ${f(r.hanging.peakRssMb)} MB`,
  ...(results.images ? [imagesLine(results.images as ImagesRun)] : []),
  burstTable(results.bursts as Awaited<ReturnType<typeof runBurstBenchmarks>>),
  'Several instances:',
  ...(results.instances as string[]).map((row) => `  ${row}`),
].join('\n')
console.log(`\n${table}\n`)
writeFileSync('bench/load-results.json', `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model, cores: os.cpus().length, seconds: SECONDS, results }, null, 2)}\n`)
await Promise.all(children.map(stop))
process.exit(0)

interface ImagesRun {
  requests: number
  seconds: number
  rps: number
  p50: number
  p99: number
  non2xx: number
  imageBytes: number
  peakRssMb: number
}

function imagesLine(run: ImagesRun): string {
  return `E. ${run.requests} raw PNG uploads of ${(run.imageBytes / 1e6).toFixed(2)} MB, 16 conns: ${run.rps.toFixed(0)} req/s, p50 ${run.p50} ms, p99 ${run.p99} ms, non-2xx ${run.non2xx}, service peak RSS ${run.peakRssMb.toFixed(0)} MB`
}
