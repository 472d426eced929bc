import { createHash, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { MediaKind, OutboundFailureReason } from '@wa/contracts';
import { counter } from '@wa/observability';
import type { CallOutcome, GraphClient } from '../cloud-api/graph-client';
import type { GatewayEnv } from '../config/env';
import type { Sender, TenantDirectory } from '../tenancy/tenant-directory';
import { mediaProblem } from './media-rules';

/** Meta keeps an uploaded media id for 30 days. */
export const MEDIA_ID_LIFETIME_MS = 30 * 86400000;

const uploads = counter('gateway_media_uploads_total', 'Agency files uploaded to the Cloud API', ['outcome']);

export type MediaResolution =
  | { mediaId: string }
  | { fail: { reason: OutboundFailureReason; detail: string } }
  /** The upload call itself failed: handled like a send failure (retry, hold …). */
  | { outcome: CallOutcome };

export interface StoredAsset {
  assetId: string;
  tenantId: string;
  filename: string | null;
  mimeType: string;
  sha256: string;
  size: number;
  createdAt: string;
}

/**
 * Agency files (PDF checklists, images, videos) kept in the gateway's schema and uploaded to each
 * sending number on first use. The Meta media id is cached per (file, number) and replaced before
 * its 30-day expiry: on use when it is close, and by a periodic refresh for recently used files.
 */
export class MediaService {
  private readonly inflight = new Map<string, Promise<MediaResolution>>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly graph: GraphClient,
    private readonly tenants: TenantDirectory,
    private readonly env: GatewayEnv,
  ) {}

  async store(tenantId: string, file: { data: Buffer; mimeType: string; filename?: string }): Promise<StoredAsset> {
    const assetId = randomUUID();
    const sha256 = createHash('sha256').update(file.data).digest('hex');
    const [row] = await this.dataSource.query(
      `INSERT INTO gateway.media_asset (asset_id, tenant_id, filename, mime_type, sha256, size, data)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING created_at`,
      [assetId, tenantId, file.filename ?? null, file.mimeType, sha256, file.data.length, file.data],
    );
    return {
      assetId,
      tenantId,
      filename: file.filename ?? null,
      mimeType: file.mimeType,
      sha256,
      size: file.data.length,
      createdAt: new Date(row.created_at).toISOString(),
    };
  }

  async describe(tenantId: string, assetId: string) {
    const [asset] = await this.dataSource.query(
      `SELECT asset_id, filename, mime_type, sha256, size, created_at, last_used_at FROM gateway.media_asset WHERE asset_id = $1 AND tenant_id = $2`,
      [assetId, tenantId],
    );
    if (!asset) return undefined;
    const uploadsList: { phone_number_id: string; media_id: string; uploaded_at: Date; expires_at: Date }[] = await this.dataSource.query(
      `SELECT phone_number_id, media_id, uploaded_at, expires_at FROM gateway.media_upload WHERE asset_id = $1 ORDER BY phone_number_id`,
      [assetId],
    );
    return {
      assetId: asset.asset_id as string,
      filename: asset.filename as string | null,
      mimeType: asset.mime_type as string,
      sha256: asset.sha256 as string,
      size: asset.size as number,
      createdAt: new Date(asset.created_at).toISOString(),
      lastUsedAt: asset.last_used_at ? new Date(asset.last_used_at).toISOString() : null,
      uploads: uploadsList.map((u) => ({
        phoneNumberId: u.phone_number_id,
        mediaId: u.media_id,
        uploadedAt: new Date(u.uploaded_at).toISOString(),
        expiresAt: new Date(u.expires_at).toISOString(),
      })),
    };
  }

  /** The Meta media id to send this asset from this number, uploading (again) when needed. */
  resolve(sender: Sender, assetId: string, kind: MediaKind): Promise<MediaResolution> {
    const key = `${assetId}:${sender.phone.id}`;
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const work = this.resolveNow(sender, assetId, kind).finally(() => this.inflight.delete(key));
    this.inflight.set(key, work);
    return work;
  }

  private async resolveNow(sender: Sender, assetId: string, kind: MediaKind): Promise<MediaResolution> {
    const [asset] = await this.dataSource.query(
      `SELECT a.mime_type, a.size, u.media_id, u.expires_at FROM gateway.media_asset a
       LEFT JOIN gateway.media_upload u ON u.asset_id = a.asset_id AND u.phone_number_id = $3
       WHERE a.asset_id = $1 AND a.tenant_id = $2`,
      [assetId, sender.tenant.id, sender.phone.id],
    );
    if (!asset) return { fail: { reason: 'media-unavailable', detail: `asset ${assetId} does not exist for this tenant` } };
    const problem = mediaProblem(kind, asset.mime_type, asset.size);
    if (problem) return { fail: { reason: 'media-unavailable', detail: problem } };
    await this.dataSource.query(`UPDATE gateway.media_asset SET last_used_at = now() WHERE asset_id = $1`, [assetId]);
    if (asset.media_id && new Date(asset.expires_at).getTime() - Date.now() > this.env.MEDIA_REFRESH_BEFORE_MS)
      return { mediaId: asset.media_id };
    return this.upload(sender, assetId);
  }

  private async upload(sender: Sender, assetId: string): Promise<MediaResolution> {
    const [file] = await this.dataSource.query(`SELECT data, mime_type, filename FROM gateway.media_asset WHERE asset_id = $1`, [assetId]);
    let token: string;
    try {
      token = this.tenants.accessToken(sender.tenant);
    } catch {
      return { outcome: { kind: 'error', httpStatus: 0, code: 190, message: 'access token not configured' } };
    }
    const outcome = await this.graph.uploadMedia(
      { graphVersion: sender.graphVersion, phoneNumberId: sender.phone.id, accessToken: token },
      { data: file.data as Buffer, mimeType: file.mime_type, filename: file.filename ?? `${assetId}` },
    );
    if (outcome.kind !== 'accepted' || !outcome.mediaId) {
      uploads.inc({ outcome: outcome.kind === 'error' ? `error:${outcome.code ?? outcome.httpStatus}` : outcome.kind });
      // A lost upload response only wastes an upload: retry it like a connection failure.
      return { outcome: outcome.kind === 'uncertain' ? { kind: 'not-sent', detail: `media upload: ${outcome.detail}` } : outcome };
    }
    uploads.inc({ outcome: 'uploaded' });
    await this.dataSource.query(
      `INSERT INTO gateway.media_upload (asset_id, phone_number_id, media_id, uploaded_at, expires_at)
       VALUES ($1, $2, $3, now(), now() + make_interval(secs => $4::float8 / 1000))
       ON CONFLICT (asset_id, phone_number_id) DO UPDATE SET media_id = EXCLUDED.media_id, uploaded_at = EXCLUDED.uploaded_at, expires_at = EXCLUDED.expires_at`,
      [assetId, sender.phone.id, outcome.mediaId, MEDIA_ID_LIFETIME_MS],
    );
    return { mediaId: outcome.mediaId };
  }

  /** Re-uploads files used in the last 30 days whose media id expires soon, so a send never waits for it. */
  async refreshExpiring(limit = 20): Promise<number> {
    const due: { asset_id: string; tenant_id: string; phone_number_id: string }[] = await this.dataSource.query(
      `SELECT u.asset_id, a.tenant_id, u.phone_number_id FROM gateway.media_upload u JOIN gateway.media_asset a USING (asset_id)
       WHERE u.expires_at < now() + make_interval(secs => $1::float8 / 1000)
         AND a.last_used_at > now() - interval '30 days'
       ORDER BY u.expires_at LIMIT $2`,
      [this.env.MEDIA_REFRESH_BEFORE_MS, limit],
    );
    let refreshed = 0;
    for (const row of due) {
      const sender = this.tenants.resolve(row.tenant_id, row.phone_number_id);
      if ('problem' in sender) continue;
      const result = await this.upload(sender, row.asset_id);
      if ('mediaId' in result) refreshed++;
    }
    return refreshed;
  }
}
