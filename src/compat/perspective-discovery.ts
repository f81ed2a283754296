import { PERSPECTIVE_ATTRIBUTES } from './perspective.js'

/** The one version of Comment Analyzer this service speaks. */
export const PERSPECTIVE_API_VERSION = 'v1alpha1'

const string = (description: string) => ({ type: 'string', description })
const boolean = (description: string) => ({ type: 'boolean', description })
const strings = (description: string) => ({ type: 'array', items: { type: 'string' }, description })
const ref = (name: string, description?: string) => ({ $ref: name, ...(description ? { description } : {}) })
const object = (id: string, description: string, properties: Record<string, unknown>) => ({ id, type: 'object', description, properties })

// Query parameters every method takes in Google's APIs; the discovery clients add key and alt.
const QUERY = (description: string, extra: Record<string, unknown> = {}) => ({ type: 'string', location: 'query', description, ...extra })

const SCHEMAS = {
  AnalyzeCommentRequest: object('AnalyzeCommentRequest', 'The comment to score and the attributes wanted.', {
    comment: ref('TextEntry', 'The comment.'),
    requestedAttributes: {
      type: 'object',
      description: `Attribute name to its options; supported: ${PERSPECTIVE_ATTRIBUTES.join(', ')}.`,
      additionalProperties: ref('AttributeParameters'),
    },
    languages: strings('Languages of the comment (echoed back; ["en"] when absent).'),
    doNotStore: boolean('Accepted; this service never stores comments.'),
    clientToken: string('Echoed back in the response.'),
    sessionId: string('Accepted and ignored.'),
    spanAnnotations: boolean('Accepted; no span scores are returned.'),
    policy: string('Not in Perspective: the moderation policy to apply (also the X-Moderation-Policy header).'),
  }),
  TextEntry: object('TextEntry', 'A piece of text.', {
    text: string('The text.'),
    type: { type: 'string', description: 'Its type.', enum: ['PLAIN_TEXT'] },
  }),
  AttributeParameters: object('AttributeParameters', 'Options for one requested attribute.', {
    scoreType: { type: 'string', description: 'The score type; only PROBABILITY.', enum: ['PROBABILITY'] },
    scoreThreshold: { type: 'number', format: 'float', description: 'Attributes scored below this are left out of the response.' },
  }),
  AnalyzeCommentResponse: object('AnalyzeCommentResponse', 'Scores for the requested attributes.', {
    attributeScores: { type: 'object', description: 'Attribute name to its scores.', additionalProperties: ref('AttributeScores') },
    languages: strings('The languages of the request, or ["en"].'),
    clientToken: string('The clientToken of the request.'),
    moderation: { type: 'object', description: "Not in Perspective: this service's verdict (see /openapi.json, schema Verdict).", additionalProperties: { type: 'any' } },
  }),
  AttributeScores: object('AttributeScores', 'The scores of one attribute.', { summaryScore: ref('Score', 'The score of the whole comment.') }),
  Score: object('Score', 'A score.', {
    value: { type: 'number', format: 'float', description: 'From 0 to 1.' },
    type: { type: 'string', description: 'The score type.', enum: ['PROBABILITY'] },
  }),
}

/**
 * Comment Analyzer's discovery document (Google's discovery format, v1), as Google's discovery
 * clients read it before their first call (`discovery.build('commentanalyzer', 'v1alpha1',
 * discoveryServiceUrl=...)`): the one method this service implements, comments.analyze, under
 * `rootUrl`, so such a client calls this service and not Google's host.
 *
 * @example
 * perspectiveDiscoveryDocument('https://moderation.example.com/')
 */
export function perspectiveDiscoveryDocument(rootUrl: string) {
  return {
    kind: 'discovery#restDescription',
    discoveryVersion: 'v1',
    id: `commentanalyzer:${PERSPECTIVE_API_VERSION}`,
    name: 'commentanalyzer',
    version: PERSPECTIVE_API_VERSION,
    revision: '1',
    title: 'Perspective Comment Analyzer API (moderation-service)',
    description: "Perspective-compatible comment scoring, answered by this moderation service's policies.",
    documentationLink: `${rootUrl}docs`,
    protocol: 'rest',
    rootUrl,
    servicePath: '',
    baseUrl: rootUrl,
    parameters: {
      key: QUERY('An API key (one of MODERATION_API_KEYS; not needed when the service has none).'),
      alt: QUERY('Data format of the response.', { default: 'json', enum: ['json'] }),
      fields: QUERY('Accepted and ignored.'),
      prettyPrint: { type: 'boolean', location: 'query', description: 'Accepted and ignored.', default: 'true' },
      quotaUser: QUERY('Accepted and ignored.'),
    },
    schemas: SCHEMAS,
    resources: {
      comments: {
        methods: {
          analyze: {
            id: 'commentanalyzer.comments.analyze',
            path: `${PERSPECTIVE_API_VERSION}/comments:analyze`,
            flatPath: `${PERSPECTIVE_API_VERSION}/comments:analyze`,
            httpMethod: 'POST',
            description: 'Scores a comment on the requested attributes.',
            parameters: {},
            parameterOrder: [],
            request: ref('AnalyzeCommentRequest'),
            response: ref('AnalyzeCommentResponse'),
          },
        },
      },
    },
  }
}
