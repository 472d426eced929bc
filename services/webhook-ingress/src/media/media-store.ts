import { createHash } from 'node:crypto';
import type { DataSource } from 'typeorm';

/** Bytes per `ingress.media_chunk` row: what one file costs in memory while it is written or read. */
export const MEDIA_CHUNK_BYTES = 256 * 1024;

export interface StoredFile {
  sha256: string;
  size: number;
}

/**
 * `ingress.media` and `ingress.media_chunk`: a file's metadata and its bytes in chunks of
 * {@link MEDIA_CHUNK_BYTES}, written while the download arrives and read back one chunk at a time,
 * so no replica holds a whole file (up to MEDIA_MAX_BYTES) in memory. Chunk rows rather than large
 * objects: they stay in the service's schema, under its roles, its backups and its row deletes
 * (retention and erasure delete the file row; the chunks follow by ON DELETE CASCADE), where large
 * objects live outside every schema and are orphaned unless each delete unlinks them.
 */
export class MediaStore {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Stores a file as it streams in, in one transaction: nothing is visible until every chunk is in
   * and `verify` accepted the digest. Returns undefined when the file was already stored (another
   * fetch won the race: its row blocks ours until it commits).
   */
  async write(
    file: { tenantId: string; mediaId: string; mimeType: string; filename: string | null },
    body: AsyncIterable<Uint8Array>,
    verify: (digest: Buffer) => void,
  ): Promise<StoredFile | undefined> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const claimed: unknown[] = await runner.query(
        `INSERT INTO ingress.media (tenant_id, media_id, mime_type, sha256, file_size, filename) VALUES ($1, $2, $3, '', 0, $4)
         ON CONFLICT DO NOTHING RETURNING 1`,
        [file.tenantId, file.mediaId, file.mimeType, file.filename],
      );
      if (claimed.length === 0) {
        await runner.rollbackTransaction();
        return undefined;
      }
      const hash = createHash('sha256');
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      let size = 0;
      let seq = 0;
      const flush = async () => {
        if (pendingBytes === 0) return;
        const data = Buffer.concat(pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
        await runner.query(`INSERT INTO ingress.media_chunk (tenant_id, media_id, seq, data) VALUES ($1, $2, $3, $4)`, [
          file.tenantId,
          file.mediaId,
          seq++,
          data,
        ]);
      };
      for await (const part of body) {
        hash.update(part);
        size += part.length;
        pending.push(Buffer.from(part.buffer, part.byteOffset, part.byteLength));
        pendingBytes += part.length;
        if (pendingBytes >= MEDIA_CHUNK_BYTES) await flush();
      }
      await flush();
      const digest = hash.digest();
      verify(digest);
      const sha256 = digest.toString('hex');
      await runner.query(`UPDATE ingress.media SET sha256 = $3, file_size = $4 WHERE tenant_id = $1 AND media_id = $2`, [
        file.tenantId,
        file.mediaId,
        sha256,
        size,
      ]);
      await runner.commitTransaction();
      return { sha256, size };
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      throw error;
    } finally {
      await runner.release();
    }
  }

  /** The file's bytes in order, a chunk per query; files stored whole (before chunks) come in one piece. */
  async *read(tenantId: string, mediaId: string): AsyncGenerator<Buffer> {
    const [whole]: { content: Buffer | null }[] = await this.dataSource.query(
      `SELECT content FROM ingress.media WHERE tenant_id = $1 AND media_id = $2 AND content IS NOT NULL`,
      [tenantId, mediaId],
    );
    if (whole?.content) {
      yield whole.content;
      return;
    }
    for (let seq = 0; ; seq++) {
      const [chunk]: { data: Buffer }[] = await this.dataSource.query(
        `SELECT data FROM ingress.media_chunk WHERE tenant_id = $1 AND media_id = $2 AND seq = $3`,
        [tenantId, mediaId, seq],
      );
      if (!chunk) return;
      yield chunk.data;
    }
  }
}
