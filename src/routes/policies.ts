import { Hono } from 'hono'
import type { PolicyRegistry } from '../core/policy.js'
import type { AppEnv } from '../http/app-env.js'

/** GET /v1/policies: what each policy judges and how strictly. */
export function policyRoutes({ policies, defaultModel }: { policies: PolicyRegistry; defaultModel: string }) {
  const app = new Hono<AppEnv>()
  app.get('/policies', (c) =>
    c.json({
      default: policies.defaultName,
      policies: policies.list().map((policy) => ({
        name: policy.name,
        version: policy.version,
        description: policy.description,
        budget_ms: policy.budgetMs,
        on_failure: policy.onFailure,
        model: policy.model ?? defaultModel,
        thinking_level: policy.thinkingLevel,
        categories: policy.categoryNames.map((name) => ({ name, ...policy.categories[name] })),
        local_terms: policy.local.termCount,
      })),
    }),
  )
  return app
}
