import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { sha256Hex } from '../shared/hash.js'
import { PROVIDERS, type Provider } from '../shared/model.js'
import { compileLocalRules, localRulesSchema, type LocalRules } from '../local/local-rules.js'

const categoryName = z.string().regex(/^[a-z][a-z0-9_]*$/, 'category names are lower_snake_case')
const threshold = z.number().min(0).max(1)

const categorySchema = z
  .object({
    description: z.string().min(1),
    review_at: threshold,
    block_at: threshold,
  })
  .strict()
  .refine((c) => c.review_at <= c.block_at, { message: 'review_at must not exceed block_at', path: ['review_at'] })

/** One policy file under policies/ (YAML, comments allowed). */
export const policyFileSchema = z
  .object({
    description: z.string().min(1),
    // Extra guidance for the model, appended to the system instruction.
    instructions: z.string().optional(),
    budget_ms: z.number().int().positive().default(800),
    on_failure: z.enum(['review', 'block', 'allow']).default('review'),
    // A clean ("safe") answer below this confidence goes to review instead of being allowed.
    safe_min_confidence: threshold.default(0.5),
    // Which configured provider judges this policy's content (default: MODERATION_PROVIDER).
    provider: z.enum(PROVIDERS).optional(),
    model: z.string().min(1).optional(),
    thinking_level: z.enum(['minimal', 'low', 'medium', 'high']).default('minimal'),
    categories: z.record(categoryName, categorySchema).refine((c) => Object.keys(c).length > 0, {
      message: 'a policy needs at least one category',
    }),
    local: localRulesSchema.prefault({}),
  })
  .strict()

export type PolicyFile = z.infer<typeof policyFileSchema>
export type CategoryThresholds = z.infer<typeof categorySchema>

export interface Policy {
  name: string
  /** Content hash of the policy file: part of every verdict and every cache key. */
  version: string
  description: string
  instructions?: string
  budgetMs: number
  onFailure: 'review' | 'block' | 'allow'
  safeMinConfidence: number
  provider?: Provider
  model?: string
  thinkingLevel: 'minimal' | 'low' | 'medium' | 'high'
  categories: Record<string, CategoryThresholds>
  categoryNames: string[]
  local: LocalRules
}

export class PolicyError extends Error {
  override name = 'PolicyError'
}

const POLICY_NAME = /^[a-z0-9][a-z0-9_-]*$/

/**
 * Validates and compiles one policy file; errors name the file and the field.
 *
 * @example
 * const policy = await compilePolicy('policies/default.yaml', text)
 */
export async function compilePolicy(fileName: string, text: string): Promise<Policy> {
  const name = fileName.replace(/^.*\//, '').replace(/\.ya?ml$/, '')
  if (!POLICY_NAME.test(name)) throw new PolicyError(`${fileName}: policy names are lower-case letters, digits, - and _`)
  let raw: unknown
  try {
    raw = parseYaml(text)
  } catch (error) {
    throw new PolicyError(`${fileName}: not valid YAML: ${(error as Error).message}`)
  }
  const parsed = policyFileSchema.safeParse(raw)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${fileName}: ${issue.path.join('.') || '(root)'}: ${issue.message}`)
    throw new PolicyError(problems.join('\n'))
  }
  const file = parsed.data
  const categoryNames = Object.keys(file.categories)
  let local: LocalRules
  try {
    local = compileLocalRules(file.local, categoryNames)
  } catch (error) {
    throw new PolicyError(`${fileName}: local: ${(error as Error).message}`)
  }
  return {
    name,
    version: (await sha256Hex(new TextEncoder().encode(text))).slice(0, 16),
    description: file.description,
    instructions: file.instructions,
    budgetMs: file.budget_ms,
    onFailure: file.on_failure,
    safeMinConfidence: file.safe_min_confidence,
    provider: file.provider,
    model: file.model,
    thinkingLevel: file.thinking_level,
    categories: file.categories,
    categoryNames,
    local,
  }
}

export interface PolicyRegistry {
  get(name: string): Policy | undefined
  list(): Policy[]
  defaultName: string
}

/**
 * Compiles every policy file and checks the default exists.
 *
 * @example
 * const policies = await loadPolicies({ 'default.yaml': text }, 'default')
 */
export async function loadPolicies(files: Record<string, string>, defaultName: string): Promise<PolicyRegistry> {
  const entries = Object.entries(files).filter(([fileName]) => /\.ya?ml$/.test(fileName))
  const errors: string[] = []
  const byName = new Map<string, Policy>()
  for (const [fileName, text] of entries.sort(([a], [b]) => a.localeCompare(b))) {
    try {
      const policy = await compilePolicy(fileName, text)
      if (byName.has(policy.name)) throw new PolicyError(`${fileName}: a policy named "${policy.name}" already exists`)
      byName.set(policy.name, policy)
    } catch (error) {
      errors.push((error as Error).message)
    }
  }
  if (errors.length > 0) throw new PolicyError(errors.join('\n'))
  if (byName.size === 0) throw new PolicyError('no policy files (*.yaml) found')
  if (!byName.has(defaultName)) {
    throw new PolicyError(`default policy "${defaultName}" not found; have: ${[...byName.keys()].join(', ')}`)
  }
  return {
    get: (name) => byName.get(name),
    list: () => [...byName.values()],
    defaultName,
  }
}
