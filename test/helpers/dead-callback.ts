import { createServer } from 'node:net'

/**
 * A callback URL on 127.0.0.1 that refuses every connection (a port that was free a moment ago):
 * a receiver that is down, so each delivery fails and is retried, and the job stays pending.
 */
export async function deadCallbackUrl(): Promise<string> {
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
  return `http://127.0.0.1:${port}/hooks/moderation`
}
