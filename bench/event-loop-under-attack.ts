/**
 * Event-loop delay under hostile bodies, as the service itself reports it (issue 13's session:
 * the in-process figure the client-side probe could not give).
 *
 * Method: the built Node entry (npm run build) as a child process on 127.0.0.1, local classifier,
 * Prometheus on its own port; this process sends, from 4 concurrent clients for 12 s, back to
 * back: 49,000 characters of punctuation and 50,000 of ordinary text (both classified), a JSON
 * array 2M deep and one of 1M elements (refused, 400) and a multipart body of 150,000 parts
 * (refused, 413). Every 3 s it scrapes nodejs_eventloop_delay_* (seconds since the last scrape).
 * Client and service share the machine's cores.
 * Run: npm run build && npx tsx bench/event-loop-under-attack.ts
 */
import { spawn } from 'node:child_process'

const PORT = 18080
const METRICS = 19464
const SECONDS = 12
const child = spawn('node', ['dist/entry/node.js'], {
  env: { ...process.env, PORT: String(PORT), OTEL_METRICS_EXPORTER: 'prometheus', OTEL_EXPORTER_PROMETHEUS_PORT: String(METRICS), LOG_LEVEL: 'warn', GEMINI_API_KEY: '' },
  stdio: ['ignore', 'ignore', 'inherit'],
})
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
for (let i = 0; i < 100; i++) {
  if (await fetch(`http://127.0.0.1:${PORT}/readyz`).then((res) => res.ok, () => false)) break
  await sleep(100)
}

const boundary = 'x'
const part = `--${boundary}\r\nContent-Disposition: form-data; name="f"\r\n\r\nv\r\n`
const bodies: [string, string, string | Uint8Array<ArrayBuffer>][] = [
  ['49k characters of punctuation', 'application/json', JSON.stringify({ text: '.!?,;:'.repeat(8_150) })],
  ['50k characters of text', 'application/json', JSON.stringify({ text: 'you are all wonderful people and I hate nobody. '.repeat(1_050).slice(0, 50_000) })],
  ['JSON array 2M deep', 'application/json', '['.repeat(2_000_000) + ']'.repeat(2_000_000)],
  ['JSON array of 1M elements', 'application/json', `{"images":[${Array(1_000_000).fill('0').join(',')}]}`],
  ['multipart of 150k parts', `multipart/form-data; boundary=${boundary}`, new TextEncoder().encode(part.repeat(150_000) + `--${boundary}--\r\n`)],
]

async function delays() {
  const text = await (await fetch(`http://127.0.0.1:${METRICS}/metrics`)).text()
  const value = (statistic: string) => Number(new RegExp(`^nodejs_eventloop_delay_${statistic}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1]) * 1000
  return { p50: value('p50'), p99: value('p99'), max: value('max') }
}

await delays() // starts the first interval
const answers: Record<string, number> = {}
const end = Date.now() + SECONDS * 1000
async function client(next: number) {
  while (Date.now() < end) {
    const [name, type, body] = bodies[next++ % bodies.length]!
    const res = await fetch(`http://127.0.0.1:${PORT}/v1/moderate`, { method: 'POST', headers: { 'content-type': type }, body }).catch(() => undefined)
    await res?.arrayBuffer().catch(() => {})
    const key = `${name}: ${res?.status ?? 'no answer'}`
    answers[key] = (answers[key] ?? 0) + 1
  }
}
const intervals: Awaited<ReturnType<typeof delays>>[] = []
const scraping = (async () => {
  while (Date.now() < end) {
    await sleep(3_000)
    intervals.push(await delays())
  }
})()
await Promise.all([client(0), client(1), client(2), client(3), scraping])
child.kill('SIGTERM')

console.log(`answers in ${SECONDS} s:`, answers)
console.log('event-loop delay per 3 s interval, ms (p50 / p99 / max):')
for (const { p50, p99, max } of intervals) console.log(`  ${p50.toFixed(1)} / ${p99.toFixed(1)} / ${max.toFixed(1)}`)
