/**
 * The CPU one model call costs the service's process (issue 12): a call through @google/genai
 * over the Node entry's keep-alive transport, against the same generateContent POST made by hand
 * on a keep-alive node:http agent (the floor: what any client must spend to send it and read the
 * answer). The fake Gemini runs in its own process, answering at once; 16 calls at a time, 4,000
 * calls per run after 500 to warm up, user+system CPU of this process per call.
 * Run: npx tsx bench/model-call-cpu.ts
 */
import { Agent, request } from 'node:http'
import { createGeminiModel } from '../src/model/gemini-model.js'
import { createKeepAliveFetch } from '../src/net/keep-alive-fetch.js'
import { children, start, stop } from './processes.js'

const CALLS = 4_000
const AT_ONCE = 16
const MODEL = 'gemini-3.5-flash'
// A prompt and schema of the shipped policies' size.
const systemInstruction = 'You are a content moderator. Judge the user content against the policy. '.repeat(20)
const responseSchema = {
  type: 'object',
  properties: { safe: { type: 'boolean' }, categories: { type: 'array', items: { type: 'string' } }, confidence: { type: 'number' } },
  required: ['safe', 'categories', 'confidence'],
}

const fake = await start(process.execPath, ['--import', 'tsx', 'bench/fake-gemini-server.ts'], { MODE: 'instant' })
const model = createGeminiModel({ apiKey: 'bench', baseUrl: fake.url, model: MODEL, fetch: createKeepAliveFetch() })
const agent = new Agent({ keepAlive: true, maxSockets: 64 })

const throughSdk = async (i: number) => {
  const signal = new AbortController().signal
  await model.generate({ model: MODEL, text: `text ${i}: a lovely day for a walk`, images: [], systemInstruction, responseSchema, maxOutputTokens: 256, thinkingLevel: 'minimal', signal })
}
const byHand = (i: number) =>
  new Promise<void>((resolve, reject) => {
    const body = JSON.stringify({
      contents: [{ role: 'user', parts: [{ text: `text ${i}: a lovely day for a walk` }] }],
      systemInstruction: { parts: [{ text: systemInstruction }] },
      generationConfig: { temperature: 0, responseMimeType: 'application/json', responseJsonSchema: responseSchema, maxOutputTokens: 256, thinkingConfig: { thinkingLevel: 'MINIMAL' } },
    })
    const req = request(`${fake.url}/v1beta/models/${MODEL}:generateContent`, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'x-goog-api-key': 'bench' } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        JSON.parse(Buffer.concat(chunks).toString('utf8'))
        resolve()
      })
    })
    req.on('error', reject)
    req.end(body)
  })

async function cpuPerCall(call: (i: number) => Promise<void>): Promise<number> {
  for (let i = 0; i < 500; i++) await call(i)
  const before = process.cpuUsage()
  for (let i = 0; i < CALLS; i += AT_ONCE) await Promise.all(Array.from({ length: AT_ONCE }, (_, k) => call(i + k)))
  const used = process.cpuUsage(before)
  return (used.user + used.system) / CALLS
}

const rows: [string, number[]][] = [
  ['@google/genai over keep-alive node:http', []],
  ['the same POST by hand (node:http keep-alive)', []],
]
for (let run = 0; run < 3; run++) {
  rows[0]![1].push(await cpuPerCall(throughSdk))
  rows[1]![1].push(await cpuPerCall(byHand))
}
console.log(`CPU per model call, ${CALLS} calls, ${AT_ONCE} at a time, three runs (us):`)
for (const [name, values] of rows) console.log(`  ${name.padEnd(46)} ${values.map((v) => v.toFixed(0)).join(', ')}`)
await Promise.all(children.map(stop))
process.exit(0)
