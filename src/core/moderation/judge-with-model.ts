import { type Context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import type { Telemetry } from '../telemetry/telemetry.js'
import { traceHeaders } from '../telemetry/trace-context.js'
import { decide } from './decide.js'
import type { ModelClient, ModelImage, ModelOutcome, ModelResult } from '../shared/model.js'
import { checkModelOutput, outputSchemaFor } from './model-output.js'
import type { Policy } from './policy.js'
import type { Clock } from '../shared/ports.js'
import { buildSystemInstruction } from './prompt.js'
import { strictestAction } from '../shared/verdict.js'

export interface JudgeInput {
  policy: Policy
  model: string
  text?: string
  images: ModelImage[]
  signal: AbortSignal
}

// The answer is about 40 tokens; the rest is headroom for minimal thinking and the rationale.
const MAX_OUTPUT_TOKENS = 384
// A refusal by the model's own safety filter is strong evidence; thresholds still apply per category.
const SAFETY_BLOCK_CONFIDENCE = 0.9

const systemInstructions = new WeakMap<Policy, string>()

function systemInstructionFor(policy: Policy): string {
  let instruction = systemInstructions.get(policy)
  if (instruction === undefined) {
    instruction = buildSystemInstruction(policy)
    systemInstructions.set(policy, instruction)
  }
  return instruction
}

/** Turns a model result into a judgement or a tagged failure; never throws for expected failures. */
export function interpretModelResult(policy: Policy, result: ModelResult): ModelOutcome {
  if (result.kind === 'failure') return { kind: 'failed', reason: result.reason, detail: result.detail, status: result.status }
  if (result.kind === 'blocked') {
    const categories = result.categories.filter((c) => policy.categoryNames.includes(c))
    // A block we cannot map to a category (PROHIBITED_CONTENT, OTHER) is still unsafe: block.
    const action = categories.length === 0 ? 'block' : strictestAction(decide(policy, categories, SAFETY_BLOCK_CONFIDENCE).action, 'review')
    return {
      kind: 'judged',
      judgement: {
        safe: false,
        action,
        categories,
        confidence: SAFETY_BLOCK_CONFIDENCE,
        model: result.model,
        signals: ['model_safety_block'],
      },
    }
  }
  const check = checkModelOutput(policy, result.text)
  if (!check.ok) return { kind: 'failed', reason: 'invalid_output', detail: check.problem }
  const { output } = check
  const decision = decide(policy, output.categories, output.confidence)
  return {
    kind: 'judged',
    judgement: { ...decision, confidence: output.confidence, model: result.model },
  }
}

/**
 * Asks the model under the policy and validates the answer, inside a GenAI client span.
 */
export async function judgeWithModel(
  client: ModelClient,
  telemetry: Telemetry,
  clock: Clock,
  parent: Context,
  input: JudgeInput,
): Promise<ModelOutcome> {
  const { policy, model } = input
  return telemetry.tracer.startActiveSpan(
    `generate_content ${model}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'gen_ai.system': client.system,
        'gen_ai.operation.name': 'generate_content',
        'gen_ai.request.model': model,
        'gen_ai.request.temperature': 0,
        'gen_ai.request.max_tokens': MAX_OUTPUT_TOKENS,
      },
    },
    parent,
    async (span) => {
      const started = clock.now()
      let result: ModelResult | undefined
      try {
        result = await client.generate({
          model,
          thinkingLevel: policy.thinkingLevel,
          systemInstruction: systemInstructionFor(policy),
          text: input.text,
          images: input.images,
          responseSchema: outputSchemaFor(policy).json,
          maxOutputTokens: MAX_OUTPUT_TOKENS,
          signal: input.signal,
          // The provider (or a gateway before it) may continue the trace from this span.
          headers: traceHeaders(telemetry.propagator, trace.setSpan(parent, span)),
        })
        const outcome = interpretModelResult(policy, result)
        if (result.kind !== 'failure') {
          span.setAttribute('gen_ai.response.model', result.model)
          if (result.usage?.inputTokens !== undefined) span.setAttribute('gen_ai.usage.input_tokens', result.usage.inputTokens)
          if (result.usage?.outputTokens !== undefined) span.setAttribute('gen_ai.usage.output_tokens', result.usage.outputTokens)
        }
        if (result.kind === 'answer' && result.finishReason) span.setAttribute('gen_ai.response.finish_reasons', [result.finishReason])
        if (outcome.kind === 'failed') {
          span.setAttribute('moderation.fallback_reason', outcome.reason)
          span.setStatus({ code: SpanStatusCode.ERROR, message: `${outcome.reason}: ${outcome.detail}` })
        }
        return outcome
      } finally {
        telemetry.recordModelCall({
          system: client.system,
          model,
          durationMs: clock.now() - started,
          outcome: result?.kind === 'failure' ? result.reason : (result?.kind ?? 'error'),
          usage: result && result.kind !== 'failure' ? result.usage : undefined,
        })
        span.end()
      }
    },
  )
}
