import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { FlowVersionRepository, type FlowVersionRow } from './flow-versions.repository';

/** Versions kept; a tenant's turns use its published versions and the few its sessions started on. */
const MAX_VERSIONS = 512;

/**
 * The flow versions turns run, read once per process. A version's definition changes only while
 * it is a draft, and turns never run a draft, so a published or retired version read once stays
 * right: no invalidation. Keeping the same definition object also keeps what the engine derives
 * from it (the FAQ index is cached per definition), which a fresh parse of the row each turn
 * rebuilds. Which version is published is still read on each new session (one small query), so a
 * publish or rollback takes effect at once on every replica.
 */
@Injectable()
export class FlowCache {
  private readonly versions = new Map<string, FlowVersionRow>();

  constructor(private readonly flows: FlowVersionRepository) {}

  /** A version of a flow (undefined when there is none). */
  async get(tenantId: string, flow: string, version: number, manager?: EntityManager): Promise<FlowVersionRow | undefined> {
    const key = JSON.stringify([tenantId, flow, version]);
    const cached = this.versions.get(key);
    if (cached) {
      // Most recently used last: the oldest is evicted first.
      this.versions.delete(key);
      this.versions.set(key, cached);
      return cached;
    }
    const row = await this.flows.get(tenantId, flow, version, manager);
    if (row && row.state !== 'draft') {
      this.versions.set(key, row);
      if (this.versions.size > MAX_VERSIONS) this.versions.delete(this.versions.keys().next().value!);
    }
    return row;
  }

  /** The flow new sessions start in: `entry`, else the tenant's first published flow by name. */
  async entry(tenantId: string, entry: string, manager?: EntityManager): Promise<FlowVersionRow | undefined> {
    const published = await this.flows.publishedVersions(tenantId, manager);
    const chosen = published.find((f) => f.flow === entry) ?? published[0];
    return chosen && this.get(tenantId, chosen.flow, chosen.version, manager);
  }
}
