// The one part of @cloudflare/vitest-pool-workers' "cloudflare:test" module these tests use,
// declared here so the Node type check needs no global Workers types (they clash with DOM's).
declare module 'cloudflare:test' {
  export const SELF: { fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> }
  export const env: Record<string, unknown>
}
