import { Readable } from 'node:stream';
import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { connectedDataSource, DomainError, InjectEnv } from '@wa/service-kit';
import { TenantRegistry } from '@wa/tenancy';
import type { IngressEnv } from '../config/env';
import { GraphMediaClient } from './graph-media.client';
import { MediaStore } from './media-store';
import { StoredMedia } from './stored-media.entity';
import { TransferGate } from './transfer-gate';

export interface MediaReference {
  tenantId: string;
  mediaId: string;
  /** Durable reference other services keep instead of Meta's expiring id: `media:<tenant>/<media id>`. */
  reference: string;
  /** Path on this service that serves the bytes. */
  contentPath: string;
  mimeType: string;
  sha256: string;
  fileSize: number;
  filename?: string;
  fetchedAt: string;
}

const MEDIA_ID = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * Meta's checksum has been seen as hex and as base64; compare in whichever form it came, and
 * ignore forms we do not recognise rather than refusing every real file over a format guess.
 */
function checksumMatches(declared: string | undefined, digest: Buffer): boolean {
  if (!declared) return true;
  if (/^[0-9a-f]{64}$/i.test(declared)) return digest.toString('hex') === declared.toLowerCase();
  if (/^[A-Za-z0-9+/]{43}=$/.test(declared)) return digest.toString('base64') === declared;
  return true;
}

@Injectable()
export class MediaService {
  private readonly logger = new Logger(MediaService.name);
  private readonly graph: GraphMediaClient;
  private readonly gate: TransferGate;

  constructor(
    private readonly dataSource: DataSource,
    private readonly registry: TenantRegistry,
    @InjectEnv() env: IngressEnv,
  ) {
    this.graph = new GraphMediaClient(env.GRAPH_BASE_URL, env.MEDIA_MAX_BYTES);
    this.gate = new TransferGate(env.MEDIA_TRANSFERS_PER_TENANT);
  }

  /** Downloads the media with the tenant's token and stores it once; later calls return the stored copy. */
  async fetch(tenantId: string, mediaId: string, options: { phoneNumberId?: string; filename?: string } = {}): Promise<MediaReference> {
    const tenant = this.tenantOrFail(tenantId);
    this.checkMediaId(mediaId);
    if (options.phoneNumberId && !tenant.phoneNumbers.some((p) => p.id === options.phoneNumberId)) {
      throw new DomainError('unknown_phone_number', `Phone number ${options.phoneNumberId} is not ${tenantId}'s`, HttpStatus.NOT_FOUND);
    }
    const existing = await this.find(tenantId, mediaId);
    if (existing) return existing;

    const token = this.registry.secret(tenant.accessTokenRef);
    const phoneNumberId = options.phoneNumberId ?? tenant.phoneNumbers[0].id;
    const release = this.gate.enter(tenantId);
    try {
      let resolved = await this.graph.resolve(tenant.graphApiVersion, mediaId, token, phoneNumberId);
      let downloaded = await this.graph.download(resolved.url, token);
      if (!downloaded) {
        // The URL lives minutes: resolve once more and retry before giving up.
        resolved = await this.graph.resolve(tenant.graphApiVersion, mediaId, token, phoneNumberId);
        downloaded = await this.graph.download(resolved.url, token);
      }
      if (!downloaded) throw new DomainError('media_not_found', 'The media URL keeps answering 404', HttpStatus.NOT_FOUND);
      const declared = resolved.sha256;
      try {
        await new MediaStore(await this.db()).write(
          {
            tenantId,
            mediaId,
            mimeType: resolved.mimeType ?? downloaded.contentType ?? 'application/octet-stream',
            filename: options.filename ?? null,
          },
          downloaded.body,
          (digest) => {
            if (!checksumMatches(declared, digest)) {
              throw new DomainError(
                'media_checksum_mismatch',
                'Downloaded bytes do not match the checksum Meta gave',
                HttpStatus.BAD_GATEWAY,
              );
            }
          },
        );
      } finally {
        await downloaded.cancel().catch(() => undefined);
      }
    } finally {
      release();
    }
    return (await this.find(tenantId, mediaId))!;
  }

  async find(tenantId: string, mediaId: string): Promise<MediaReference | undefined> {
    const row = await (await this.db()).getRepository(StoredMedia).findOne({ where: { tenantId, mediaId } });
    return row ? this.referenceOf(row) : undefined;
  }

  async get(tenantId: string, mediaId: string): Promise<MediaReference> {
    this.tenantOrFail(tenantId);
    this.checkMediaId(mediaId);
    const found = await this.find(tenantId, mediaId);
    if (!found) throw new DomainError('media_not_stored', 'This media has not been fetched; POST to fetch it', HttpStatus.NOT_FOUND);
    return found;
  }

  /**
   * The stored bytes as a stream, a chunk at a time; the tenant's transfer slot is held until the
   * stream ends or is destroyed (the client went away).
   */
  async content(tenantId: string, mediaId: string): Promise<{ reference: MediaReference; content: Readable }> {
    const reference = await this.get(tenantId, mediaId);
    const store = new MediaStore(await this.db());
    const release = this.gate.enter(tenantId);
    const chunks = store.read(tenantId, mediaId);
    async function* guarded(): AsyncGenerator<Buffer> {
      try {
        yield* chunks;
      } finally {
        release();
      }
    }
    const content = Readable.from(guarded());
    content.once('close', release);
    return { reference, content };
  }

  /**
   * The database, connected: a receiver replica starts without it and connects on the first media
   * request (ServiceDescriptor.database). Unreachable means 503 for this request, and the next one
   * tries again.
   */
  private async db(): Promise<DataSource> {
    try {
      return await connectedDataSource(this.dataSource);
    } catch (error) {
      this.logger.error({ err: (error as Error).message }, 'media store database unreachable');
      throw new DomainError('database_unavailable', 'The media store is unavailable; retry later', HttpStatus.SERVICE_UNAVAILABLE);
    }
  }

  private tenantOrFail(tenantId: string) {
    const tenant = this.registry.tenant(tenantId);
    if (!tenant) throw new DomainError('unknown_tenant', `No tenant ${tenantId}`, HttpStatus.NOT_FOUND);
    return tenant;
  }

  private checkMediaId(mediaId: string): void {
    if (!MEDIA_ID.test(mediaId))
      throw new DomainError('invalid_media_id', 'Media ids are 1-128 letters, digits, _ . or -', HttpStatus.BAD_REQUEST);
  }

  private referenceOf(row: StoredMedia): MediaReference {
    return {
      tenantId: row.tenantId,
      mediaId: row.mediaId,
      reference: `media:${row.tenantId}/${row.mediaId}`,
      contentPath: `/v1/media/${encodeURIComponent(row.mediaId)}/content`,
      mimeType: row.mimeType,
      sha256: row.sha256,
      fileSize: Number(row.fileSize),
      filename: row.filename ?? undefined,
      fetchedAt: row.fetchedAt.toISOString(),
    };
  }
}
