import type { FallbackReason, Judgement } from './verdict.js'

export type ThinkingLevel = 'minimal' | 'low' | 'medium' | 'high'

/** The ways the service can reach a model (MODERATION_PROVIDER, a policy's `provider:`). */
export const PROVIDERS = ['gemini', 'vertex', 'openai-compatible', 'runware'] as const
export type Provider = (typeof PROVIDERS)[number]

export interface ModelImage {
  mimeType: string
  data: Uint8Array
}

export interface ModelRequest {
  model: string
  thinkingLevel: ThinkingLevel
  /** The policy's instructions. User content never goes here. */
  systemInstruction: string
  /** User content, sent only as content parts. */
  text?: string
  images: ModelImage[]
  /** JSON Schema of the expected answer. */
  responseSchema: Record<string, unknown>
  maxOutputTokens: number
  signal: AbortSignal
  /** Trace context for the call (W3C `traceparent`, `tracestate`): sent as HTTP headers, never in the body. */
  headers?: Record<string, string>
}

export interface ModelUsage {
  inputTokens?: number
  outputTokens?: number
}

/**
 * What a model call ends in. Expected failures are values, not throws: the pipeline turns each
 * failure into the conservative verdict.
 */
export type ModelResult =
  | { kind: 'answer'; text: string; model: string; finishReason?: string; usage?: ModelUsage }
  | { kind: 'blocked'; reason: string; categories: string[]; model: string; usage?: ModelUsage }
  | { kind: 'failure'; reason: Exclude<FallbackReason, 'circuit_open' | 'overloaded'>; detail: string; status?: number }

/** A model that judges content: Gemini here; anything else later, behind the same interface. */
export interface ModelClient {
  /** `gen_ai.system` for telemetry. */
  readonly system: string
  readonly defaultModel: string
  generate(request: ModelRequest): Promise<ModelResult>
}

/** What a model call came to once its answer was read against the policy. */
export type ModelOutcome =
  | { kind: 'judged'; judgement: Judgement }
  /** `status`: the provider's HTTP status, when it answered with an error. */
  | { kind: 'failed'; reason: FallbackReason; detail: string; status?: number }
