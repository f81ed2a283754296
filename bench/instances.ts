/**
 * Several instances (issue 14), against the built service and a fake Gemini answering at once,
 * each in its own process:
 *  - throughput with MODERATION_WORKERS=1 and =2 on one port (node:cluster), the model path
 *    (unique texts) and the cache-hit path, 64 connections;
 *  - the verdict cache shared through Redis: two instances on two ports; each text is judged on
 *    the first, then asked of the second (a hit in Redis, copied into its LRU), then again (a
 *    hit in its LRU); latency of each, one request at a time.
 * Needs Redis at REDIS_URL (default redis://127.0.0.1:6379). Run: npm run build && npx tsx bench/instances.ts
 */
import { randomUUID } from 'node:crypto'
import autocannon from 'autocannon'
import { children, service, stop, withFake } from './processes.js'
import { stats } from './stats.js'

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8)
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

async function rps(url: string, body: () => string) {
  const result = await autocannon({ url: `${url}/v1/moderate`, connections: 64, duration: SECONDS, method: 'POST', headers: { 'content-type': 'application/json' }, requests: [{ setupRequest: (request) => ({ ...request, body: body() }) }] })
  return { rps: Math.round(result.requests.average), p99: result.latency.p99, non2xx: result.non2xx }
}

/** The runs above; their lines of results. */
export async function runInstances(): Promise<string[]> {
  const rows: string[] = []
  await withFake('instant', async (fakeUrl) => {
    for (const workers of ['1', '2']) {
      const svc = await service(fakeUrl, { MODERATION_WORKERS: workers })
      let seq = 0
      const model = await rps(svc.url, () => JSON.stringify({ text: `instances ${randomUUID()} #${seq++}` }))
      const hit = await rps(svc.url, () => JSON.stringify({ text: 'the same text, for the cache' }))
      rows.push(`MODERATION_WORKERS=${workers}: model path ${model.rps} req/s (p99 ${model.p99} ms), cache hit ${hit.rps} req/s (p99 ${hit.p99} ms), non-2xx ${model.non2xx + hit.non2xx}`)
      await stop(svc.child)
    }

    const prefix = `bench-${randomUUID().slice(0, 8)}`
    const env = { REDIS_URL, MODERATION_REDIS_PREFIX: prefix, MODERATION_WORKERS: '1' }
    const [one, two] = [await service(fakeUrl, env), await service(fakeUrl, env)]
    const time = async (url: string, text: string) => {
      const started = performance.now()
      const verdict = (await (await fetch(`${url}/v1/moderate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) })).json()) as { source: string }
      return { ms: performance.now() - started, source: verdict.source }
    }
    const judged: number[] = []
    const fromRedis: number[] = []
    const fromLru: number[] = []
    const sources: Record<string, number> = {}
    for (let i = 0; i < 300; i++) {
      const text = `shared cache ${randomUUID()}`
      judged.push((await time(one.url, text)).ms)
      await new Promise((resolve) => setTimeout(resolve, 2))
      const second = await time(two.url, text)
      sources[second.source] = (sources[second.source] ?? 0) + 1
      fromRedis.push(second.ms)
      fromLru.push((await time(two.url, text)).ms)
    }
    const f = (values: number[]) => { const s = stats(values); return `p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms` }
    rows.push(`Redis-shared cache, one request at a time (300 texts): judged on instance 1 (instant model) ${f(judged)}; the same text on instance 2, from Redis ${f(fromRedis)} (${JSON.stringify(sources)}); again on instance 2, from its LRU ${f(fromLru)}`)
    await stop(one.child)
    await stop(two.child)
  })
  return rows
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await runInstances()
  console.log(`\nSeveral instances, ${new Date().toISOString()}, ${SECONDS} s runs\n${rows.join('\n')}\n`)
  await Promise.all(children.map(stop))
  process.exit(0)
}
