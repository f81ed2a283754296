import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { request } from 'node:http'
import { createInterface } from 'node:readline'
import { describe, expect, it } from 'vitest'

interface Line {
  msg: string
  pid?: number
  url?: string
  [field: string]: unknown
}

/** The real Node entry with MODERATION_WORKERS; lines from the primary and every worker. */
function startCluster(env: Record<string, string>): { child: ChildProcess; lines: Line[]; exited: Promise<[number | null]> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/entry/node.ts'], {
    env: { PATH: process.env.PATH, PORT: '0', MODERATION_WARMUP_REQUESTS: '0', MODERATION_DRAIN_DELAY_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: Line[] = []
  for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', (line) => lines.push(JSON.parse(line) as Line))
  return { child, lines, exited: once(child, 'exit') as Promise<[number | null]> }
}

const until = async (done: () => boolean, timeoutMs = 20_000) => {
  const end = Date.now() + timeoutMs
  while (!done() && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 25))
  expect(done()).toBe(true)
}

/** A request on a connection of its own, so the kernel may hand it to either worker. */
const post = (url: string, text: string) =>
  new Promise<number>((resolve, reject) => {
    const req = request(`${url}/v1/moderate`, { method: 'POST', agent: false, headers: { 'content-type': 'text/plain' } }, (res) => res.resume().on('end', () => resolve(res.statusCode!)))
    req.on('error', reject)
    req.end(text)
  })

describe('MODERATION_WORKERS: several processes on one port', () => {
  it('serves from every worker, replaces one that dies, and stops them all on SIGTERM', async () => {
    const { child, lines, exited } = startCluster({ MODERATION_WORKERS: '2' })
    try {
      await until(() => lines.filter((l) => l.msg === 'listening').length === 2)
      const listening = lines.filter((l) => l.msg === 'listening')
      expect(new Set(listening.map((l) => l.url)).size).toBe(1)
      expect(new Set(listening.map((l) => l.pid)).size).toBe(2)
      const url = listening[0]!.url!
      const statuses = await Promise.all(Array.from({ length: 40 }, (_, i) => post(url, `hello number ${i}`)))
      expect(statuses.every((status) => status === 200)).toBe(true)
      await until(() => new Set(lines.filter((l) => l.msg === 'request').map((l) => l.pid)).size === 2, 5_000)

      process.kill(listening[0]!.pid!, 'SIGKILL')
      await until(() => lines.some((l) => l.msg === 'a worker exited; starting another'))
      await until(() => lines.filter((l) => l.msg === 'listening').length === 3)
      expect(await post(url, 'after a worker died')).toBe(200)
    } finally {
      child.kill('SIGTERM')
    }
    expect((await exited)[0]).toBe(0)
    expect(lines.filter((l) => l.msg === 'stopped')).toHaveLength(2)
    expect(lines.some((l) => l.msg === 'all workers stopped')).toBe(true)
  }, 60_000)

  it('stops with the error when its workers cannot start (a missing policies folder), instead of forking for ever', async () => {
    const { lines, exited } = startCluster({ MODERATION_WORKERS: '2', MODERATION_POLICIES_DIR: 'no/such/folder' })
    expect((await exited)[0]).toBe(1)
    expect(lines.some((l) => l.msg === 'cannot start')).toBe(true)
    expect(lines.filter((l) => l.msg === 'a worker could not start; stopping')).toHaveLength(1)
  }, 30_000)

  it('runs one process without Redis unless told otherwise (each process would keep its own jobs)', async () => {
    const { child, lines, exited } = startCluster({})
    try {
      await until(() => lines.some((l) => l.msg === 'listening'))
      expect(lines.some((l) => l.msg === 'starting workers')).toBe(false)
    } finally {
      child.kill('SIGTERM')
    }
    expect((await exited)[0]).toBe(0)
  }, 30_000)
})
