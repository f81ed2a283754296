import { Hono } from 'hono'
import { z } from 'zod'
import { classifierThresholds } from '../core/moderation/local-check.js'
import type { Policy, PolicyRegistry } from '../core/moderation/policy.js'
import type { TextClassifier } from '../core/local/text-classifier.js'
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
      // Who judges this policy's content: its provider (or the service's) and model; local when none is configured.
      provider: z.string(),
      model: z.string(),
      thinking_level: z.enum(['minimal', 'low', 'medium', 'high']),
      categories: z.array(z.object({ name: z.string(), description: z.string(), review_at: z.number(), block_at: z.number() })),
      local_terms: z.number(),
      // A block-list hit is refused without a model call.
      block_without_model: z.boolean(),
      // Absent when the service runs without the classifier (MODERATION_LOCAL_CLASSIFIER=off).
      local_classifier: z
        .object({
          enabled: z.boolean(),
          classifier_block_without_model: z.boolean(),
          skip_model_when_clean: z.boolean(),
          enrich_fallback: z.boolean(),
          // Per category the policy and the classifier share: the shipped thresholds with the policy's overrides.
          categories: z.array(z.object({ name: z.string(), review_at: z.number(), block_at: z.number(), pass_below: z.number(), languages: z.array(z.string()) })),
        })
        .optional(),
    }),
  ),
})

/** GET /v1/policies: what each policy judges and how strictly. */
export function policyRoutes({ policies, judgeOf, classifier }: { policies: PolicyRegistry; judgeOf: (policy: Policy) => { provider: string; model: string }; classifier?: TextClassifier | undefined }) {
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
        ...judgeOf(policy),
        thinking_level: policy.thinkingLevel,
        categories: policy.categoryNames.map((name) => ({ name, ...policy.categories[name] })),
        local_terms: policy.local.termCount,
        block_without_model: policy.local.blockWithoutModel,
        ...(classifier ? { local_classifier: classifierSettings(policy, classifier) } : {}),
      })),
    }),
  )
  return app
}

function classifierSettings(policy: Policy, classifier: TextClassifier) {
  const { enabled, blockWithoutModel, skipModelWhenClean, enrichFallback } = policy.local.classifier
  return {
    enabled,
    classifier_block_without_model: blockWithoutModel,
    skip_model_when_clean: skipModelWhenClean,
    enrich_fallback: enrichFallback,
    categories: Object.entries(classifierThresholds(policy, classifier)).map(([name, t]) => ({ name, ...t, languages: classifier.header.languages[name] ?? [] })),
  }
}
