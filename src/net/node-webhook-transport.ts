/**
 * net/: Network adapters: webhook transports (Node, fetch), the DNS guard, keep-alive fetch, the
 * Redis connection.
 *
 * May import: core/webhooks, core/shared.
 */
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { AttemptResult, WebhookTransport } from '../core/webhooks/delivery-job.js'
import { createGuardedLookup, ForbiddenAddressError, systemResolve, type Resolve } from './guarded-lookup.js'
import { parseRetryAfter } from './retry-after.js'

export interface NodeWebhookTransportOptions {
  /** Hosts exempt from the address guard (WEBHOOK_ALLOWED_HOSTS). */
  allowedHosts?: string[]
  resolve?: Resolve
}

/**
 * Webhook POSTs on Node: the address guard runs in the socket's DNS lookup (no rebinding
 * window), redirects are not followed (3xx is a failure), 410 means gone, and Retry-After is
 * read from any failed answer.
 *
 * @example
 * const transport = createNodeWebhookTransport({ allowedHosts: config.WEBHOOK_ALLOWED_HOSTS })
 */
export function createNodeWebhookTransport({ allowedHosts = [], resolve = systemResolve }: NodeWebhookTransportOptions = {}): WebhookTransport {
  const allowed = new Set(allowedHosts.map((host) => host.toLowerCase()))
  const guardedLookup = createGuardedLookup(resolve)
  return {
    post(url, headers, body, signal) {
      const target = new URL(url)
      const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase()
      const request = target.protocol === 'https:' ? httpsRequest : httpRequest
      return new Promise<AttemptResult>((settle) => {
        const req = request(
          target,
          { method: 'POST', signal, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, ...(allowed.has(host) ? {} : { lookup: guardedLookup }) },
          (res) => {
            res.resume() // the answer's body does not matter
            const status = res.statusCode ?? 0
            if (status >= 200 && status < 300) return settle({ kind: 'delivered' })
            if (status === 410) return settle({ kind: 'gone', detail: 'HTTP 410 Gone' })
            const retryAfter = Array.isArray(res.headers['retry-after']) ? res.headers['retry-after'][0] : res.headers['retry-after']
            const detail = status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`
            settle({ kind: 'retry', detail, retryAfterMs: parseRetryAfter(retryAfter, Date.now()) })
          },
        )
        req.on('error', (error) => {
          if (error instanceof ForbiddenAddressError) return settle({ kind: 'refused', detail: error.message })
          settle({ kind: 'retry', detail: signal.aborted ? 'timed out' : error.message })
        })
        req.end(body)
      })
    },
  }
}
