import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'
import { bundleInjectionModel, bundlePolicies, bundleTextClassifier } from './scripts/bundle-policies.js'

// The Worker imports policies, the text classifier and the injection model bundled at build: make them fresh for this run.
await bundlePolicies()
await bundleTextClassifier()
await bundleInjectionModel()

export default defineConfig({
  test: {
    testTimeout: 15_000,
    hookTimeout: 15_000,
    projects: [
      {
        extends: true,
        test: { name: 'node', include: ['test/**/*.test.ts'], exclude: ['test/worker/**'] },
      },
      {
        extends: true,
        plugins: [
          // The Worker under test runs in workerd from wrangler.toml, pointed at the fake Gemini
          // that the global setup started in Node.
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              kvNamespaces: ['VERDICT_CACHE'],
              bindings: {
                GEMINI_API_KEY: 'test-key-not-secret',
                GEMINI_BASE_URL: inject('geminiUrl'),
                LOG_LEVEL: 'warn',
                WEBHOOK_SECRET: inject('webhook').secret,
                WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
              },
            },
          })),
        ],
        test: { name: 'workerd', include: ['test/worker/**/*.test.ts'], globalSetup: ['test/worker/global-setup.ts'] },
      },
    ],
  },
})
