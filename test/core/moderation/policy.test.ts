import { describe, expect, it } from 'vitest'
import { compilePolicy, loadPolicies } from '../../../src/core/moderation/policy.js'
import { shippedPolicies } from '../../helpers/service.js'

const minimal = `
description: test platform
categories:
  hate:
    description: hate speech
    review_at: 0.5
    block_at: 0.8
`

describe('policies', () => {
  it('loads the shipped default and strict policies with the full taxonomy', async () => {
    const policies = await shippedPolicies()
    const names = ['harassment', 'hate', 'sexual', 'sexual_minors', 'violence', 'self_harm', 'illicit']
    expect(policies.get('default')?.categoryNames).toEqual(names)
    expect(policies.get('strict')?.categoryNames).toEqual([...names, 'pii'])
    expect(policies.get('strict')?.onFailure).toBe('block')
    expect(policies.get('default')?.onFailure).toBe('review')
  })

  it('fills in defaults: 800 ms budget, review on failure, minimal thinking', async () => {
    const policy = await compilePolicy('tiny.yaml', minimal)
    expect(policy).toMatchObject({ name: 'tiny', budgetMs: 800, onFailure: 'review', thinkingLevel: 'minimal' })
  })

  it('versions a policy by its content: any edit changes policy_version', async () => {
    const a = await compilePolicy('p.yaml', minimal)
    const b = await compilePolicy('p.yaml', minimal.replace('0.8', '0.9'))
    expect(a.version).toMatch(/^[0-9a-f]{16}$/)
    expect(b.version).not.toBe(a.version)
    expect((await compilePolicy('p.yaml', minimal)).version).toBe(a.version)
  })

  it('names the file and the field in every error', async () => {
    await expect(compilePolicy('bad.yaml', minimal.replace('0.8', '1.5'))).rejects.toThrow(/^bad\.yaml: categories\.hate\.block_at: /)
    await expect(compilePolicy('bad.yaml', minimal.replace('0.5', '0.9'))).rejects.toThrow(/bad\.yaml: categories\.hate\.review_at: review_at must not exceed block_at/)
    await expect(compilePolicy('bad.yaml', `${minimal}on_failure: maybe\n`)).rejects.toThrow(/bad\.yaml: on_failure: /)
    await expect(compilePolicy('bad.yaml', `${minimal}budget: 5\n`)).rejects.toThrow(/bad\.yaml: \(root\): Unrecognized key: "budget"/)
    await expect(compilePolicy('bad.yaml', 'description: [unclosed')).rejects.toThrow(/bad\.yaml: not valid YAML/)
    await expect(compilePolicy('bad.yaml', 'description: x\ncategories: {}\n')).rejects.toThrow(/bad\.yaml: categories: a policy needs at least one category/)
  })

  it('rejects local lists for categories the policy lacks, and broken patterns', async () => {
    await expect(compilePolicy('bad.yaml', `${minimal}local:\n  block:\n    spam: [buy now]\n`)).rejects.toThrow(
      /bad\.yaml: local: block\.spam: not a category of this policy/,
    )
    await expect(compilePolicy('bad.yaml', `${minimal}local:\n  review:\n    hate: ['/(unclosed/']\n`)).rejects.toThrow(
      /bad\.yaml: local: review\.hate: bad pattern/,
    )
  })

  it('reports every broken file at once, and a missing default policy', async () => {
    await expect(loadPolicies({ 'a.yaml': 'description: 1', 'b.yaml': 'x: y' }, 'a')).rejects.toThrow(/a\.yaml: [\s\S]*b\.yaml: /)
    await expect(loadPolicies({ 'only.yaml': minimal }, 'default')).rejects.toThrow(/default policy "default" not found; have: only/)
    await expect(loadPolicies({ 'README.md': '# not a policy' }, 'default')).rejects.toThrow(/no policy files/)
  })
})
