/**
 * entry/: Where a runtime starts: Node (this file, with its cluster, listener, warm-up and
 * telemetry SDK) and Workers (worker.ts).
 *
 * May import: everything.
 */
import cluster from 'node:cluster'
import { createServer } from 'node:http'
import { availableParallelism } from 'node:os'
import { parseConfig, workerCount } from '../config/config.js'
import { createJsonLogger } from '../logging/json-logger.js'
import { runPrimary } from './cluster-primary.js'
import { compose } from './compose-node.js'
import { startTelemetry } from './start-telemetry.js'

// What buffered spans and metrics get at exit before they are given up: a collector that does
// not answer delays the exit by this much at most.
const TELEMETRY_FLUSH_MS = 3_000

const cannotStart = (error: Error) => {
  console.error(JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'cannot start', error: error.message }))
  process.exit(1)
}

// The Node entry: configuration from the environment, a server, and a graceful SIGTERM; with
// MODERATION_WORKERS above 1, a primary running that many of them on one port.
if (cluster.isPrimary) {
  let config: ReturnType<typeof parseConfig> | undefined
  try {
    config = parseConfig(process.env)
  } catch (error) {
    cannotStart(error as Error)
  }
  const workers = workerCount(config!, availableParallelism())
  if (workers > 1) {
    runPrimary(workers, config!, createJsonLogger({ level: config!.LOG_LEVEL }))
  } else {
    await serve()
  }
} else {
  await serve()
}

/** One process serving the port: the whole service, and its graceful SIGTERM. */
async function serve() {
  // First: the app's tracer and meter are taken from the SDK when it is built.
  const telemetry = await exportTelemetry(process.env).catch((error: Error) => {
    cannotStart(error)
    throw error
  })
  const started = await compose(process.env).catch((error: Error) => {
    cannotStart(error)
    throw error
  })
  const { listener, deliveries, config, logger, close, setDraining } = started
  if (telemetry) logger.info('telemetry exported', telemetry.description)
  else logger.info('telemetry not exported: set OTEL_EXPORTER_OTLP_ENDPOINT (OTLP) or OTEL_METRICS_EXPORTER=prometheus (README, Observability)')

  const requestTimeout = config.MODERATION_REQUEST_TIMEOUT_MS
  // Node's timeouts are checked every connectionsCheckingInterval (30 s by default): check often.
  const server = createServer(
    { requestTimeout, headersTimeout: Math.min(requestTimeout, 10_000), connectionsCheckingInterval: Math.min(1_000, requestTimeout) },
    listener,
  )
  // A port that cannot be had is a start-up error that says which setting to change.
  server.once('error', (error: NodeJS.ErrnoException) => {
    const where = `port ${config.PORT} on ${config.HOST}`
    if (error.code === 'EADDRINUSE') cannotStart(new Error(`PORT: ${where} is already in use by another process; stop it or set PORT (or HOST) to a free one`))
    if (error.code === 'EACCES') cannotStart(new Error(`PORT: not allowed to listen on ${where}; ports below 1024 need privileges, set PORT to 1024 or above`))
    if (error.code === 'EADDRNOTAVAIL') cannotStart(new Error(`HOST: ${config.HOST} is not an address of this machine`))
    cannotStart(error)
  })
  server.listen(config.PORT, config.HOST, () => {
    const address = server.address()
    const port = typeof address === 'object' && address ? address.port : config.PORT
    logger.info('listening', { host: config.HOST, port, url: `http://${config.HOST}:${port}` })
  })

  // Stop accepting, let in-flight requests finish (each is bounded by its budget) and pending
  // webhook deliveries go out, then exit. Deliveries still pending when the grace period ends are
  // reported one by one in the log: none vanishes silently (they do not survive the process; README).
  let stopping = false
  function shutdown(signal: string) {
    if (stopping) return
    stopping = true
    // First /readyz turns 503 while everything is still served, so the load balancer sees the
    // drain and stops sending before the listener closes (a closed one is connection refused).
    setDraining()
    // Ctrl-C (SIGINT) is a person at a terminal, not an orchestrator: no delay.
    const delay = signal === 'SIGTERM' ? config.MODERATION_DRAIN_DELAY_MS : 0
    logger.info('draining', { signal, delay_ms: delay })
    setTimeout(() => stopServing(signal), delay)
  }

  function stopServing(signal: string) {
    const grace = config.MODERATION_SHUTDOWN_GRACE_MS
    logger.info('shutting down', { signal, pending_deliveries: deliveries?.pending() ?? 0 })
    const closed = new Promise<Error | undefined>((resolve) => server.close((error) => resolve(error)))
    // Deliveries drain from the start, alongside the requests still in flight.
    const draining = deliveries ? deliveries.drain(grace) : Promise.resolve([])
    // Keep-alive connections would hold close() open until they time out: drop each as it goes idle.
    if ('closeIdleConnections' in server) {
      server.closeIdleConnections()
      setInterval(() => server.closeIdleConnections(), 50).unref()
    }
    const outOfTime = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), grace).unref())
    void Promise.race([Promise.all([closed, draining]), outOfTime]).then(async (outcome) => {
      // Whatever is still pending is reported job by job, whichever way the grace period ended.
      const undelivered = outcome === 'late' ? await (deliveries?.drain(0) ?? []) : outcome[1]
      for (const job of undelivered) {
        logger.error('webhook undelivered at shutdown', {
          job_id: job.id,
          webhook_id: job.webhook_id,
          status: job.status,
          attempts: job.attempts,
          callback_host: new URL(job.callback_url).host,
          last_error: job.last_error,
        })
      }
      const error = outcome === 'late' ? 'in-flight requests did not finish in time' : outcome[0]?.message
      logger.info('stopped', { error, undelivered: undelivered.length })
      await close()
      await telemetry?.shutdown(TELEMETRY_FLUSH_MS)
      process.exit(error || undelivered.length > 0 ? 1 : 0)
    })
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
}

/** The OpenTelemetry SDK as the OTEL_* variables ask, or undefined (nothing loaded) when they ask for nothing. */
function exportTelemetry(env: NodeJS.ProcessEnv) {
  const config = parseConfig(env)
  // In a cluster each line says which worker wrote it (as compose's logger does).
  const logger = createJsonLogger({ level: config.LOG_LEVEL, base: cluster.isWorker ? { pid: process.pid } : undefined })
  return startTelemetry(env, { host: config.HOST, logger })
}
