import type { OpenAPIObject } from '@nestjs/swagger';
import { WEBHOOK_ROUTE_PREFIX } from './webhook-route';

const errorBody = {
  'application/json': {
    schema: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
};

const failure = (description: string) => ({ description, content: errorBody });

/** The webhook POST's entry in /docs (it is a raw Fastify route, which Nest's scanner does not see). */
export const WEBHOOK_POST_OPENAPI: OpenAPIObject['paths'] = {
  [`${WEBHOOK_ROUTE_PREFIX}/{appId}`]: {
    post: {
      tags: ['webhooks'],
      summary: 'Receives a signed WhatsApp webhook; 200 only once Kafka holds it',
      parameters: [
        { name: 'appId', in: 'path', required: true, schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{1,62}$' } },
        {
          name: 'X-Hub-Signature-256',
          in: 'header',
          required: true,
          description: 'sha256=<hex HMAC-SHA256 of the raw body with the app secret>',
          schema: { type: 'string' },
        },
      ],
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
      responses: {
        '200': {
          description:
            'Stored durably (Kafka acks=all): on the raw topic, or, for a signed body that is not JSON or not a WhatsApp payload, in quarantine',
        },
        '400': failure('Signed, but not JSON or not a WhatsApp payload (kept in quarantine); only with WEBHOOK_BAD_CONTENT_STATUS=400'),
        '401': failure('Missing or invalid signature; nothing stored'),
        '404': failure('No such app on this ingress'),
        '413': failure('Body over 4 MB'),
        '415': failure('Not application/json'),
        '503': failure('Kafka unavailable or slow; Meta retries'),
      },
    },
  },
};
