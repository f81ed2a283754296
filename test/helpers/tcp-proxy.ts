import { createServer, connect, type Socket } from 'node:net'

/**
 * A TCP proxy on 127.0.0.1 in front of a real server (Redis), which a test can cut and restore:
 * `down()` drops every connection and refuses new ones, as a Redis that died would; `up()` listens
 * again on the same port.
 */
export async function startTcpProxy(target: { host: string; port: number }) {
  const sockets = new Set<Socket>()
  // While set, the server's replies wait here (requests still reach it): a Redis that answers late.
  let held: { client: Socket; chunk: Buffer }[] | undefined
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => {})
    }
    client.pipe(upstream)
    upstream.on('data', (chunk: Buffer) => (held ? held.push({ client, chunk }) : client.write(chunk)))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    down: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      }),
    up: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
    /** Holds every reply for `ms`, then lets them through in order. */
    holdReplies: (ms: number) => {
      held = []
      setTimeout(() => {
        const queued = held ?? []
        held = undefined
        for (const { client, chunk } of queued) client.write(chunk)
      }, ms)
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        if (server.listening) server.close(() => resolve())
        else resolve()
      }),
  }
}
