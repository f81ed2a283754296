import { serve } from '@hono/node-server'
import { compose } from './compose-node.js'

// The Node entry: configuration from the environment, a server, and a graceful SIGTERM.
const started = await compose(process.env).catch((error: Error) => {
  console.error(JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'cannot start', error: error.message }))
  process.exit(1)
})
const { app, config, logger, setDraining } = started

const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
  logger.info('listening', { host: config.HOST, port: info.port, url: `http://${config.HOST}:${info.port}` })
})

// Stop accepting, let in-flight requests finish (each is bounded by its budget), then exit.
const SHUTDOWN_GRACE_MS = 15_000
let stopping = false
function shutdown(signal: string) {
  if (stopping) return
  stopping = true
  setDraining()
  logger.info('shutting down', { signal })
  server.close((error) => {
    logger.info('stopped', { error: error?.message })
    process.exit(error ? 1 : 0)
  })
  // Keep-alive connections would hold close() open until they time out: drop each as it goes idle.
  if ('closeIdleConnections' in server) {
    server.closeIdleConnections()
    setInterval(() => server.closeIdleConnections(), 50).unref()
  }
  setTimeout(() => {
    logger.error('in-flight requests did not finish in time; exiting', { grace_ms: SHUTDOWN_GRACE_MS })
    process.exit(1)
  }, SHUTDOWN_GRACE_MS).unref()
}
process.on('SIGTERM', () => shutdown('SIGTERM'))
process.on('SIGINT', () => shutdown('SIGINT'))
