import { z } from 'zod'
import { nfkcBounded, type Normalized } from './nfkc-bounded.js'

const categoryName = z.string().regex(/^[a-z][a-z0-9_]*$/)
const termList = z.array(z.string().min(1))

/**
 * The policy's local lists. A term is a word or phrase matched whole and case-insensitively;
 * a term written as /.../ is a regular expression (Unicode, case-insensitive).
 */
export const localRulesSchema = z
  .object({
    // Clear hits: blocked locally, before (and without) a model call.
    block: z.record(categoryName, termList).default({}),
    // Suspicious: decides only when no model is configured; otherwise the model judges.
    review: z.record(categoryName, termList).default({}),
    // Phrases removed before matching, so "Scunthorpe" is not read as a slur.
    allow: termList.default([]),
    block_without_model: z.boolean().default(true),
    // The embedded text classifier (hate, harassment): scores every text unless off.
    classifier: z.boolean().default(true),
    // A classifier score at or above its block_at is refused without the model. Off: the model
    // decides; the classifier is less precise than the lists (see the README's evaluation).
    classifier_block_without_model: z.boolean().default(false),
    // Text with no list hit and every classifier score under its pass_below is allowed without
    // a model call. Off by default: the classifier knows hate and harassment only.
    skip_model_when_clean: z.boolean().default(false),
    // When the model fails, local hits shape the conservative verdict: a clear hit blocks, a
    // suspicion adds its categories. Nothing makes a failure `allow`.
    enrich_fallback: z.boolean().default(true),
    // Overrides of the shipped thresholds (models/text-classifier.bin), per category.
    classifier_thresholds: z
      .record(
        categoryName,
        z.object({ review_at: z.number().min(0).max(1), block_at: z.number().min(0).max(1), pass_below: z.number().min(0).max(1) }).partial().strict(),
      )
      .default({}),
  })
  .strict()

type LocalRulesFile = z.infer<typeof localRulesSchema>

interface CategoryMatcher {
  category: string
  patterns: RegExp[]
}

export interface LocalRules {
  block: CategoryMatcher[]
  review: CategoryMatcher[]
  allow: RegExp | undefined
  blockWithoutModel: boolean
  classifier: {
    enabled: boolean
    blockWithoutModel: boolean
    skipModelWhenClean: boolean
    enrichFallback: boolean
    thresholds: Record<string, { review_at?: number; block_at?: number; pass_below?: number }>
  }
  /** Number of terms, for /v1/policies. */
  termCount: number
}

/** Every pattern a policy's lists run over user text, with where it comes from (for checks at start). */
export function listPatterns(rules: LocalRules): { where: string; pattern: RegExp }[] {
  const listed = (name: string, matchers: CategoryMatcher[]) =>
    matchers.flatMap(({ category, patterns }) => patterns.map((pattern) => ({ where: `local.${name}.${category}`, pattern })))
  return [...listed('block', rules.block), ...listed('review', rules.review), ...(rules.allow ? [{ where: 'local.allow', pattern: rules.allow }] : [])]
}

export interface LocalResult {
  /** Categories with a clear (block-list) hit. */
  block: string[]
  /** Categories with a review-list hit and no block-list hit. */
  review: string[]
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
// Letters and digits of any script count as word characters, so "ass" does not match in "class".
const WORD_START = '(?<![\\p{L}\\p{N}_])'
const WORD_END = '(?![\\p{L}\\p{N}_])'

function compileTerms(terms: string[], where: string): RegExp[] {
  const phrases = terms.filter((term) => !isRegexTerm(term)).map((term) => escapeRegExp(normalize(term)).replace(/ /g, '\\s+'))
  const patterns: RegExp[] = []
  if (phrases.length > 0) patterns.push(new RegExp(`${WORD_START}(?:${phrases.join('|')})${WORD_END}`, 'iu'))
  for (const term of terms.filter(isRegexTerm)) {
    try {
      patterns.push(new RegExp(term.slice(1, -1), 'iu'))
    } catch (error) {
      throw new Error(`${where}: bad pattern ${term}: ${(error as Error).message}`)
    }
  }
  return patterns
}

const isRegexTerm = (term: string) => term.length > 2 && term.startsWith('/') && term.endsWith('/')

function compileLists(lists: Record<string, string[]>, known: string[], listName: string): CategoryMatcher[] {
  return Object.entries(lists).map(([category, terms]) => {
    if (!known.includes(category)) throw new Error(`${listName}.${category}: not a category of this policy`)
    return { category, patterns: compileTerms(terms, `${listName}.${category}`) }
  })
}

export function compileLocalRules(file: LocalRulesFile, categories: string[]): LocalRules {
  const allow = compileTerms(file.allow, 'allow')
  const termCount = [...Object.values(file.block), ...Object.values(file.review), file.allow].reduce((n, list) => n + list.length, 0)
  return {
    block: compileLists(file.block, categories, 'block'),
    review: compileLists(file.review, categories, 'review'),
    allow: allow.length > 0 ? new RegExp(allow.map((re) => `(?:${re.source})`).join('|'), 'giu') : undefined,
    blockWithoutModel: file.block_without_model,
    classifier: {
      enabled: file.classifier,
      blockWithoutModel: file.classifier_block_without_model,
      skipModelWhenClean: file.skip_model_when_clean,
      enrichFallback: file.enrich_fallback,
      thresholds: compileThresholds(file.classifier_thresholds, categories),
    },
    termCount,
  }
}

function compileThresholds(overrides: LocalRulesFile['classifier_thresholds'], categories: string[]) {
  for (const category of Object.keys(overrides)) {
    if (!categories.includes(category)) throw new Error(`classifier_thresholds.${category}: not a category of this policy`)
  }
  return overrides
}

/** Case, spacing and invisible characters folded away, on text already through NFKC. */
const fold = (nfkc: string) => nfkc.replace(/[\u200b-\u200d\u2060\ufeff\u00ad]/g, '').toLowerCase().replace(/\s+/g, ' ')

/** NFKC folds full-width and styled letters; zero-width characters are a common way around word lists. */
export function normalize(text: string): string {
  return fold(nfkcBounded(text).text)
}

/**
 * The text as every local check reads it: normalised, with the policy's allowed phrases taken
 * out; `complete` is false when normalisation had to stop at MAX_NORMALIZED_CHARS.
 */
export function readForRules(rules: LocalRules, text: string | Normalized): Normalized {
  const nfkc = typeof text === 'string' ? nfkcBounded(text) : text
  const folded = fold(nfkc.text)
  return { text: rules.allow ? folded.replace(rules.allow, ' ') : folded, complete: nfkc.complete }
}

const matches = (matcher: CategoryMatcher, text: string) => matcher.patterns.some((re) => re.test(text))

/**
 * Runs the policy's word lists and patterns over text: fast, local, and blind to anything they do not list.
 *
 * @example
 * classifyLocally(policy.local, 'buy cocaine here') // { block: ['illicit'], review: [] }
 */
export function classifyLocally(rules: LocalRules, text: string | undefined): LocalResult {
  return text ? matchLists(rules, readForRules(rules, text).text) : { block: [], review: [] }
}

/** The lists over text already read by `readForRules`. */
export function matchLists(rules: LocalRules, prepared: string): LocalResult {
  const block = rules.block.filter((m) => matches(m, prepared)).map((m) => m.category)
  const review = rules.review.filter((m) => !block.includes(m.category) && matches(m, prepared)).map((m) => m.category)
  return { block: [...new Set(block)], review: [...new Set(review)] }
}
