import type { AttemptResult, WebhookTransport } from '../core/webhooks/delivery-job.js'
import { parseRetryAfter } from './retry-after.js'

/**
 * Webhook POSTs through fetch, for workerd: no redirects followed (3xx is a failure), 410 means
 * gone, Retry-After read from failures. There is no DNS lookup to hook at the edge: callback
 * hosts are checked as names and literals when submitted, and Workers cannot reach private
 * networks from Cloudflare's edge in any case.
 */
export function createFetchWebhookTransport(): WebhookTransport {
  return {
    async post(url, headers, body, signal) {
      let response: Response
      try {
        response = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal })
      } catch (error) {
        return { kind: 'retry', detail: signal.aborted ? 'timed out' : String((error as Error)?.message ?? error) }
      }
      await response.body?.cancel()
      if (response.status >= 200 && response.status < 300) return { kind: 'delivered' }
      if (response.status === 410) return { kind: 'gone', detail: 'HTTP 410 Gone' }
      const detail = response.status >= 300 && response.status < 400 ? `HTTP ${response.status} (redirects are not followed)` : `HTTP ${response.status}`
      return { kind: 'retry', detail, retryAfterMs: parseRetryAfter(response.headers.get('retry-after') ?? undefined, Date.now()) } satisfies AttemptResult
    },
  }
}
