import { createHash } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { createServiceDataSource, migrate } from '@wa/persistence';
import { createTestDatabase, type TestDatabase } from '@wa/testing';
import { TenantRegistry } from '@wa/tenancy';
import type { IngressEnv } from '../src/config/env';
import { MediaService } from '../src/media/media.service';
import { ingressService } from '../src/service';

const MB = 1024 * 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const FILE_BYTES = 50 * MB;
const BLOCK = 64 * 1024;

/** The file's bytes, generated block by block: the test never holds the file either. */
function* fileBlocks(): Generator<Buffer> {
  for (let offset = 0; offset < FILE_BYTES; offset += BLOCK) {
    const block = Buffer.alloc(Math.min(BLOCK, FILE_BYTES - offset));
    for (let i = 0; i < block.length; i += 4) block.writeUInt32LE(((offset + i) * 2654435761) >>> 0, i);
    yield block;
  }
}
const FILE_SHA256 = (() => {
  const hash = createHash('sha256');
  for (const block of fileBlocks()) hash.update(block);
  return hash.digest('hex');
})();

/**
 * The media fetch path with a 50 MB file on real PostgreSQL: stored and served a chunk at a time
 * (memory grows by far less than the file), byte for byte; a tenant over its transfer limit gets
 * 429 while other tenants go on.
 */
describe('ingress media streaming', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let graph: Server;
  let base: string;
  let held: (() => void) | undefined;
  const holds: Promise<void>[] = [];

  async function stream(res: ServerResponse): Promise<void> {
    res.writeHead(200, { 'content-type': 'application/pdf', 'content-length': String(FILE_BYTES) });
    for (const block of fileBlocks()) {
      if (!res.write(block)) await new Promise((resolve) => res.once('drain', resolve));
    }
    res.end();
  }

  beforeAll(async () => {
    db = await createTestDatabase(['ingress']);
    await migrate({ schema: 'ingress', url: db.migratorUrl('ingress'), entities: [], migrations: ingressService.migrations });
    dataSource = await createServiceDataSource({
      schema: 'ingress',
      url: db.appUrl('ingress'),
      entities: ingressService.entities,
    }).initialize();
    graph = createServer((req, res) => {
      const path = req.url!.split('?')[0];
      if (path.startsWith('/v23.0/')) {
        const id = path.slice('/v23.0/'.length);
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            url: `${base}/file/${id}`,
            mime_type: 'application/pdf',
            sha256: id === 'bad-sum' ? '0'.repeat(64) : FILE_SHA256,
          }),
        );
        return;
      }
      if (path === '/file/held') {
        // Answers only when the test lets it: a transfer that stays in flight.
        res.writeHead(200, { 'content-type': 'application/pdf' });
        res.write(Buffer.alloc(10));
        holds.push(new Promise<void>((resolve) => (held = resolve)).then(() => void res.end()));
        return;
      }
      void stream(res);
    });
    await new Promise<void>((resolve) => graph.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(graph.address() as AddressInfo).port}`;
  }, 60_000);

  afterAll(async () => {
    held?.();
    await new Promise((resolve) => graph?.close(resolve));
    await dataSource?.destroy();
    await db?.drop();
  });

  const service = (limit = 4) =>
    new MediaService(
      dataSource,
      TenantRegistry.load(join(__dirname, '..', '..', '..', 'config', 'tenants.sandbox.yaml'), {
        ROADS_ACCESS_TOKEN: 'roads-token',
        IMMIGRATION_ACCESS_TOKEN: 'immigration-token',
      }),
      { GRAPH_BASE_URL: base, MEDIA_MAX_BYTES: 100 * MB, MEDIA_TRANSFERS_PER_TENANT: limit } as IngressEnv,
    );

  /**
   * Runs `work` while sampling, after a full collection every half second, what the process holds
   * live: the JS heap plus Buffers' memory (where file bytes sit). Returns the peak growth. Resident
   * memory would also count pages the allocator keeps after freeing them, which depends on the
   * allocator and the machine's load rather than on this code.
   */
  async function liveGrowth(work: () => Promise<void>): Promise<number> {
    const live = () => {
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    gc();
    const before = live();
    let peak = before;
    const sampler = setInterval(() => {
      gc();
      peak = Math.max(peak, live());
    }, 500);
    try {
      await work();
    } finally {
      clearInterval(sampler);
    }
    return Math.max(peak, live()) - before;
  }

  it('stores a 50 MB download and serves it back a chunk at a time, with memory growth far below the file size', async () => {
    const media = service();
    let reference: Awaited<ReturnType<MediaService['fetch']>> | undefined;
    const stored = await liveGrowth(async () => {
      reference = await media.fetch('roads-agency', 'big-file', { filename: 'expediente.pdf' });
    });
    expect(reference).toMatchObject({ fileSize: FILE_BYTES, sha256: FILE_SHA256, mimeType: 'application/pdf' });
    const [{ chunks }] = await dataSource.query(`SELECT count(*)::int AS chunks FROM ingress.media_chunk WHERE media_id = 'big-file'`);
    expect(chunks).toBe(200);

    const hash = createHash('sha256');
    let size = 0;
    const served = await liveGrowth(async () => {
      const { content } = await media.content('roads-agency', 'big-file');
      for await (const chunk of content) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
    });
    expect({ size, sha256: hash.digest('hex') }).toEqual({ size: FILE_BYTES, sha256: FILE_SHA256 });
    // Whole-file handling holds the received parts and their concatenation (twice the file, over
    // 100 MB here) before the insert; chunked, the live set is a few chunks.
    expect({ stored: stored < FILE_BYTES, served: served < FILE_BYTES }).toEqual({ stored: true, served: true });
  }, 300_000);

  it('stores nothing when the bytes do not match the checksum Meta gave', async () => {
    await expect(service().fetch('roads-agency', 'bad-sum')).rejects.toMatchObject({ code: 'media_checksum_mismatch' });
    const [{ n }] = await dataSource.query(
      `SELECT (SELECT count(*) FROM ingress.media WHERE media_id = 'bad-sum') + (SELECT count(*) FROM ingress.media_chunk WHERE media_id = 'bad-sum') AS n`,
    );
    expect(Number(n)).toBe(0);
  }, 60_000);

  it('refuses a transfer beyond the tenant limit with 429 media_busy, lets other tenants through, and frees the slot when done', async () => {
    const media = service(1);
    const first = media.fetch('roads-agency', 'held');
    await new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const poll = setInterval(() => {
        if (held) resolve();
        else if (Date.now() - started > 30_000) reject(new Error('the held download never started'));
        else return;
        clearInterval(poll);
      }, 20);
    });
    await expect(media.fetch('roads-agency', 'other-file')).rejects.toMatchObject({ code: 'media_busy', status: 429 });
    await expect(media.content('roads-agency', 'big-file').catch((e) => Promise.reject(e))).rejects.toMatchObject({ code: 'media_busy' });
    const elsewhere = await media.fetch('immigration-dept', 'small-enough');
    expect(elsewhere.fileSize).toBe(FILE_BYTES);
    held!();
    await first.catch(() => undefined);
    await Promise.all(holds);
    const { content } = await media.content('roads-agency', 'big-file');
    content.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    await expect(media.get('roads-agency', 'big-file')).resolves.toMatchObject({ fileSize: FILE_BYTES });
    const again = await media.content('roads-agency', 'big-file');
    again.content.destroy();
  }, 120_000);
});
