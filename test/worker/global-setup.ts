import { readFileSync } from 'node:fs'
import type { TestProject } from 'vitest/node'
import { loadTextClassifier } from '../../src/core/local/text-classifier.js'
import { loadPolicies } from '../../src/core/moderation/policy.js'
import { readPolicyFiles } from '../../src/entry/read-policy-files.js'
import { startFakeGemini } from '../helpers/fake-gemini.js'
import { startWebhookReceiver } from '../helpers/webhook-receiver.js'
import { makeAnimation, makeImage, pngBomb, toBase64 } from '../helpers/images.js'

declare module 'vitest' {
  export interface ProvidedContext {
    geminiUrl: string
    /** Images made with sharp in Node, where sharp runs, as base64. */
    images: { png: string; largePng: string; bomb: string; animatedGif: string; truncatedJpeg: string }
    /** policy name -> policy_version, as the Node service computes them from policies/. */
    policyVersions: Record<string, string>
    /** A webhook receiver in Node that verifies deliveries with standardwebhooks. */
    webhook: { url: string; secret: string; controlUrl: string }
    /** The shipped text classifier's scores for `text`, computed in Node. */
    classifierProbe: { text: string; scores: Record<string, number> }
  }
}

/** Runs in Node: starts the fake Gemini the Worker talks to, and makes image fixtures. */
export default async function setup(project: TestProject) {
  const gemini = await startFakeGemini()
  project.provide('geminiUrl', gemini.url)
  project.provide('images', {
    png: toBase64(await makeImage('png', 64, 48)),
    largePng: toBase64(await makeImage('png', 1600, 1200)),
    bomb: toBase64(pngBomb(60_000, 60_000)),
    animatedGif: toBase64(await makeAnimation('gif', [{ r: 255, g: 0, b: 0 }, { r: 0, g: 0, b: 255 }])),
    truncatedJpeg: toBase64((await makeImage('jpeg', 256, 256)).slice(0, 3000)),
  })
  const policies = await loadPolicies(await readPolicyFiles('policies'), 'default')
  project.provide('policyVersions', Object.fromEntries(policies.list().map((policy) => [policy.name, policy.version])))
  const probe = "Trans women are men and don't deserve womanhood" // hate 0.958, block_at 0.943
  project.provide('classifierProbe', { text: probe, scores: loadTextClassifier(readFileSync('models/text-classifier.bin')).score(probe) })
  const secret = `whsec_${Buffer.from('workerd delivery secret 32 bytes').toString('base64')}`
  const receiver = await startWebhookReceiver(secret, { closeAfterAll: false })
  project.provide('webhook', { url: receiver.url, secret, controlUrl: receiver.controlUrl })
  return async () => {
    receiver.close()
    await gemini.close()
  }
}
