/**
 * The processes the benchmarks run: the built service, the fake Gemini, the bare servers; each
 * on a free loopback port, each stopped at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { createInterface } from 'node:readline'

export const children: ChildProcess[] = []

/** Starts a process and resolves with the first URL it prints (JSON log line or plain). */
export function start(command: string, args: string[], env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const url = /"url":"([^"]+)"/.exec(line)?.[1] ?? (/^http:\/\/\S+$/.test(line.trim()) ? line.trim() : undefined)
      if (url) resolve({ url, child })
    })
    child.on('exit', (code) => reject(new Error(`${command} ${args.join(' ')} exited with ${code}`)))
  })
}

export const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve()
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })

export const peakRssMb = (pid: number) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024

/** The built service on a free port, logging nothing (so no log line carries the URL): poll /healthz. */
export async function service(fakeUrl: string, extraEnv: Record<string, string> = {}) {
  const port = await freePort()
  const child = spawn(process.execPath, ['dist/entry/node.js'], {
    // MALLOC_ARENA_MAX=2, as the README recommends for deployment (glibc; sharp's threads otherwise
    // each get an arena): peak RSS in run E 243-258 MB without it, 215-219 MB with it.
    env: {
      ...process.env,
      MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
      PORT: String(port),
      GEMINI_API_KEY: 'bench',
      GEMINI_BASE_URL: fakeUrl,
      LOG_LEVEL: 'silent',
      MODERATION_MAX_IN_FLIGHT: '2048',
      // Stopped between runs: no load balancer to tell.
      MODERATION_DRAIN_DELAY_MS: '0',
      ...extraEnv,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  children.push(child)
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 100; i++) {
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) return { url, child }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('the service did not start')
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => resolve(port))
    })
  })
}

export async function withFake<T>(mode: string, work: (fakeUrl: string) => Promise<T>): Promise<T> {
  const fake = await start(process.execPath, ['--import', 'tsx', 'bench/fake-gemini-server.ts'], { MODE: mode })
  try {
    return await work(fake.url)
  } finally {
    await stop(fake.child)
  }
}

