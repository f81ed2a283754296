/**
 * openapi/: The OpenAPI document, built from the zod schemas that validate each shape (this file),
 * its reference page and the routes that serve both.
 *
 * May import: routes, compat, http, core/*.
 */
import { z } from 'zod'
import { googleErrorSchema, PERSPECTIVE_ATTRIBUTES, perspectiveRequestSchema, perspectiveResponseSchema } from '../compat/perspective.js'
import { openAiModerationRequestSchema, openAiModerationResponseSchema } from '../compat/openai-moderation.js'
import { jobSchema } from '../core/webhooks/delivery-job.js'
import { verdictSchema } from '../core/shared/verdict.js'
import { errorEnvelopeSchema } from '../http/errors.js'
import { moderateJsonSchema } from '../http/read-moderation-body.js'
import { healthSchema, readySchema } from '../routes/health.js'
import { policyListSchema } from '../routes/policies.js'

/** Every schema below is generated from the zod schema that validates (or produces) it. */
const SCHEMAS = {
  ModerateRequest: moderateJsonSchema,
  Verdict: verdictSchema,
  Error: errorEnvelopeSchema,
  OpenAiModerationRequest: openAiModerationRequestSchema,
  OpenAiModerationResponse: openAiModerationResponseSchema,
  PerspectiveRequest: perspectiveRequestSchema,
  PerspectiveResponse: perspectiveResponseSchema,
  GoogleError: googleErrorSchema,
  PolicyList: policyListSchema,
  Job: jobSchema,
  Health: healthSchema,
  Ready: readySchema,
} satisfies Record<string, z.ZodType>

const ref = (name: keyof typeof SCHEMAS) => ({ $ref: `#/components/schemas/${name}` })
const json = (name: keyof typeof SCHEMAS) => ({ 'application/json': { schema: ref(name) } })
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [String(status), { description: ERROR_TEXT[status] ?? 'error', content: json('Error') }]))
const ERROR_TEXT: Record<number, string> = {
  400: 'invalid_request: malformed JSON, wrong fields, nothing to moderate, unknown policy',
  401: 'unauthorized: missing or wrong API key (when MODERATION_API_KEYS is set)',
  404: 'not_found',
  413: 'payload_too_large: body, text, image count or image size over the limit',
  415: 'unsupported_media_type',
  422: 'unprocessable_content: disguised, corrupt or oversized-in-pixels image',
  429: 'rate_limited: this client has MODERATION_MAX_IN_FLIGHT_PER_CLIENT requests in progress, or (with callback_url) WEBHOOK_MAX_PENDING_PER_CLIENT undelivered jobs (Retry-After)',
  503: 'service_unavailable: too many requests in progress, shutting down, the delivery queue full, or too many jobs being judged (Retry-After)',
}
const bearer = [{ bearer: [] }]
const queryParam = (name: string, description: string, schema: Record<string, unknown>) => ({ name, in: 'query', required: false, description, schema })
const headerParam = (name: string, description: string, schema: Record<string, unknown> = { type: 'string' }) => ({ name, in: 'header', required: false, description, schema })
// Standard Webhooks: the three headers of a signed request (in) and of every delivery (out).
const SIGNED_HEADERS = [
  headerParam('webhook-id', 'Signed requests (instead of a bearer key): the message id; refused when seen before (replays).'),
  headerParam('webhook-timestamp', 'Signed requests: Unix seconds; refused more than 5 minutes off.'),
  headerParam('webhook-signature', 'Signed requests: "v1,<base64 HMAC-SHA256 of id.timestamp.body>" with a WEBHOOK_INBOUND_SECRET (or WEBHOOK_SECRET) key.'),
]
const POLICY_HEADER = headerParam('X-Moderation-Policy', 'Ours: the policy to apply (default policy when absent).')
const BUDGET_HEADER = headerParam('X-Moderation-Budget-Ms', 'Ours: a lower latency budget, in milliseconds.', { type: 'integer', minimum: 1 })

function componentSchemas() {
  return Object.fromEntries(
    Object.entries(SCHEMAS).map(([name, schema]) => {
      const { $schema: _draft, ...jsonSchema } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>
      return [name, jsonSchema]
    }),
  )
}

