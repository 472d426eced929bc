import { createHash, randomInt } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { authorize } from '../messages/graph-auth';
import { metaError } from '../messages/outbound-simulator';
import type { SandboxContext } from '../sandbox-context';

/** Meta's accepted upload types and sizes (§5). */
const LIMITS: Record<string, number> = {
  'image/jpeg': 5 << 20,
  'image/png': 5 << 20,
  'image/webp': 500 << 10,
  'video/mp4': 16 << 20,
  'video/3gpp': 16 << 20,
  'audio/aac': 16 << 20,
  'audio/amr': 16 << 20,
  'audio/mpeg': 16 << 20,
  'audio/mp4': 16 << 20,
  'audio/ogg': 16 << 20,
  'text/plain': 100 << 20,
  'application/pdf': 100 << 20,
  'application/msword': 100 << 20,
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 100 << 20,
  'application/vnd.ms-excel': 100 << 20,
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 100 << 20,
  'application/vnd.ms-powerpoint': 100 << 20,
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': 100 << 20,
};

/** Magic numbers of the common types: Meta rejects a file whose bytes are not its declared type (131053). */
function contentMatches(mimeType: string, data: Buffer): boolean {
  const starts = (hex: string, at = 0) => data.subarray(at, at + hex.length / 2).toString('hex') === hex;
  switch (mimeType) {
    case 'application/pdf':
      return starts('25504446');
    case 'image/png':
      return starts('89504e47');
    case 'image/jpeg':
      return starts('ffd8ff');
    case 'image/webp':
      return starts('52494646') && starts('57454250', 8);
    case 'video/mp4':
    case 'audio/mp4':
      return starts('66747970', 4);
    default:
      return true;
  }
}

export interface UploadedMedia {
  id: string;
  tenantId: string;
  phoneNumberId: string;
  mimeType: string;
  filename?: string;
  sha256: string;
  size: number;
  uploadedAt: string;
  content: Buffer;
}

const stores = new WeakMap<FastifyInstance, Map<string, UploadedMedia>>();

/** Files uploaded through POST /{phone-number-id}/media, by media id. */
export function uploadedMediaOf(app: FastifyInstance): Map<string, UploadedMedia> {
  return stores.get(app) ?? new Map();
}

/**
 * POST /{version}/{phone-number-id}/media (multipart: messaging_product, file, type) → {id}, as
 * Meta answers it. Retrieval (GET /{media-id}) belongs to the inbound part of the sandbox.
 */
export async function registerMediaUploads(app: FastifyInstance, context: SandboxContext): Promise<void> {
  const uploaded = new Map<string, UploadedMedia>();
  stores.set(app, uploaded);

  await app.register(async (scope) => {
    // Own scope: the raw multipart body is parsed here with the platform's FormData (undici).
    if (scope.hasContentTypeParser('multipart/form-data')) scope.removeContentTypeParser('multipart/form-data');
    scope.addContentTypeParser('multipart/form-data', { parseAs: 'buffer', bodyLimit: 110 * 1024 * 1024 }, (_req, body, done) =>
      done(null, body),
    );

    scope.post<{ Params: { version: string; phoneNumberId: string } }>('/:version/:phoneNumberId/media', async (request, reply) => {
      const auth = authorize(context, request, request.params.phoneNumberId);
      if ('code' in auth) return reply.status(auth.http).send(metaError(auth.code, auth));
      let form: FormData;
      try {
        form = await new Response(request.body as Buffer, {
          headers: { 'content-type': request.headers['content-type'] ?? '' },
        }).formData();
      } catch {
        return reply
          .status(400)
          .send(metaError(100, { message: '(#100) Invalid parameter', details: 'The body is not multipart/form-data.' }));
      }
      if (form.get('messaging_product') !== 'whatsapp')
        return reply.status(400).send(metaError(100, { message: '(#100) The parameter messaging_product is required.' }));
      const file = form.get('file');
      if (!(file instanceof Blob)) return reply.status(400).send(metaError(100, { message: '(#100) The parameter file is required.' }));
      const declared = String(form.get('type') ?? file.type ?? '');
      const data = Buffer.from(await file.arrayBuffer());
      const limit = LIMITS[declared];
      if (limit === undefined)
        return reply
          .status(400)
          .send(metaError(131053, { message: '(#131053) Media upload error', details: `Unsupported media type ${declared}.` }));
      if (data.length > limit)
        return reply
          .status(400)
          .send(metaError(131053, { message: '(#131053) Media upload error', details: `File is larger than ${limit} bytes.` }));
      if (!contentMatches(declared, data)) {
        return reply.status(400).send(
          metaError(131053, {
            message: '(#131053) Media upload error',
            details: `The file content does not match the MIME type ${declared}.`,
          }),
        );
      }
      // randomInt spans at most 2^48, so the 16-digit id is built from two draws.
      const id = `${randomInt(1_000_000, 9_999_999)}${randomInt(100_000_000, 999_999_999)}`;
      uploaded.set(id, {
        id,
        tenantId: auth.tenant.id,
        phoneNumberId: auth.phone.id,
        mimeType: declared,
        filename: 'name' in file && typeof file.name === 'string' ? file.name : undefined,
        sha256: createHash('sha256').update(data).digest('hex'),
        size: data.length,
        uploadedAt: new Date().toISOString(),
        content: data,
      });
      return { id };
    });
  });

  app.get('/sandbox/uploaded-media', async () => ({
    media: [...uploaded.values()].map(({ content: _content, ...meta }) => meta),
  }));
}
