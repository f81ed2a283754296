import { problem, type Checked } from '../shared/problem.js'
import { isForbiddenAddress, isForbiddenHostName } from '../shared/ssrf.js'

/** The longest callback URL taken (browsers and proxies commonly stop near 2,000). */
export const MAX_CALLBACK_URL_CHARS = 2_048

/**
 * A callback URL a job may deliver to: https, and not a loopback, private, link-local or
 * metadata name or address literal, unless its host is listed in `allowedHosts` (exact names or
 * IPs; plain http is then allowed too). Names are checked again, after DNS resolution, when the
 * delivery connects.
 */
export function checkCallbackUrl(raw: string, allowedHosts: string[]): Checked<URL> {
  // Kept with the job and in each delivery message until they expire: bounded like any stored field.
  if (raw.length > MAX_CALLBACK_URL_CHARS) return problem('invalid_request', `callback_url is longer than ${MAX_CALLBACK_URL_CHARS} characters`)
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return problem('invalid_request', 'callback_url is not a URL')
  }
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  const allowed = allowedHosts.some((entry) => entry.toLowerCase() === host)
  if (url.username || url.password) return problem('invalid_request', 'callback_url must not carry credentials')
  if (url.protocol !== 'https:' && !(allowed && url.protocol === 'http:')) {
    return problem('invalid_request', 'callback_url must be https (plain http only for hosts in WEBHOOK_ALLOWED_HOSTS)')
  }
  if (!allowed && (isForbiddenHostName(host) || (/^[\d.]+$|:/.test(host) && isForbiddenAddress(host)))) {
    return problem('invalid_request', `callback_url host ${host} is a loopback, private, link-local or metadata address`)
  }
  return { ok: true, value: url }
}
