import { describe, expect, it } from 'vitest'
import { decide } from '../../../src/core/moderation/decide.js'
import { checkModelOutput } from '../../../src/core/moderation/model-output.js'
import { shippedPolicies } from '../../helpers/service.js'

const policy = (await shippedPolicies()).get('default')!

describe('decide', () => {
  it('applies each category its own thresholds and keeps the strictest action', () => {
    expect(decide(policy, ['sexual_minors'], 0.35)).toEqual({ safe: false, action: 'block', categories: ['sexual_minors'] })
    expect(decide(policy, ['violence', 'hate'], 0.7)).toEqual({ safe: false, action: 'review', categories: ['violence', 'hate'] })
    expect(decide(policy, ['violence', 'hate'], 0.55)).toEqual({ safe: false, action: 'review', categories: ['violence', 'hate'] })
  })

  it('lets the policy allow a flag below every threshold, without calling it safe', () => {
    expect(decide(policy, ['violence'], 0.35)).toEqual({ safe: false, action: 'allow', categories: ['violence'] })
  })

  it('allows when nothing is flagged with enough confidence', () => {
    expect(decide(policy, [], 0.99)).toEqual({ safe: true, action: 'allow', categories: [] })
    expect(decide(policy, [], 0.5)).toEqual({ safe: true, action: 'allow', categories: [] })
  })

  it('sends an unsure clean answer to review', () => {
    expect(decide(policy, [], 0.49)).toEqual({ safe: false, action: 'review', categories: [], signals: ['low_confidence'] })
  })
})

describe('model output validation', () => {
  it('accepts exactly the schema, rationale optional', () => {
    expect(checkModelOutput(policy, '{"safe":true,"categories":[],"confidence":0.97}')).toMatchObject({ ok: true })
    expect(checkModelOutput(policy, '{"safe":false,"categories":["hate"],"confidence":0.9,"rationale":"slur"}')).toMatchObject({ ok: true })
  })

  it.each([
    ['not JSON', 'safe', /not JSON/],
    ['a missing field', '{"safe":true,"categories":[]}', /confidence/],
    ['an unknown category', '{"safe":false,"categories":["spam"],"confidence":0.9}', /categories\.0/],
    ['confidence out of range', '{"safe":true,"categories":[],"confidence":1.01}', /confidence/],
    ['safe with categories', '{"safe":true,"categories":["hate"],"confidence":0.9}', /safe: true with categories/],
    ['unsafe without a category', '{"safe":false,"categories":[],"confidence":0.9}', /without a category/],
    ['an extra field', '{"safe":true,"categories":[],"confidence":0.9,"action":"allow"}', /Unrecognized key/],
    ['a JSON array', '[{"safe":true}]', /expected object/],
    ['a rationale that is an essay', JSON.stringify({ safe: true, categories: [], confidence: 0.9, rationale: 'x'.repeat(500) }), /rationale/],
  ])('rejects %s', (_name, text, problem) => {
    const check = checkModelOutput(policy, text)
    expect(check.ok).toBe(false)
    if (!check.ok) expect(check.problem).toMatch(problem)
  })
})
