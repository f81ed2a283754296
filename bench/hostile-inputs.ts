/**
 * Hostile-shape benchmark (issue 12): for each absurd body that fits under the 10 MiB limit, how
 * long the service takes to answer and the longest stretch it blocks the event loop meanwhile.
 *
 * Method: the real app composed as the Node entry does (local classifier, no model: every body
 * here must be refused before any model call), requests through app.request() in this process,
 * bodies built beforehand (building them is not timed). Longest block: the largest gap between
 * ticks of a 1 ms interval while the request runs.
 * Run: npx tsx bench/hostile-inputs.ts [--runs N]
 */
import { composeApp } from '../src/app/compose.js'
import { parseConfig } from '../src/config/config.js'
import { loadPolicies } from '../src/core/moderation/policy.js'
import { readPolicyFiles } from '../src/entry/read-policy-files.js'
import { readTextClassifier } from '../src/entry/read-text-classifier.js'
import { createSharpImageProcessor } from '../src/images/sharp-image-processor.js'
import { createJsonLogger } from '../src/logging/json-logger.js'

const flag = process.argv.indexOf('--runs')
const RUNS = Number(flag >= 0 ? process.argv[flag + 1] : 3)

const config = parseConfig({ MODERATION_LOCAL_CLASSIFIER: 'off', LOG_LEVEL: 'silent' })
const { app } = composeApp({
  config,
  policies: await readPolicyFiles('policies').then((files) => loadPolicies(files, 'default')),
  images: createSharpImageProcessor(),
  classifier: readTextClassifier(config.MODERATION_LOCAL_CLASSIFIER),
  logger: createJsonLogger({ level: 'silent', write: () => {} }),
})

const boundary = 'x'
function multipart(parts: number, headerBytes = 0): Uint8Array<ArrayBuffer> {
  const pad = headerBytes > 0 ? `X-Pad: ${'a'.repeat(headerBytes)}\r\n` : ''
  const one = `--${boundary}\r\nContent-Disposition: form-data; name="f"\r\n${pad}\r\nv\r\n`
  return new TextEncoder().encode(one.repeat(parts) + `--${boundary}--\r\n`)
}

interface Case { name: string; path: string; type: string; body: () => string | Uint8Array<ArrayBuffer> }
const cases: Case[] = [
  // Floors: ordinary shapes of the same sizes, refused by MODERATION_MAX_TEXT_CHARS after reading and parsing.
  { name: 'floor: JSON text of 4 MiB', path: '/v1/moderate', type: 'application/json', body: () => JSON.stringify({ text: 'a'.repeat(4 * 1048576) }) },
  { name: 'floor: multipart text of 7.5 MiB', path: '/v1/moderate', type: `multipart/form-data; boundary=${boundary}`, body: () => new TextEncoder().encode(`--${boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\n${'a'.repeat(7.5 * 1048576)}\r\n--${boundary}--\r\n`) },
  { name: 'JSON [[[[ 2M deep', path: '/v1/moderate', type: 'application/json', body: () => '['.repeat(2_000_000) + ']'.repeat(2_000_000) },
  { name: 'JSON {"a":{"a": ... 1M deep', path: '/v1/moderate', type: 'application/json', body: () => '{"a":'.repeat(1_000_000) + '1' + '}'.repeat(1_000_000) },
  { name: 'JSON images: 1M-element array', path: '/v1/moderate', type: 'application/json', body: () => `{"images":[${Array(1_000_000).fill('0').join(',')}]}` },
  { name: 'JSON [] of 2M zeros (moderations)', path: '/v1/moderations', type: 'application/json', body: () => `{"input":[${Array(2_000_000).fill('0').join(',')}]}` },
  { name: 'OpenAI input: 100k strings', path: '/v1/moderations', type: 'application/json', body: () => JSON.stringify({ input: Array.from({ length: 100_000 }, (_, i) => `text ${i}`) }) },
  {
    name: 'Perspective: 200k unknown attributes',
    path: '/v1alpha1/comments:analyze',
    type: 'application/json',
    body: () => JSON.stringify({ comment: { text: 'hi' }, requestedAttributes: Object.fromEntries(Array.from({ length: 200_000 }, (_, i) => [`ATTR_${i}`, {}])) }),
  },
  { name: 'multipart: 150k tiny parts', path: '/v1/moderate', type: `multipart/form-data; boundary=${boundary}`, body: () => multipart(150_000) },
  { name: 'multipart: one part, 1 MB header', path: '/v1/moderate', type: `multipart/form-data; boundary=${boundary}`, body: () => multipart(1, 1_000_000) },
]

async function timeOne(c: Case, body: string | Uint8Array<ArrayBuffer>) {
  let last = performance.now()
  let longest = 0
  const ticker = setInterval(() => {
    const now = performance.now()
    longest = Math.max(longest, now - last)
    last = now
  }, 1)
  const started = performance.now()
  const res = await app.request(c.path, { method: 'POST', headers: { 'content-type': c.type }, body })
  const text = await res.text()
  const ms = performance.now() - started
  longest = Math.max(longest, performance.now() - last)
  clearInterval(ticker)
  return { ms, longest, status: res.status, message: text }
}

for (const c of cases) {
  const body = c.body()
  const size = typeof body === 'string' ? Buffer.byteLength(body) : body.length
  const runs = []
  for (let i = 0; i < RUNS; i++) runs.push(await timeOne(c, body))
  const best = runs.reduce((a, b) => (a.ms < b.ms ? a : b))
  const worst = runs.reduce((a, b) => (a.ms > b.ms ? a : b))
  console.log(
    `${c.name.padEnd(40)} ${(size / 1048576).toFixed(2)} MiB  ${best.status}  answer ${best.ms.toFixed(1)}-${worst.ms.toFixed(1)} ms  longest block ${Math.max(...runs.map((r) => r.longest)).toFixed(1)} ms  message ${best.message.length} chars: ${best.message.slice(0, 140)}`,
  )
}
