import cluster, { type Worker } from 'node:cluster'
import type { Config } from '../config/config.js'
import type { Logger } from '../core/shared/ports.js'

/**
 * The primary of `MODERATION_WORKERS` processes serving one port (node:cluster shares the
 * listening socket; each worker builds and warms its own app). A worker that dies after it
 * started listening is replaced; one that dies before (bad policies, a port in use) stops the
 * whole service with its exit code, since every replacement would die the same way. On SIGTERM or
 * SIGINT each worker drains as a single process does (its /readyz turns 503, requests in flight
 * finish, deliveries go out or are reported), and the primary exits once all have: 0 when every
 * worker exited 0, 1 otherwise.
 *
 * @example
 * if (cluster.isPrimary && workers > 1) runPrimary(workers, config, logger)
 */
export function runPrimary(count: number, config: Config, logger: Logger): void {
  let stopping = false
  let failed = false
  const listened = new WeakSet<Worker>()
  const fork = () => cluster.fork()

  cluster.on('listening', (worker) => listened.add(worker))
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping && !listened.has(worker)) {
      logger.error('a worker could not start; stopping', { pid: worker.process.pid, code, signal })
      failed = true
      return stop('worker failed to start')
    }
    if (!stopping) {
      logger.error('a worker exited; starting another', { pid: worker.process.pid, code, signal })
      fork()
      return
    }
    // Draining: a worker that could not deliver everything in time says so with its code.
    if (code !== 0) failed = true
    if (Object.keys(cluster.workers ?? {}).length === 0) {
      logger.info('all workers stopped', { workers: count })
      process.exit(failed ? 1 : 0)
    }
  })

  function stop(reason: string) {
    if (stopping) return
    stopping = true
    logger.info('stopping workers', { reason, workers: Object.keys(cluster.workers ?? {}).length })
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM')
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(1)
    // Each worker bounds its own drain by the grace period; this only catches one that hangs.
    setTimeout(() => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL')
      process.exit(1)
    }, config.MODERATION_DRAIN_DELAY_MS + config.MODERATION_SHUTDOWN_GRACE_MS + 5_000).unref()
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))

  logger.info('starting workers', { workers: count, port: config.PORT })
  for (let i = 0; i < count; i++) fork()
}
