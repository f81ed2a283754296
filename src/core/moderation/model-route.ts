import type { CircuitBreaker } from '../resilience/circuit-breaker.js'
import type { ModelClient } from '../shared/model.js'
import type { Policy } from './policy.js'

/** One way to reach a model: its client, and the breaker that stops calling it when it fails. */
export interface ModelRoute {
  client: ModelClient
  breaker?: CircuitBreaker
}

export interface ModelRoutes {
  /** Absent: the default model (`model`, `breaker`). By name: every configured provider. */
  model?: ModelClient
  breaker?: CircuitBreaker
  providers?: Record<string, ModelRoute>
}

/**
 * Step 2, the model route: a policy's own provider (checked at start to be configured), or the
 * default; undefined when no model serves the policy (the local checks decide alone).
 */
export function createRouteFor({ model, breaker, providers = {} }: ModelRoutes): (policy: Policy) => ModelRoute | undefined {
  const defaultRoute: ModelRoute | undefined = model ? { client: model, breaker } : undefined
  return (policy) => (policy.provider ? providers[policy.provider] : defaultRoute)
}

/** The model a policy's verdicts name: the policy's model or the route's default. */
export const modelIdOf = (policy: Policy, { client }: ModelRoute): string => policy.model ?? client.defaultModel
