import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { InjectEnv } from '@wa/service-kit';
import { TenantRegistry } from '@wa/tenancy';
import { SANDBOX_FLOWS_DIR, type ChatbotEnv } from '../config/env';
import { loadFlow } from '../flows';
import { FlowVersionRepository } from '../store/flow-versions.repository';

export const SANDBOX_PUBLISHER = 'sandbox-files';

/** The flows directory to load, or undefined (production without CHATBOT_FLOWS_DIR, or turned off). */
export function flowsDirOf(env: ChatbotEnv): string | undefined {
  if (!env.CHATBOT_SANDBOX_FLOWS) return undefined;
  if (env.CHATBOT_FLOWS_DIR) return env.CHATBOT_FLOWS_DIR;
  return env.NODE_ENV !== 'production' && existsSync(SANDBOX_FLOWS_DIR) ? SANDBOX_FLOWS_DIR : undefined;
}

/**
 * Sandbox tenants (`mode: sandbox`) get their flows from files, `<dir>/<tenant>/*.yaml`, published
 * at start when the file differs from the published version. A file with problems is logged with
 * every problem and not published; the service starts anyway (the previous version stays).
 */
@Injectable()
export class SandboxFlowsLoader implements OnApplicationBootstrap {
  private readonly log = new Logger('SandboxFlows');

  constructor(
    private readonly dataSource: DataSource,
    private readonly versions: FlowVersionRepository,
    private readonly registry: TenantRegistry,
    @InjectEnv() private readonly env: ChatbotEnv,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const dir = flowsDirOf(this.env);
    if (dir) await this.load(dir);
  }

  /** Returns what happened to each file (`published`, `unchanged`, `invalid`). */
  async load(dir: string): Promise<Record<string, 'published' | 'unchanged' | 'invalid'>> {
    const outcome: Record<string, 'published' | 'unchanged' | 'invalid'> = {};
    for (const tenant of this.registry.tenants.filter((t) => t.mode === 'sandbox')) {
      const tenantDir = join(dir, tenant.id);
      if (!existsSync(tenantDir)) continue;
      for (const file of readdirSync(tenantDir)
        .filter((f) => /\.ya?ml$/.test(f))
        .sort()) {
        const path = join(tenantDir, file);
        const source = readFileSync(path, 'utf8');
        const loaded = loadFlow(source);
        if (!loaded.ok) {
          outcome[path] = 'invalid';
          this.log.error(
            { tenant: tenant.id, file: path, problems: loaded.problems.map((p) => p.message) },
            'flow file has problems; not published',
          );
          continue;
        }
        const flow = loaded.flow.flow;
        const sha = createHash('sha256').update(source).digest('hex');
        outcome[path] = await this.dataSource.transaction(async (manager) => {
          await this.versions.lockFlow(manager, tenant.id, flow);
          const published = await this.versions.inState(tenant.id, flow, 'published', manager);
          if (published?.sourceSha256 === sha) return 'unchanged' as const;
          const version = await this.versions.saveDraft(manager, {
            tenantId: tenant.id,
            flow,
            definition: loaded.flow,
            source,
            sourceSha256: sha,
            createdBy: SANDBOX_PUBLISHER,
          });
          await this.versions.publish(manager, tenant.id, flow, version, SANDBOX_PUBLISHER);
          this.log.log({ tenant: tenant.id, flow, version, file: path }, 'flow file published');
          return 'published' as const;
        });
      }
    }
    return outcome;
  }
}
