import { Body, Controller, Delete, Get, HttpCode, HttpException, Param, Post, Put, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { CurrentPrincipal, Public, Roles, authSettingsFromEnv, mintSandboxToken, type Principal } from '@wa/auth';
import { InjectEnv } from '@wa/service-kit';
import type { HandoffEnv } from '../config/env';
import { RouterService, RoutingError } from '../routing/router.service';
import { AgentRepository } from '../store/agents.repository';
import { CannedRepository } from '../store/canned.repository';
import { DepartmentRepository, departmentName } from '../store/departments.repository';
import { SettingsRepository } from '../store/settings.repository';
import { TemplateRepository } from '../store/templates.repository';
import { ConsoleEventRepository } from '../store/console-events.repository';
import { Access, guarded } from './access';
import {
  AgentBody,
  CannedBody,
  CannedParams,
  DepartmentBody,
  DevSignInBody,
  IdParam,
  LanguageQuery,
  PresenceBody,
  SettingsBody,
} from './dto';

const conflict = () => new RoutingError(409, 'version_conflict', 'changed by someone else since you read it; read it again');

/** Agents (presence, admin), departments, canned responses, templates, settings and the sandbox sign-in. */
@ApiTags('agents')
@Controller('v1')
export class AgentsController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly access: Access,
    private readonly router: RouterService,
    private readonly agents: AgentRepository,
    private readonly departments: DepartmentRepository,
    private readonly canned: CannedRepository,
    private readonly templates: TemplateRepository,
    private readonly settings: SettingsRepository,
    private readonly events: ConsoleEventRepository,
    @InjectEnv() private readonly env: HandoffEnv,
  ) {}

  @Get('console/sign-in')
  @Public('the console asks how to sign in before it has a token')
  @ApiOperation({ summary: 'How the console signs in: sandbox (pick a sample agent) or oidc' })
  async signIn() {
    if (this.env.AUTH_MODE !== 'sandbox') return { mode: 'oidc' };
    const rows: { tenantId: string; id: string; name: string; role: string }[] = await this.dataSource.query(
      `SELECT tenant_id AS "tenantId", id, name, role FROM handoff.agent WHERE active ORDER BY tenant_id, id`,
    );
    return { mode: 'sandbox', agents: rows.map((r) => ({ id: r.id, name: r.name, tenant: r.tenantId, roles: [r.role] })) };
  }

  @Post('console/dev-sign-in')
  @HttpCode(200)
  @Public('sandbox development sign-in (AUTH_MODE=sandbox only): mints a token for a configured sample agent')
  @ApiOperation({ summary: 'Sandbox only: a token for a configured agent (404 in any other mode)' })
  async devSignIn(@Body() body: DevSignInBody) {
    if (this.env.AUTH_MODE !== 'sandbox')
      throw new HttpException({ code: 'not_found', message: 'sign-in is through the identity provider' }, 404);
    const rows: { tenantId: string; id: string; name: string; role: string }[] = await this.dataSource.query(
      `SELECT tenant_id AS "tenantId", id, name, role FROM handoff.agent WHERE id = $1 AND ($2::text IS NULL OR tenant_id = $2) AND active`,
      [body.agentId, body.tenantId ?? null],
    );
    if (rows.length !== 1)
      throw new HttpException(
        { code: rows.length ? 'ambiguous_agent' : 'unknown_agent', message: `no single agent ${body.agentId}; give tenantId` },
        rows.length ? 409 : 404,
      );
    const settings = authSettingsFromEnv(this.env);
    const roles = rows[0].role === 'supervisor' ? (['agent', 'supervisor'] as const) : (['agent'] as const);
    const token = await mintSandboxToken({
      key: settings.sandboxKey!,
      sub: rows[0].id,
      tenant: rows[0].tenantId,
      roles: [...roles],
      expiresIn: '8h',
    });
    return { token, agent: { id: rows[0].id, name: rows[0].name, tenant: rows[0].tenantId, roles: [...roles] } };
  }

  @Get('agents/me')
  @Roles('agent', 'supervisor')
  @ApiOperation({ summary: 'The signed-in agent: skills, capacity, presence, load' })
  me(@CurrentPrincipal() principal: Principal) {
    return guarded(async () => {
      const who = await this.access.of(principal);
      if (!who.agent) return { id: principal.sub, name: principal.sub, tenant: principal.tenant, roles: principal.roles };
      const load = await this.agents.load(this.dataSource.manager, principal.tenant, principal.sub);
      return { ...this.agentView(who.agent), tenant: principal.tenant, roles: principal.roles, load };
    });
  }

  @Post('agents/me/heartbeat')
  @HttpCode(200)
  @Roles('agent', 'supervisor')
  @ApiOperation({ summary: 'The console’s heartbeat: keeps the agent online (or away); a stopped heartbeat turns away, then offline' })
  heartbeat(@CurrentPrincipal() principal: Principal, @Body() body: PresenceBody) {
    return this.presence(principal, body);
  }

  @Put('agents/me/presence')
  @Roles('agent', 'supervisor')
  @ApiOperation({ summary: 'Set presence (a heartbeat too)' })
  presence(@CurrentPrincipal() principal: Principal, @Body() body: PresenceBody) {
    return guarded(async () => {
      const presence = body.presence ?? 'online';
      const previous = await this.dataSource.transaction(async (m) => {
        const previous = await this.agents.heartbeat(m, principal.tenant, principal.sub, presence, new Date());
        if (previous === undefined) throw new RoutingError(404, 'unknown_agent', `no agent ${principal.sub} in this tenant`);
        if (previous !== presence)
          await this.events.append(m, principal.tenant, [{ type: 'agent.presence', data: { agentId: principal.sub, presence } }]);
        return previous;
      });
      // Someone came online: the queue drains now, not at the next sweep.
      if (presence === 'online' && previous !== 'online') await this.router.drain(principal.tenant);
      return this.me(principal);
    });
  }

  @Get('agents')
  @Roles('supervisor')
  @ApiOperation({ summary: 'The tenant’s agents with presence and load' })
  async list(@CurrentPrincipal() principal: Principal) {
    return (await this.agents.list(this.dataSource.manager, principal.tenant)).map((a) => ({ ...this.agentView(a), load: a.load }));
  }

  @Put('agents/:id')
  @Roles('admin')
  @ApiOperation({ summary: 'Create or update an agent (send version to guard against lost updates)' })
  putAgent(@CurrentPrincipal() principal: Principal, @Param() p: IdParam, @Body() body: AgentBody) {
    return guarded(async () => {
      const saved = await this.agents.upsert(
        this.dataSource.manager,
        principal.tenant,
        p.id,
        {
          name: body.name,
          role: body.role ?? 'agent',
          departments: body.departments,
          languages: body.languages,
          capacity: body.capacity,
          active: body.active ?? true,
        },
        body.version,
      );
      if (saved === 'conflict') throw conflict();
      void this.router.drainSoon(principal.tenant);
      return this.agentView(saved);
    });
  }

  @Delete('agents/:id')
  @HttpCode(204)
  @Roles('admin')
  deleteAgent(@CurrentPrincipal() principal: Principal, @Param() p: IdParam) {
    return guarded(async () => {
      if (!(await this.agents.delete(this.dataSource.manager, principal.tenant, p.id)))
        throw new RoutingError(404, 'unknown_agent', `no agent ${p.id}`);
    });
  }

  @Get('departments')
  @Roles('agent', 'supervisor')
  @ApiOperation({ summary: 'Departments with their queues now (waiting, longest wait, agents online)' })
  async listDepartments(@CurrentPrincipal() principal: Principal, @Query() q: LanguageQuery) {
    const m = this.dataSource.manager;
    const [departments, stats]: [
      Awaited<ReturnType<DepartmentRepository['list']>>,
      { department: string; waiting: number; assigned: number; oldest: Date | null }[],
    ] = await Promise.all([
      this.departments.list(m, principal.tenant),
      m.query(
        `SELECT department, count(*) FILTER (WHERE state = 'queued')::int AS waiting, count(*) FILTER (WHERE state = 'assigned')::int AS assigned,
                  min(queued_at) FILTER (WHERE state = 'queued') AS oldest
             FROM handoff.conversation WHERE tenant_id = $1 AND state IN ('queued', 'assigned') GROUP BY department`,
        [principal.tenant],
      ),
    ]);
    const agents = await this.agents.list(m, principal.tenant);
    return departments.map((d) => {
      const s = stats.find((x) => x.department === d.id);
      return {
        ...d,
        name: departmentName(d, q.language ?? 'en'),
        waiting: s?.waiting ?? 0,
        assigned: s?.assigned ?? 0,
        oldestQueuedAt: s?.oldest ? new Date(s.oldest).toISOString() : null,
        longestWaitSeconds: s?.oldest ? Math.round((Date.now() - new Date(s.oldest).getTime()) / 1000) : 0,
        agentsOnline: agents.filter((a) => a.presence === 'online' && a.departments.includes(d.id)).length,
      };
    });
  }

  @Get('supervisor/overview')
  @Roles('supervisor')
  @ApiOperation({ summary: 'Queues and agents of the tenant at a glance' })
  async overview(@CurrentPrincipal() principal: Principal) {
    return { departments: await this.listDepartments(principal, {}), agents: await this.list(principal) };
  }

  @Put('departments/:id')
  @Roles('admin')
  putDepartment(@CurrentPrincipal() principal: Principal, @Param() p: IdParam, @Body() body: DepartmentBody) {
    return guarded(async () => {
      const saved = await this.departments.upsert(
        this.dataSource.manager,
        principal.tenant,
        p.id,
        {
          names: body.names,
          slaSeconds: body.slaSeconds,
          widenLanguages: body.widenLanguages ?? false,
          widenDepartments: body.widenDepartments ?? [],
          maxQueue: body.maxQueue ?? null,
        },
        body.version,
      );
      if (saved === 'conflict') throw conflict();
      return saved;
    });
  }

  @Delete('departments/:id')
  @HttpCode(204)
  @Roles('admin')
  deleteDepartment(@CurrentPrincipal() principal: Principal, @Param() p: IdParam) {
    return guarded(async () => {
      if (!(await this.departments.delete(this.dataSource.manager, principal.tenant, p.id)))
        throw new RoutingError(404, 'unknown_department', `no department ${p.id}`);
    });
  }

  @Get('canned-responses')
  @Roles('agent', 'supervisor')
  cannedList(@CurrentPrincipal() principal: Principal, @Query() q: LanguageQuery) {
    return this.canned.list(this.dataSource.manager, principal.tenant, q.language);
  }

  @Put('canned-responses/:id/:language')
  @Roles('admin')
  cannedPut(@CurrentPrincipal() principal: Principal, @Param() p: CannedParams, @Body() body: CannedBody) {
    return this.canned.put(this.dataSource.manager, principal.tenant, {
      id: p.id,
      language: p.language,
      title: body.title,
      text: body.text,
    });
  }

  @Delete('canned-responses/:id/:language')
  @HttpCode(204)
  @Roles('admin')
  cannedDelete(@CurrentPrincipal() principal: Principal, @Param() p: CannedParams) {
    return guarded(async () => {
      if (!(await this.canned.delete(this.dataSource.manager, principal.tenant, p.id, p.language)))
        throw new RoutingError(404, 'unknown_canned_response', `no canned response ${p.id} in ${p.language}`);
    });
  }

  @Get('templates')
  @Roles('agent', 'supervisor')
  @ApiOperation({ summary: 'Approved templates in a language (what the composer may send outside the window)' })
  async templatesList(@CurrentPrincipal() principal: Principal, @Query() q: LanguageQuery) {
    const rows = await this.templates.approved(this.dataSource.manager, principal.tenant, q.language ?? 'en');
    return rows.map((t) => {
      const body = t.components.find((c) => String(c.type).toUpperCase() === 'BODY') as { text?: string } | undefined;
      return {
        name: t.name,
        language: t.language,
        category: t.category,
        body: body?.text,
        parameters: t.parameters.length,
        parameterNames: t.parameters.map((x) => x.name),
      };
    });
  }

  @Get('settings')
  @Roles('supervisor')
  getSettings(@CurrentPrincipal() principal: Principal) {
    return this.settings.get(this.dataSource.manager, principal.tenant);
  }

  @Put('settings')
  @Roles('admin')
  @ApiOperation({ summary: 'Transcript retention (days after close) and the satisfaction survey' })
  putSettings(@CurrentPrincipal() principal: Principal, @Body() body: SettingsBody) {
    return guarded(async () => {
      const saved = await this.settings.put(this.dataSource.manager, principal.tenant, body, body.version);
      if (saved === 'conflict') throw conflict();
      return saved;
    });
  }

  private agentView(a: Awaited<ReturnType<AgentRepository['get']>> & object) {
    return {
      id: a.id,
      name: a.name,
      role: a.role,
      departments: a.departments,
      languages: a.languages,
      capacity: a.capacity,
      presence: a.presence,
      lastSeenAt: a.lastSeenAt,
      active: a.active,
      version: a.version,
    };
  }
}
