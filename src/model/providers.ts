/**
 * model/: Model adapters behind the ModelClient port (Gemini and Vertex through @google/genai,
 * OpenAI-compatible, Runware), and the choice among them (this file).
 *
 * May import: config, core/shared.
 */
import type { GoogleGenAIOptions } from '@google/genai'
import { ConfigError, type Config } from '../config/config.js'
import { PROVIDERS, type ModelClient, type Provider } from '../core/shared/model.js'
import { createGeminiModel } from './gemini-model.js'
import { createOpenAiCompatibleModel } from './openai-compatible-model.js'
import { createRunwareModel } from './runware-model.js'

export { PROVIDERS, type Provider }

export interface ProviderOptions {
  /** Whether Vertex AI may use application-default credentials (Node: yes; Workers: no, key only). */
  vertexCredentials: boolean
  /** Other Google credentials for Vertex AI (tests point this at a fake token server). */
  vertexAuth?: GoogleGenAIOptions['googleAuthOptions']
  /** The transport for every provider's calls (Node: a keep-alive node:http fetch); the runtime's fetch when unset. */
  fetch?: typeof fetch
}

export interface ModelClients {
  /** The configured provider, absent when it is the Gemini API without a key (the local classifier serves). */
  defaultProvider?: Provider
  /** Every provider whose settings are present, for policies that pick one. */
  clients: Partial<Record<Provider, ModelClient>>
}

/** What each provider needs before it can be called; undefined when it is ready. */
function missing(provider: Provider, config: Config, options: ProviderOptions): string | undefined {
  switch (provider) {
    case 'gemini':
      return config.GEMINI_API_KEY ? undefined : 'GEMINI_API_KEY'
    case 'vertex':
      if (config.VERTEX_API_KEY) return undefined
      if (!options.vertexCredentials) return 'VERTEX_API_KEY (express mode: application-default credentials are not available on this runtime)'
      return config.VERTEX_PROJECT ? undefined : 'VERTEX_PROJECT (with application-default credentials) or VERTEX_API_KEY (express mode)'
    case 'openai-compatible':
      return config.OPENAI_COMPATIBLE_BASE_URL ? undefined : 'OPENAI_COMPATIBLE_BASE_URL'
    case 'runware':
      return config.RUNWARE_API_KEY ? undefined : 'RUNWARE_API_KEY'
  }
}

function create(provider: Provider, config: Config, options: ProviderOptions): ModelClient {
  switch (provider) {
    case 'gemini':
      return createGeminiModel({ apiKey: config.GEMINI_API_KEY, baseUrl: config.GEMINI_BASE_URL, model: config.GEMINI_MODEL, fetch: options.fetch })
    case 'vertex':
      return createGeminiModel({
        apiKey: config.VERTEX_API_KEY,
        baseUrl: config.VERTEX_BASE_URL,
        model: config.VERTEX_MODEL,
        // A project means application-default credentials where the runtime has them (Node);
        // otherwise, or without a project, the key (express mode).
        vertex:
          config.VERTEX_PROJECT && options.vertexCredentials
            ? { project: config.VERTEX_PROJECT, location: config.VERTEX_LOCATION, auth: options.vertexAuth }
            : {},
        fetch: options.fetch,
      })
    case 'openai-compatible':
      return createOpenAiCompatibleModel({
        baseUrl: config.OPENAI_COMPATIBLE_BASE_URL!,
        apiKey: config.OPENAI_COMPATIBLE_API_KEY,
        model: config.OPENAI_COMPATIBLE_MODEL,
        fetch: options.fetch,
      })
    case 'runware':
      return createRunwareModel({ apiKey: config.RUNWARE_API_KEY!, baseUrl: config.RUNWARE_BASE_URL, model: config.RUNWARE_MODEL, fetch: options.fetch })
  }
}

/**
 * The model clients the configuration makes possible. MODERATION_PROVIDER picks the default;
 * choosing one whose settings are missing is an error, except the Gemini API without a key,
 * which means the local classifier serves alone.
 *
 * @example
 * const { defaultProvider, clients } = createModelClients(config, { vertexCredentials: true })
 */
export function createModelClients(config: Config, options: ProviderOptions): ModelClients {
  const chosen = config.MODERATION_PROVIDER
  const need = missing(chosen, config, options)
  if (need && chosen !== 'gemini') throw new ConfigError(`MODERATION_PROVIDER is ${chosen}, which needs ${need}`)
  const clients: ModelClients['clients'] = {}
  for (const provider of PROVIDERS) {
    if (!missing(provider, config, options)) clients[provider] = create(provider, config, options)
  }
  return { defaultProvider: need ? undefined : chosen, clients }
}
