import type { FlowDefinition } from '../flows/flow.types';
import { FlowCache } from './flow-cache';
import type { FlowVersionRepository, FlowVersionRow, FlowVersionState } from './flow-versions.repository';

function row(flow: string, version: number, state: FlowVersionState): FlowVersionRow {
  return {
    tenantId: 'roads-agency',
    flow,
    version,
    state,
    definition: { flow } as unknown as FlowDefinition,
    source: '',
    sourceSha256: '',
    createdAt: new Date(),
    createdBy: 'test',
    publishedAt: null,
    publishedBy: null,
    rolledBackAt: null,
  };
}

/** A repository over a list of rows that counts its reads. */
function repository(rows: FlowVersionRow[]) {
  const reads = { get: 0, published: 0 };
  const repo = {
    get: async (tenantId: string, flow: string, version: number) => {
      reads.get++;
      // A fresh object per read, as the driver parses the row each time.
      const found = rows.find((r) => r.tenantId === tenantId && r.flow === flow && r.version === version);
      return found && { ...found, definition: { ...found.definition } };
    },
    publishedVersions: async (tenantId: string) => {
      reads.published++;
      return rows
        .filter((r) => r.tenantId === tenantId && r.state === 'published')
        .map(({ flow, version }) => ({ flow, version }))
        .sort((a, b) => a.flow.localeCompare(b.flow));
    },
  };
  return { repo: repo as unknown as FlowVersionRepository, reads, rows };
}

describe('FlowCache', () => {
  it('reads a published or retired version once and hands back the same definition object', async () => {
    const { repo, reads } = repository([row('main', 1, 'retired'), row('main', 2, 'published')]);
    const cache = new FlowCache(repo);
    const first = await cache.get('roads-agency', 'main', 2);
    const again = await cache.get('roads-agency', 'main', 2);
    expect(again!.definition).toBe(first!.definition);
    await cache.get('roads-agency', 'main', 1);
    await cache.get('roads-agency', 'main', 1);
    expect(reads.get).toBe(2);
  });

  it('reads a draft every time (its definition still changes) and caches no missing version', async () => {
    const { repo, reads } = repository([row('main', 3, 'draft')]);
    const cache = new FlowCache(repo);
    await cache.get('roads-agency', 'main', 3);
    await cache.get('roads-agency', 'main', 3);
    expect(await cache.get('roads-agency', 'main', 9)).toBeUndefined();
    expect(await cache.get('roads-agency', 'main', 9)).toBeUndefined();
    expect(reads.get).toBe(4);
  });

  it('asks which version is published on every new session, so a publish or rollback applies at once', async () => {
    const { repo, reads, rows } = repository([row('faq', 1, 'published'), row('main', 1, 'published')]);
    const cache = new FlowCache(repo);
    expect((await cache.entry('roads-agency', 'main'))!.version).toBe(1);
    rows[1].state = 'retired';
    rows.push(row('main', 2, 'published'));
    expect((await cache.entry('roads-agency', 'main'))!.version).toBe(2);
    expect(reads.published).toBe(2);
  });

  it('without the entry flow, starts in the first published flow by name; with none, answers undefined', async () => {
    const { repo } = repository([row('zeta', 1, 'published'), row('alpha', 4, 'published')]);
    const cache = new FlowCache(repo);
    expect(await cache.entry('roads-agency', 'main')).toMatchObject({ flow: 'alpha', version: 4 });
    expect(await cache.entry('immigration-dept', 'main')).toBeUndefined();
  });
});
