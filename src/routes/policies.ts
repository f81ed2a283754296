import { Hono } from 'hono'
import { z } from 'zod'
import type { PolicyRegistry } from '../core/policy.js'
import type { AppEnv } from '../http/app-env.js'

/** The answer of GET /v1/policies. */
export const policyListSchema = z.object({
  default: z.string(),
  policies: z.array(
    z.object({
      name: z.string(),
      version: z.string(),
      description: z.string(),
      budget_ms: z.number(),
      on_failure: z.enum(['review', 'block', 'allow']),
      model: z.string(),
      thinking_level: z.enum(['minimal', 'low', 'medium', 'high']),
      categories: z.array(z.object({ name: z.string(), description: z.string(), review_at: z.number(), block_at: z.number() })),
      local_terms: z.number(),
    }),
  ),
})

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
