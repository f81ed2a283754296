import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'

export interface StartedEntry {
  child: ChildProcess
  /** http://127.0.0.1:PORT, as the service logs it. */
  url: string
  /** Its log lines, parsed. */
  lines: Record<string, unknown>[]
  exited: Promise<number | null>
}

/**
 * Starts the real Node entry (through tsx, and any `nodeArgs`) on a random loopback port, with
 * only PATH and `env` for environment, and resolves once it logs "listening".
 *
 * @example
 * const { child, url, exited } = await startEntry({ MODERATION_WARMUP_REQUESTS: '0' })
 */
export async function startEntry(env: Record<string, string>, { nodeArgs = [] }: { nodeArgs?: string[] } = {}): Promise<StartedEntry> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...nodeArgs, 'src/entry/node.ts'], {
    env: { PATH: process.env.PATH, PORT: '0', MODERATION_DRAIN_DELAY_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // Read, or a chatty stderr would fill its pipe and stall the service; its start kept for errors.
  let stderr = ''
  child.stderr!.on('data', (chunk) => (stderr = (stderr + chunk).slice(0, 10_000)))
  const lines: Record<string, unknown>[] = []
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const parsed = JSON.parse(line) as Record<string, unknown>
      lines.push(parsed)
      if (parsed.msg === 'listening') resolve(parsed.url as string)
    })
    void exited.then((code) => reject(new Error(`exited with ${code}: ${JSON.stringify(lines)} ${stderr}`)))
  })
  return { child, url, lines, exited }
}

/** Stops a started entry with SIGTERM and waits for it to exit. */
export async function stopEntry(entry: StartedEntry): Promise<number | null> {
  entry.child.kill('SIGTERM')
  return entry.exited
}
