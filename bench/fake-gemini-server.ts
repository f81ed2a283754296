/**
 * The fake Gemini as its own process, for the load benchmark: MODE=instant answers at once;
 * MODE=realistic draws latency from a lognormal (p50 300 ms, p99 1.5 s) with 2% HTTP 500s and
 * 1% hangs; MODE=healthy answers after 50 ms; MODE=hang never answers. Prints its URL on stdout.
 */
import { startFakeGemini, type FakeReply } from '../test/helpers/fake-gemini.js'

const mode = process.env.MODE ?? 'instant'
const ok: FakeReply = { verdict: { safe: true, categories: [], confidence: 0.95 } }
// Lognormal: median 300 ms; sigma = ln(1500/300) / 2.326 puts the 99th percentile at 1.5 s.
const SIGMA = Math.log(5) / 2.326
const normal = () => Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random())

const fake = await startFakeGemini({
  defaultReply: () => {
    if (mode === 'hang') return { hang: true }
    if (mode === 'instant') return ok
    if (mode === 'healthy') return { delayMs: 50, then: ok }
    const roll = Math.random()
    if (roll < 0.01) return { hang: true }
    if (roll < 0.03) return { status: 500 }
    return { delayMs: Math.round(300 * Math.exp(SIGMA * normal())), then: ok }
  },
})
// The benchmark does not need the request log; keep memory flat.
setInterval(() => fake.reset(), 1000).unref()
console.log(fake.url)
process.on('SIGTERM', () => void fake.close().then(() => process.exit(0)))
