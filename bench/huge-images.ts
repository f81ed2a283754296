/**
 * Huge-image benchmark (issue 12): 8 requests of four 7000x7000 16-bit PNGs each at once, then a
 * 64x64 PNG and a corrupt 64x64 PNG. Reports when the small image's verdict came and what it was,
 * the corrupt one's status, how long the service kept burning CPU after the huge requests'
 * budgets ended, and the service's peak RSS.
 *
 * Method: the built service in its own process (`node dist/entry/node.js`, as bench/load.ts runs
 * it), the fake Gemini in another (answers after 50 ms). "Busy until": the last 100 ms window in
 * which the service used more than 20 ms of CPU (/proc/<pid>/stat), counted from the end of the
 * huge requests' budgets. Run: npm run build && npx tsx bench/huge-images.ts [--budget MS] [--env NAME=value]
 */
import { readFileSync } from 'node:fs'
import sharp from 'sharp'
import { peakRssMb, service, stop, withFake } from './processes.js'

const flag = process.argv.indexOf('--budget')
const BUDGET = Number(flag >= 0 ? process.argv[flag + 1] : 800)
const HUGE_REQUESTS = 8
// --env NAME=value (repeatable): settings for the service, e.g. MODERATION_IMAGE_DECODES=1.
const serviceEnv = Object.fromEntries(process.argv.flatMap((arg, i) => (process.argv[i - 1] === '--env' ? [arg.split('=', 2) as [string, string]] : [])))

const huge = await sharp({ create: { width: 7000, height: 7000, channels: 3, background: { r: 120, g: 30, b: 200 } } })
  .toColourspace('rgb16')
  .png({ compressionLevel: 9 })
  .toBuffer()
const small = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 10, g: 200, b: 90 } } }).png().toBuffer()
const noisy = Buffer.from(Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 31 + (i >> 7)) & 0xff))
const corrupt = await sharp(noisy, { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer()
corrupt.fill(0x41, 40, corrupt.length - 20)

const cpuMs = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100 // utime + stime, in 10 ms ticks
}

await withFake('healthy', async (fakeUrl) => {
  const { url, child } = await service(fakeUrl, serviceEnv)
  const pid = child.pid!
  const post = async (images: Buffer[], budget = BUDGET) => {
    const started = performance.now()
    const res = await fetch(`${url}/v1/moderate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ images: images.map((image) => ({ data: image.toString('base64') })), budget_ms: budget }),
    })
    const body = (await res.json()) as { source?: string; fallback_reason?: string; error?: { code: string } }
    return { ms: performance.now() - started, status: res.status, what: body.error?.code ?? `${body.source}${body.fallback_reason ? `/${body.fallback_reason}` : ''}` }
  }
  const samples: { at: number; cpu: number }[] = []
  const t0 = performance.now()
  const sampler = setInterval(() => samples.push({ at: performance.now() - t0, cpu: cpuMs(pid) }), 100)

  const hugeReplies = Array.from({ length: HUGE_REQUESTS }, () => post([huge, huge, huge, huge]))
  await new Promise((resolve) => setTimeout(resolve, 100))
  const [smallReply, corruptReply] = await Promise.all([post([small]), post([corrupt])])
  const hugeDone = await Promise.all(hugeReplies)
  const budgetsEnded = BUDGET // all were sent at t0
  // Wait for the CPU to go quiet (or 60 s), then a small image once more.
  for (let quiet = 0, i = 0; quiet < 10 && i < 600; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    const [a, b] = samples.slice(-2)
    quiet = a && b && b.cpu - a.cpu < 20 ? quiet + 1 : 0
  }
  clearInterval(sampler)
  let busyUntil = 0
  for (let i = 1; i < samples.length; i++) if (samples[i]!.cpu - samples[i - 1]!.cpu > 20) busyUntil = samples[i]!.at
  const after = await post([small])
  const rss = peakRssMb(pid)
  await stop(child)

  const statuses = hugeDone.map((r) => `${r.status} ${r.what}`)
  console.log(`huge image: ${huge.length} bytes; budget ${BUDGET} ms; ${HUGE_REQUESTS} requests x 4 images; ${JSON.stringify(serviceEnv)}`)
  console.log(`huge replies: ${[...new Set(statuses)].join(', ')}; slowest ${Math.max(...hugeDone.map((r) => r.ms)).toFixed(0)} ms`)
  console.log(`64x64 sent 100 ms later: ${smallReply.status} ${smallReply.what} in ${smallReply.ms.toFixed(0)} ms`)
  console.log(`corrupt 64x64 sent 100 ms later: ${corruptReply.status} ${corruptReply.what} in ${corruptReply.ms.toFixed(0)} ms`)
  console.log(`CPU busy until ${(busyUntil / 1000).toFixed(1)} s, ${((busyUntil - budgetsEnded) / 1000).toFixed(1)} s after the huge budgets ended`)
  console.log(`64x64 once quiet: ${after.status} ${after.what} in ${after.ms.toFixed(0)} ms`)
  console.log(`service peak RSS (VmHWM): ${rss.toFixed(0)} MB`)
})
process.exit(0)
