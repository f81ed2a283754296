import { Worker } from 'node:worker_threads'
import { listPatterns } from '../core/local/local-rules.js'
import type { PolicyRegistry } from '../core/moderation/policy.js'

// A pattern whose probes take longer than this in all is refused, whatever the reason.
const PATTERN_LIMIT_MS = 1_500

/**
 * Every policy pattern that would be slow on long user text, as messages naming the policy,
 * the list and the pattern; empty when all are fine. The lists run each pattern over up to
 * 100,000 characters of every text, and JavaScript cannot stop a regular expression once it
 * runs (`strict`'s old e-mail pattern took 5 s on 50,000 characters of ".a"), so a pattern
 * that backtracks must not start serving. The probes run in a worker thread, which can be
 * terminated: a pattern still running after 1.5 s is refused, even one exponential enough to
 * run for ever. Node only (the Worker's policies are checked when they are bundled).
 *
 * @example
 * const slow = await findSlowPatterns(policies)
 * if (slow.length > 0) throw new ConfigError(slow.join('\n'))
 */
export async function findSlowPatterns(policies: PolicyRegistry, limitMs = PATTERN_LIMIT_MS): Promise<string[]> {
  const patterns = policies.list().flatMap((policy) => listPatterns(policy.local).map(({ where, pattern }) => ({ where: `policy ${policy.name}: ${where}`, pattern })))
  const problems: string[] = []
  let next = 0
  while (next < patterns.length) {
    const verdicts = await probeInWorker(patterns.slice(next).map(({ pattern }) => ({ source: pattern.source, flags: pattern.flags })), limitMs)
    for (const verdict of verdicts.done) {
      const { where, pattern } = patterns[next++]!
      if (verdict) problems.push(`${where}: pattern /${pattern.source}/ backtracks: ${verdict}; rewrite it without nested or overlapping repeats, tried only where a match can start (e.g. after a lookbehind)`)
    }
    if (verdicts.stuck) {
      const { where, pattern } = patterns[next++]!
      problems.push(`${where}: pattern /${pattern.source}/ backtracks: its probes did not finish in ${limitMs} ms; rewrite it without nested or overlapping repeats`)
    }
  }
  return problems
}

/** Probes patterns in order in a worker; stops (and says which got stuck) when one overruns. */
function probeInWorker(patterns: { source: string; flags: string }[], limitMs: number): Promise<{ done: (string | null)[]; stuck: boolean }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(PROBE_SOURCE, { eval: true, workerData: patterns })
    const done: (string | null)[] = []
    let timer: NodeJS.Timeout | undefined
    const arm = () => {
      clearTimeout(timer)
      timer = setTimeout(() => {
        void worker.terminate()
        resolve({ done, stuck: true })
      }, limitMs)
    }
    // The clock starts once the worker is up (it says so first): starting a thread on a busy
    // machine took longer than the limit, and a good pattern was refused for it.
    worker.on('message', (verdict: string | null | typeof READY) => {
      if (verdict === READY) return arm()
      done.push(verdict)
      if (done.length === patterns.length) {
        clearTimeout(timer)
        void worker.terminate()
        resolve({ done, stuck: false })
      } else arm()
    })
    worker.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
  })
}

/**
 * The worker's code, as source (so no build step can rewrite it). Judged by growth, not by a
 * time alone, so a busy machine does not refuse a good pattern: from 24 characters up, doubled,
 * a linear pattern takes twice as long and an exponential one thousands of times (refused past
 * 6 times and 1 ms); from 1,024 to 8,192 characters a linear one takes 8 times as long and a
 * quadratic one 64 (refused past 20 times and 4 ms). Each time is the best of two runs, and a
 * growth seen once is measured again, the best of five, before a pattern is refused. The
 * probes are runs of one class of characters, and pairs, with nothing after them that lets a
 * pattern finish; a letter of each common script; and what the pattern itself names: each of its
 * literal characters repeated, alone and after the literals before it. A heuristic: it catches
 * the shapes that are easy to write by accident, not every pattern that could backtrack.
 */
const READY = 'ready'
const PROBE_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
parentPort.postMessage('${READY}')
// Runs of one class of characters, pairs, and a letter of each common script.
const common = ['a', '1', ' ', '.', '-', 'a.', '.a', 'a ', 'a-', 'a_', 'a@', 'a1', 'ab', '<a', 'a\\n',
  'д', 'λ', '語', 'あ', 'ア', '한', 'ع', 'א', 'क', 'ก', 'é', 'дa', 'λa', '😀']
// What the pattern itself names: each literal character on its own, and each after the ones
// before it (\\bk+i+l+l+ backtracks only on "ki" then a run of "l").
function probesOf(source) {
  const literals = []
  for (let i = 0; i < source.length; i++) {
    const c = source[i]
    if (c === '\\\\') {
      const next = source[i + 1] ?? ''
      if (next === 'p' || next === 'P' || next === 'u' || next === 'x') { const close = source.indexOf(next === 'x' ? '' : '}', i); i = close > i ? close : i + 1; continue }
      if (!/[a-zA-Z0-9]/.test(next)) literals.push(next)
      i++
      continue
    }
    if (/[\\p{L}\\p{N}@#%&:;,=<>'"\\/ _~-]/u.test(c)) literals.push(c)
  }
  const units = [...new Set(literals)].map((unit) => ({ prefix: '', unit }))
  for (let i = 1; i < literals.length && i < 24; i++) units.push({ prefix: literals.slice(0, i).join(''), unit: literals[i] })
  return [...common.map((unit) => ({ prefix: '', unit })), ...units]
}
function best(pattern, text) {
  let fastest = Infinity
  for (let run = 0; run < 2 && fastest > 0.5; run++) {
    const started = performance.now()
    pattern.test(text)
    fastest = Math.min(fastest, performance.now() - started)
  }
  return fastest
}
// A growth seen once is measured again, each time the best of five runs, before it counts: a
// pause of the machine (another process, a collection) is not a pattern's growth.
function grows(pattern, smallText, largeText, factor, floor, minimum) {
  for (let round = 0; round < 2; round++) {
    let small = Infinity, large = Infinity
    for (let run = 0; run < (round === 0 ? 1 : 5); run++) {
      small = Math.min(small, best(pattern, smallText))
      large = Math.min(large, best(pattern, largeText))
      if (large > 50) return large
    }
    if (!(large > minimum && large > factor * Math.max(small, floor))) return 0
  }
  return best(pattern, largeText)
}
function verdict(pattern) {
  for (const { prefix, unit } of probesOf(pattern.source)) {
    const probe = (length) => prefix + unit.repeat(Math.ceil(length / unit.length)).slice(0, length) + '!'
    for (let length = 48; length <= 768; length *= 2) {
      const time = grows(pattern, probe(length / 2), probe(length), 6, 0.01, 1)
      if (time > 0) return Math.round(time) + ' ms on ' + JSON.stringify(prefix) + ' and ' + length + ' characters of ' + JSON.stringify(unit)
    }
    const large = grows(pattern, probe(1024), probe(8192), 20, 0.05, 4)
    if (large > 0) return Math.round(large) + ' ms on ' + JSON.stringify(prefix) + ' and 8192 characters of ' + JSON.stringify(unit) + ', ' + Math.round(large / Math.max(best(pattern, probe(1024)), 0.05)) + ' times its time on 1024'
  }
  return null
}
for (const { source, flags } of workerData) parentPort.postMessage(verdict(new RegExp(source, flags)))
`
