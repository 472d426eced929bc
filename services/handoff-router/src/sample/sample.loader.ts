import { existsSync, readFileSync } from 'node:fs';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { parse } from 'yaml';
import { InjectEnv } from '@wa/service-kit';
import { SANDBOX_SAMPLE_FILE, type HandoffEnv } from '../config/env';
import { AgentRepository } from '../store/agents.repository';
import { CannedRepository } from '../store/canned.repository';
import { DepartmentRepository } from '../store/departments.repository';
import { SettingsRepository } from '../store/settings.repository';

interface SampleFile {
  tenants: Record<
    string,
    {
      settings?: { retentionDays: number; survey: boolean };
      departments?: Record<
        string,
        { names: Record<string, string>; slaSeconds: number; widenLanguages?: boolean; widenDepartments?: string[]; maxQueue?: number }
      >;
      agents?: Record<
        string,
        { name: string; role?: 'agent' | 'supervisor'; departments: string[]; languages: string[]; capacity: number }
      >;
      canned?: Record<string, Record<string, { title: string; text: string }>>;
    }
  >;
}

/**
 * Sandbox only (AUTH_MODE=sandbox): the sample departments, agents and canned responses of the two
 * sandbox tenants, so the console works right after `npm run stack:up`. Only what is missing is
 * added: edits made through the admin API survive a restart.
 */
@Injectable()
export class SampleLoader implements OnApplicationBootstrap {
  private readonly log = new Logger('Sample');

  constructor(
    private readonly dataSource: DataSource,
    private readonly agents: AgentRepository,
    private readonly departments: DepartmentRepository,
    private readonly canned: CannedRepository,
    private readonly settings: SettingsRepository,
    @InjectEnv() private readonly env: HandoffEnv,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.env.AUTH_MODE !== 'sandbox' || this.env.NODE_ENV === 'production') return;
    const file = this.env.HANDOFF_SAMPLE_FILE ?? (existsSync(SANDBOX_SAMPLE_FILE) ? SANDBOX_SAMPLE_FILE : undefined);
    if (!file) return;
    const sample = (parse(readFileSync(file, 'utf8')) ?? {}) as SampleFile;
    await this.dataSource.transaction(async (m) => {
      for (const [tenant, t] of Object.entries(sample.tenants ?? {})) {
        if (t.settings && (await this.settings.get(m, tenant)).version === 0) await this.settings.put(m, tenant, t.settings);
        for (const [id, d] of Object.entries(t.departments ?? {}))
          if (!(await this.departments.get(m, tenant, id)))
            await this.departments.upsert(m, tenant, id, {
              names: d.names,
              slaSeconds: d.slaSeconds,
              widenLanguages: d.widenLanguages ?? false,
              widenDepartments: d.widenDepartments ?? [],
              maxQueue: d.maxQueue ?? null,
            });
        for (const [id, a] of Object.entries(t.agents ?? {}))
          if (!(await this.agents.get(m, tenant, id)))
            await this.agents.upsert(m, tenant, id, {
              name: a.name,
              role: a.role ?? 'agent',
              departments: a.departments,
              languages: a.languages,
              capacity: a.capacity,
              active: true,
            });
        const existing = new Set((await this.canned.list(m, tenant)).map((c) => `${c.id}:${c.language}`));
        for (const [id, byLanguage] of Object.entries(t.canned ?? {}))
          for (const [language, c] of Object.entries(byLanguage))
            if (!existing.has(`${id}:${language}`)) await this.canned.put(m, tenant, { id, language, ...c });
      }
    });
    this.log.log({ file }, 'sample departments, agents and canned responses loaded');
  }
}
