import { createHash, randomBytes, randomInt } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TenantRegistry } from '@wa/tenancy';
import type { UploadedMedia } from '../media/media-upload.routes';
import type { MediaRegistrar, MediaSpec, RegisteredMedia } from './message-builder';

interface StoredFile {
  mediaId: string;
  tenantId: string;
  phoneNumberId: string;
  mimeType: string;
  content: Buffer;
}

interface DownloadTicket {
  mediaId: string;
  expiresAt: number;
}

/** Meta's download URLs live about five minutes. */
const URL_LIFETIME_MS = 5 * 60 * 1000;

function graphError(reply: FastifyReply, status: number, code: number, message: string, type = 'OAuthException') {
  return reply.status(status).send({ error: { message, type, code, fbtrace_id: randomBytes(8).toString('base64url') } });
}

/**
 * The sandbox's media: files citizens "send" get an id here, and the ingress resolves and
 * downloads them the way it does with Meta (GET /{version}/{media-id} for a short-lived URL, then
 * GET the URL, both with the tenant's bearer token).
 */
export class SandboxMediaStore implements MediaRegistrar {
  private readonly files = new Map<string, StoredFile>();
  private readonly tickets = new Map<string, DownloadTicket>();
  /** Set once the server knows its address, for the `url` field of webhooks. */
  publicBaseUrl = 'http://127.0.0.1:3100';

  /**
   * @param uploaded files businesses uploaded through POST /{phone-number-id}/media (the messages
   *   part's store): Meta has one media namespace, so GET /{media-id} serves those too.
   */
  constructor(
    private readonly tenants: TenantRegistry,
    private readonly uploaded: () => ReadonlyMap<string, UploadedMedia> = () => new Map(),
  ) {}

  register(tenantId: string, phoneNumberId: string, type: string, media: MediaSpec): RegisteredMedia {
    // 15 digits like Meta's ids (randomInt spans at most 2^48).
    const mediaId = `8${String(randomInt(0, 10 ** 14)).padStart(14, '0')}`;
    const mimeType = media.mimeType ?? 'application/octet-stream';
    const content = media.dataBase64 ? Buffer.from(media.dataBase64, 'base64') : Buffer.from(`sandbox ${type} ${mediaId} (${mimeType})\n`);
    // Meta shows the checksum base64-encoded in webhooks (and hex from GET /{media-id}).
    const sha256 = createHash('sha256').update(content).digest('base64');
    this.files.set(mediaId, { mediaId, tenantId, phoneNumberId, mimeType, content });
    return { mediaId, mimeType, sha256, url: this.issueUrl(mediaId, this.publicBaseUrl) };
  }

  get(mediaId: string): StoredFile | undefined {
    const own = this.files.get(mediaId);
    if (own) return own;
    const upload = this.uploaded().get(mediaId);
    return upload
      ? {
          mediaId: upload.id,
          tenantId: upload.tenantId,
          phoneNumberId: upload.phoneNumberId,
          mimeType: upload.mimeType,
          content: upload.content,
        }
      : undefined;
  }

  /** Forget a file, as Meta does after 7 days. */
  expire(mediaId: string): boolean {
    return this.files.delete(mediaId);
  }

  private issueUrl(mediaId: string, baseUrl: string): string {
    const ticket = randomBytes(18).toString('base64url');
    this.tickets.set(ticket, { mediaId, expiresAt: Date.now() + URL_LIFETIME_MS });
    for (const [key, value] of this.tickets) if (value.expiresAt < Date.now()) this.tickets.delete(key);
    return `${baseUrl}/sandbox/media-download/${ticket}`;
  }

  private tenantOfToken(request: FastifyRequest): string | undefined {
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!token) return undefined;
    return this.tenants.tenants.find((t) => {
      try {
        return this.tenants.secret(t.accessTokenRef) === token;
      } catch {
        return false;
      }
    })?.id;
  }

  routes(app: FastifyInstance): void {
    // GET /{version}/{media-id}: the Graph API's "retrieve media URL".
    app.get<{ Params: { version: string; mediaId: string }; Querystring: { phone_number_id?: string } }>(
      '/:version(^v\\d+\\.\\d+$)/:mediaId',
      async (request, reply) => {
        const tenantId = this.tenantOfToken(request);
        if (!tenantId) return graphError(reply, 401, 190, 'Invalid OAuth access token - Cannot parse access token');
        const file = this.get(request.params.mediaId);
        const phone = request.query.phone_number_id;
        if (!file || file.tenantId !== tenantId || (phone !== undefined && phone !== file.phoneNumberId)) {
          return graphError(
            reply,
            400,
            100,
            `Unsupported get request. Object with ID '${request.params.mediaId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
            'GraphMethodException',
          );
        }
        const base = `${request.protocol}://${request.headers.host ?? '127.0.0.1'}`;
        return {
          messaging_product: 'whatsapp',
          url: this.issueUrl(file.mediaId, base),
          mime_type: file.mimeType,
          sha256: createHash('sha256').update(file.content).digest('hex'),
          file_size: file.content.length,
          id: file.mediaId,
        };
      },
    );

    // The short-lived download URL: needs the same tenant's token, 404 once expired.
    app.get<{ Params: { ticket: string } }>('/sandbox/media-download/:ticket', async (request, reply) => {
      const ticket = this.tickets.get(request.params.ticket);
      const file = ticket && ticket.expiresAt > Date.now() ? this.get(ticket.mediaId) : undefined;
      if (!file) return reply.status(404).send('Not Found');
      const tenantId = this.tenantOfToken(request);
      if (tenantId !== file.tenantId) return graphError(reply, 401, 190, 'Invalid OAuth access token');
      return reply.header('content-type', file.mimeType).header('content-length', file.content.length).send(file.content);
    });
  }
}