/**
 * The OpenAPI 3.1 document of the whole service. Its schemas come from the zod schemas the
 * routes validate with (OpenAPI 3.1 speaks the same JSON Schema dialect zod emits).
 *
 * @example
 * app.get('/openapi.json', (c) => c.json(buildOpenApiDocument()))
 */
export function buildOpenApiDocument() {
  return {
    openapi: '3.1.0',
    info: {
      title: 'moderation-service',
      version: '1.0.0',
      description:
        'Real-time content moderation: text and images judged by Gemini Flash under a latency budget, with a conservative verdict whenever the model is slow, failing or talking nonsense.',
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'One of MODERATION_API_KEYS (no authentication when unset).' },
        perspectiveKey: { type: 'apiKey', in: 'query', name: 'key', description: 'The same keys, as Perspective clients send them.' },
      },
      schemas: componentSchemas(),
    },
    // What the service POSTs to a callback_url (OpenAPI 3.1 webhooks).
    webhooks: {
      'moderation.completed': {
        post: {
          summary: 'The verdict of an asynchronous job, delivered to its callback_url',
          description:
            'Signed the Standard Webhooks way with WEBHOOK_SECRET (one v1 signature per key while rotating). Retried with exponential backoff and jitter, honouring Retry-After, until a 2xx, a 410 (never again) or the retry window (WEBHOOK_RETRY_WINDOW_SECONDS). The webhook-id is the same on every attempt: deduplicate on it.',
          parameters: SIGNED_HEADERS.map((header) => ({ ...header, required: true, description: header.description.replace(/^Signed requests(?: \(instead of a bearer key\))?: /, '') })),
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['type', 'timestamp', 'data'],
                  properties: { type: { const: 'moderation.completed' }, timestamp: { type: 'string', format: 'date-time' }, data: { $ref: '#/components/schemas/Verdict' } },
                },
              },
            },
          },
          responses: { '2XX': { description: 'Delivered' }, '410': { description: 'Gone: this URL is not called again' } },
        },
      },
    },
    paths: {
      '/v1/moderate': {
        post: {
          summary: 'Moderate one item (text and/or images)',
          description:
            'Always 200 with a verdict inside the budget; a failure on the way is the conservative verdict (source "fallback"). Bad input is a 4xx.',
          security: bearer,
          parameters: [
            queryParam('policy', 'Policy name, for raw bodies (image/*, text/plain).', { type: 'string' }),
            queryParam('budget_ms', 'Lower latency budget, for raw bodies.', { type: 'integer', minimum: 1 }),
            queryParam('callback_url', 'Asynchronous, for raw bodies: answer 202 at once and POST the verdict here, signed (needs WEBHOOK_SECRET).', { type: 'string', format: 'uri', maxLength: 2048 }),
            headerParam('Idempotency-Key', 'With callback_url: a resubmission with the same key and content returns the same job (and webhook-id); other content with it is 422.'),
            ...SIGNED_HEADERS,
          ],
          requestBody: {
            required: true,
            content: {
              ...json('ModerateRequest'),
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  properties: {
                    text: { type: 'string' },
                    policy: { type: 'string' },
                    budget_ms: { type: 'integer' },
                    callback_url: { type: 'string', format: 'uri', maxLength: 2048 },
                    image: { type: 'array', items: { type: 'string', contentMediaType: 'application/octet-stream' } },
                  },
                },
              },
              'image/*': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } },
              'text/plain': { schema: { type: 'string' } },
            },
          },
          responses: {
            '200': { description: 'The verdict', content: json('Verdict') },
            '202': {
              description: 'With callback_url: the job, accepted; the verdict is POSTed to the callback, signed (Standard Webhooks)',
              content: json('Job'),
            },
            ...errors(400, 401, 413, 415, 422, 429, 503),
          },
        },
      },
      '/v1/jobs/{id}': {
        get: {
          summary: 'An asynchronous job: queued, running, delivered or failed, with its verdict once there is one',
          security: bearer,
          parameters: [{ name: 'id', in: 'path', required: true, description: 'The job id the 202 gave.', schema: { type: 'string' } }],
          responses: { '200': { description: 'The job', content: json('Job') }, ...errors(401, 404, 429, 503) },
        },
      },
      '/v1/moderations': {
        post: {
          summary: 'OpenAI-compatible moderation',
          description: 'Drop-in for OpenAI\'s POST /v1/moderations. Optional X-Moderation-Policy and X-Moderation-Budget-Ms headers. Errors carry OpenAI\'s type and param too.',
          security: bearer,
          parameters: [POLICY_HEADER, BUDGET_HEADER],
          requestBody: { required: true, content: json('OpenAiModerationRequest') },
          responses: { '200': { description: 'One result per input', content: json('OpenAiModerationResponse') }, ...errors(400, 401, 413, 415, 422, 429, 503) },
        },
      },
      '/v1alpha1/comments:analyze': {
        post: {
          summary: 'Perspective-compatible comment analysis',
          description: `Drop-in for Perspective's comments:analyze. Attributes: ${PERSPECTIVE_ATTRIBUTES.join(', ')}. Errors in Google's API shape.`,
          security: [...bearer, { perspectiveKey: [] }],
          parameters: [POLICY_HEADER],
          requestBody: { required: true, content: json('PerspectiveRequest') },
          responses: {
            '200': { description: 'Scores for the requested attributes', content: json('PerspectiveResponse') },
            '400': { description: 'Invalid request or unsupported attribute', content: json('GoogleError') },
            '401': { description: 'Missing or wrong key', content: json('GoogleError') },
            '413': { description: 'Body or comment over the limit', content: json('GoogleError') },
            '415': { description: 'Not application/json', content: json('GoogleError') },
            '429': { description: 'This client has MODERATION_MAX_IN_FLIGHT_PER_CLIENT requests in progress (RESOURCE_EXHAUSTED, Retry-After)', content: json('GoogleError') },
            '500': { description: 'Internal error', content: json('GoogleError') },
            '503': { description: 'Too many requests in progress (UNAVAILABLE, Retry-After)', content: json('GoogleError') },
          },
        },
      },
      '/v1/policies': {
        get: {
          summary: 'The policies, their versions, thresholds and failure actions',
          security: bearer,
          responses: { '200': { description: 'Policies', content: json('PolicyList') }, ...errors(401, 429, 503) },
        },
      },
      '/healthz': { get: { summary: 'Liveness', security: [], responses: { '200': { description: 'The process answers', content: json('Health') } } } },
      '/readyz': {
        get: {
          summary: 'Readiness',
          security: [],
          responses: { '200': { description: 'Ready for traffic', content: json('Ready') }, ...errors(503) },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document', security: [], responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } },
      },
      '/docs': {
        get: { summary: 'The human-readable reference', security: [], responses: { '200': { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } } } },
      },
      '/playground': {
        get: {
          summary: 'A page to try the service in a browser',
          description: 'Text, images, a policy and a budget in; the verdict, the local scores, the latency against the budget, the raw JSON and the same request as curl out. Its own requests go to /v1 with the key typed into it.',
          security: [],
          responses: { '200': { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } } },
        },
      },
      '/': {
        get: {
          summary: 'Where to go: a browser is sent to /playground, other clients get the links',
          security: [],
          responses: {
            '200': { description: 'Links to the playground, the reference and this document', content: { 'application/json': { schema: { type: 'object' } } } },
            '302': { description: 'To /playground, for a client that accepts text/html' },
          },
        },
      },
      '/$discovery/rest': {
        get: {
          summary: "Comment Analyzer's discovery document, for Google's discovery-based Perspective clients",
          description: 'Google discovery format: comments.analyze under a rootUrl that is MODERATION_PUBLIC_URL, or the scheme and host the request came to.',
          security: [],
          parameters: [queryParam('version', 'The API version: v1alpha1 (the default).', { type: 'string', enum: ['v1alpha1'] })],
          responses: {
            '200': { description: 'The discovery document', content: { 'application/json': { schema: { type: 'object' } } } },
            '404': { description: 'Another version', content: json('GoogleError') },
          },
        },
      },
      '/try': { get: { summary: 'A short name for /playground', security: [], responses: { '302': { description: 'To /playground' } } } },
    },
  }
}

export type OpenApiDocument = ReturnType<typeof buildOpenApiDocument>
