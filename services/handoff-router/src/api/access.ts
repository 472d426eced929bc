import { HttpException, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Principal } from '@wa/auth';
import { RoutingError } from '../routing/router.service';
import type { Audience } from '../stream/stream.hub';
import { AgentRepository, type AgentRow } from '../store/agents.repository';
import type { ConversationRow } from '../store/conversations.repository';

/** The platform's error shape for a routing refusal. */
export function httpError(error: unknown): never {
  if (error instanceof RoutingError)
    throw new HttpException({ code: error.code, message: error.message, details: error.details }, error.status);
  throw error;
}

export async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    httpError(error);
  }
}

/**
 * Who the caller is in the router: supervisors and admins see the whole tenant; an agent is the
 * agent row named by the token's `sub` in the token's tenant and sees their own conversations and
 * their queues.
 */
@Injectable()
export class Access {
  constructor(
    private readonly dataSource: DataSource,
    private readonly agents: AgentRepository,
  ) {}

  async of(principal: Principal): Promise<Audience & { agent?: AgentRow }> {
    const supervisor = principal.roles.includes('supervisor') || principal.roles.includes('admin');
    const agent = await this.agents.get(this.dataSource.manager, principal.tenant, principal.sub);
    if (!agent && !supervisor) throw new RoutingError(403, 'unknown_agent', `no agent ${principal.sub} in tenant ${principal.tenant}`);
    if (agent && !agent.active && !supervisor) throw new RoutingError(403, 'agent_inactive', 'this agent is deactivated');
    return { agentId: principal.sub, supervisor, departments: agent?.departments ?? [], agent };
  }

  /** 404 (not 403) for a conversation outside the caller's view: its existence is not disclosed. */
  canSee(who: Audience, row: ConversationRow | undefined): ConversationRow {
    const visible =
      row &&
      (who.supervisor ||
        row.agentId === who.agentId ||
        (row.state === 'queued' && [row.department, ...row.widenDepartments].some((d) => who.departments.includes(d))));
    if (!visible) throw new RoutingError(404, 'unknown_conversation', 'no such conversation');
    return row;
  }
}
