import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { Topics, type ConversationOwnerV1, type HandoffRequestV1, type TranscriptLine } from '@wa/contracts';
import { ReplyClient, uuidV5 } from '@wa/conversation';
import { Outbox, type OutboxEntry } from '@wa/kafka';
import { InjectEnv } from '@wa/service-kit';
import type { HandoffEnv } from '../config/env';
import { planAssignments, queuePositions } from '../rules/assignment';
import { citizenText } from '../rules/texts';
import { AgentRepository } from '../store/agents.repository';
import { ConsoleEventRepository, type ConsoleEventInput } from '../store/console-events.repository';
import { ConversationRepository, type ConversationRow } from '../store/conversations.repository';
import { DeflectionRepository } from '../store/deflections.repository';
import { MessageRepository } from '../store/messages.repository';
import { SettingsRepository } from '../store/settings.repository';
import { summaryOf } from './views';

/** The service's own name on requests and owner changes (agents' changes say `agent:<id>`). */
export const ROUTER = 'handoff-router';

/** An error the API maps to its status and `{code, message, details}`. */
export class RoutingError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 422,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/**
 * The queue: requests become queued conversations, the assignment pass gives them to agents, and
 * requeue, transfer and close move them on. Every change commits with its owner event (outbox),
 * its citizen notices (outbox) and its console events (event log) in one transaction.
 */
@Injectable()
export class RouterService {
  private readonly log = new Logger('Router');
  readonly replies: ReplyClient;

  constructor(
    readonly dataSource: DataSource,
    readonly outbox: Outbox,
    private readonly conversations: ConversationRepository,
    private readonly messages: MessageRepository,
    private readonly agents: AgentRepository,
    private readonly events: ConsoleEventRepository,
    private readonly deflections: DeflectionRepository,
    private readonly settings: SettingsRepository,
    @InjectEnv() private readonly env: HandoffEnv,
  ) {
    this.replies = new ReplyClient(outbox, ROUTER);
  }

  /** A handoff request becomes a queued conversation (once), then the queue drains. */
  async enqueue(manager: EntityManager, request: HandoffRequestV1, now = new Date()): Promise<boolean> {
    let { department, priority = 0 } = request;
    let callId: string | undefined;
    // A caller moved from the phone queue who answered the offer: their department and priority.
    if (request.reason === 'callcenter' || request.reason === 'template_button') {
      const offered = await this.deflections.awaitingReply(
        manager,
        request.tenantId,
        request.citizenKey,
        new Date(now.getTime() - this.env.HANDOFF_DEFLECTION_REPLY_WINDOW_MS),
      );
      if (offered) {
        department = offered.department;
        priority = Math.max(priority, offered.priority);
        callId = offered.callId;
        await this.deflections.engage(manager, request.tenantId, offered.callId, request.conversationId);
      }
    }
    const lastCitizen = [...request.transcript].reverse().find((l) => l.author === 'citizen');
    const created = await this.conversations.create(
      manager,
      {
        tenantId: request.tenantId,
        id: request.conversationId,
        citizenKey: request.citizenKey,
        contact: request.contact,
        department,
        language: request.language,
        reason: request.reason,
        priority,
        requestedAt: new Date(request.requestedAt),
        lastInboundAt: lastCitizen ? new Date(lastCitizen.at) : null,
        callId,
      },
      now,
    );
    if (!created) return false;
    await this.addTranscript(manager, request.tenantId, request.conversationId, request.transcript);
    const row = (await this.conversations.get(manager, request.tenantId, request.conversationId))!;
    await this.events.append(manager, request.tenantId, [
      { type: 'conversation.queued', department, conversationId: row.id, data: summaryOf(row) },
    ]);
    return true;
  }

  private async addTranscript(manager: EntityManager, tenantId: string, conversationId: string, lines: TranscriptLine[]): Promise<void> {
    let i = 0;
    for (const line of lines) {
      await this.messages.add(manager, tenantId, {
        id: uuidV5(JSON.stringify([tenantId, conversationId, 'transcript', i])),
        conversationId,
        author: line.author as 'citizen' | 'bot' | 'agent' | 'system',
        kind: 'text',
        text: line.text,
        sourceId: `transcript:${i++}`,
        at: new Date(line.at),
      });
    }
  }

  /**
   * One assignment pass for a tenant: under the tenant's transaction-scoped advisory lock (one
   * pass at a time across replicas), plan from the queue and the online agents' loads, and claim
   * each pair with the conditional UPDATE. Then tell still-waiting citizens their place
   * (rate-limited). Returns the assignments made.
   */
  async drain(tenantId: string, now = new Date()): Promise<{ conversationId: string; agentId: string }[]> {
    return this.dataSource.transaction((manager) => this.assignIn(manager, tenantId, now));
  }

  /**
   * The tenant's assignment lock (transaction-scoped, re-entrant). Taken before the event log's
   * cursor row by every transaction that needs both, so the two never wait on each other in a cycle.
   */
  async lockTenant(manager: EntityManager, tenantId: string): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`handoff:${tenantId}`]);
  }

  /** The assignment pass inside the caller's transaction (a new request is assigned as it commits). */
  async assignIn(manager: EntityManager, tenantId: string, now = new Date()): Promise<{ conversationId: string; agentId: string }[]> {
    {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`handoff:${tenantId}`]);
      const queue = await this.conversations.queue(manager, tenantId);
      if (queue.length === 0) return [];
      const agents = await this.agents.loads(manager, tenantId);
      const plan = planAssignments(queue, agents);
      const made: { conversationId: string; agentId: string }[] = [];
      const events: ConsoleEventInput[] = [];
      const entries: OutboxEntry[] = [];
      for (const a of plan) {
        const row = await this.conversations.claim(manager, tenantId, a.conversationId, a.agentId, now);
        if (!row) continue;
        await this.agents.markAssigned(manager, tenantId, a.agentId, now);
        entries.push(this.ownerEntry(row, 'assigned', ROUTER, { agentId: a.agentId, reason: 'assigned' }, now));
        events.push(...this.movedEvents(row, null));
        made.push(a);
      }
      const assigned = new Set(made.map((m) => m.conversationId));
      const waiting = queue.filter((c) => !assigned.has(c.id));
      const positions = queuePositions(waiting);
      for (const c of waiting) {
        const position = positions.get(c.id)!;
        const due =
          c.positionSent === null ||
          (position < c.positionSent &&
            (!c.positionSentAt || now.getTime() - c.positionSentAt.getTime() >= this.env.HANDOFF_POSITION_UPDATE_MS));
        if (!due) continue;
        const full = (await this.conversations.get(manager, tenantId, c.id))!;
        await this.conversations.markPosition(manager, tenantId, c.id, position, now);
        const key = c.positionSent === null ? 'queued' : 'position';
        const entry = this.textEntry(full, citizenText(key, full.language, { position }), `position:${position}:${now.getTime()}`, now);
        if (entry) entries.push(entry);
      }
      await this.outbox.addMany(manager, entries);
      await this.events.append(manager, tenantId, events);
      return made;
    }
  }

  /** An agent takes a queued conversation; a second claim of the same conversation gets 409. */
  async claim(tenantId: string, conversationId: string, agentId: string, now = new Date()): Promise<ConversationRow> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`handoff:${tenantId}`]);
      const agent = await this.agents.get(manager, tenantId, agentId);
      if (!agent) throw new RoutingError(404, 'unknown_agent', `no agent ${agentId} in this tenant`);
      const current = await this.conversations.get(manager, tenantId, conversationId);
      if (!current) throw new RoutingError(404, 'unknown_conversation', `no conversation ${conversationId}`);
      if (current.state !== 'queued')
        throw new RoutingError(
          409,
          'already_assigned',
          current.agentId === agentId ? 'you already have this conversation' : 'another agent has this conversation',
          {
            state: current.state,
          },
        );
      if (agent.role !== 'supervisor' && ![current.department, ...current.widenDepartments].some((d) => agent.departments.includes(d)))
        throw new RoutingError(403, 'not_your_queue', `the conversation is in ${current.department}, which is not one of your queues`);
      if ((await this.agents.load(manager, tenantId, agentId)) >= agent.capacity)
        throw new RoutingError(409, 'agent_full', `you already have ${agent.capacity} conversations (your capacity)`);
      const row = await this.conversations.claim(manager, tenantId, conversationId, agentId, now);
      if (!row) throw new RoutingError(409, 'already_assigned', 'another agent has this conversation');
      await this.agents.markAssigned(manager, tenantId, agentId, now);
      await this.outbox.addMany(manager, [this.ownerEntry(row, 'assigned', `agent:${agentId}`, { agentId, reason: 'claimed' }, now)]);
      await this.events.append(manager, tenantId, this.movedEvents(row, null));
      return row;
    });
  }

  /** Back to the queue (agent offline, or released by a supervisor); keeps its place and priority. */
  async requeue(
    manager: EntityManager,
    row: ConversationRow,
    reason: string,
    by: string,
    now: Date,
    department?: string,
  ): Promise<ConversationRow | undefined> {
    const moved = await this.conversations.requeue(manager, row.tenantId, row.id, department);
    if (!moved) return undefined;
    await this.outbox.addMany(manager, [this.ownerEntry(moved, 'requeued', by, { reason, department: moved.department }, now)]);
    await this.events.append(manager, row.tenantId, this.movedEvents(moved, row.agentId, reason));
    return moved;
  }

  /** Transfer to a department (back in its queue, same place) or straight to an agent with room. */
  async transfer(
    tenantId: string,
    conversationId: string,
    by: { agentId: string; supervisor: boolean },
    to: { department?: string; agentId?: string; note?: string },
    now = new Date(),
  ): Promise<ConversationRow> {
    if (!to.department === !to.agentId) throw new RoutingError(400, 'bad_transfer', 'give exactly one of department or agentId');
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`handoff:${tenantId}`]);
      const row = await this.conversations.get(manager, tenantId, conversationId, true);
      if (!row) throw new RoutingError(404, 'unknown_conversation', `no conversation ${conversationId}`);
      if (!by.supervisor && row.agentId !== by.agentId)
        throw new RoutingError(403, 'not_yours', 'only the assigned agent or a supervisor can transfer');
      if (row.state !== 'assigned' && row.state !== 'queued')
        throw new RoutingError(409, 'conversation_closed', 'the conversation is closed');
      if (to.note) await this.addNote(manager, row, by.agentId, `Transfer: ${to.note}`, now);
      if (to.department) {
        const [dept]: { maxQueue: number | null }[] = await manager.query(
          `SELECT max_queue AS "maxQueue" FROM handoff.department WHERE tenant_id = $1 AND id = $2`,
          [tenantId, to.department],
        );
        if (!dept) throw new RoutingError(404, 'unknown_department', `no department ${to.department} in this tenant`);
        const waiting = await this.conversations.queuedCount(manager, tenantId, to.department);
        if (dept.maxQueue !== null && waiting >= dept.maxQueue)
          throw new RoutingError(409, 'queue_full', `${to.department} has ${waiting} waiting, its limit`, {
            waiting,
            maxQueue: dept.maxQueue,
          });
        if (row.state === 'queued') {
          await manager.query(`UPDATE handoff.conversation SET department = $3, sla_alerted_at = NULL WHERE tenant_id = $1 AND id = $2`, [
            tenantId,
            row.id,
            to.department,
          ]);
          const moved = (await this.conversations.get(manager, tenantId, row.id))!;
          await this.outbox.addMany(manager, [
            this.ownerEntry(moved, 'requeued', `agent:${by.agentId}`, { reason: 'transfer', department: to.department }, now),
          ]);
          await this.events.append(manager, tenantId, this.movedEvents(moved, null, 'transfer'));
          return moved;
        }
        return (await this.requeue(manager, row, 'transfer', `agent:${by.agentId}`, now, to.department))!;
      }
      const target = await this.agents.get(manager, tenantId, to.agentId!);
      if (!target || !target.active) throw new RoutingError(404, 'unknown_agent', `no agent ${to.agentId} in this tenant`);
      if (target.presence !== 'online') throw new RoutingError(409, 'agent_unavailable', `${target.name} is ${target.presence}`);
      if ((await this.agents.load(manager, tenantId, target.id)) >= target.capacity)
        throw new RoutingError(409, 'agent_full', `${target.name} has no free capacity`, { capacity: target.capacity });
      const moved = (await this.conversations.reassign(manager, tenantId, row.id, target.id, now))!;
      await this.agents.markAssigned(manager, tenantId, target.id, now);
      await this.outbox.addMany(manager, [
        this.ownerEntry(moved, 'assigned', `agent:${by.agentId}`, { agentId: target.id, reason: 'transfer' }, now),
      ]);
      await this.events.append(manager, tenantId, this.movedEvents(moved, row.agentId, 'transfer'));
      return moved;
    });
  }

  /**
   * The agent closes. With the tenant's survey on and the window open, the router keeps the
   * conversation (the bot stays silent) and asks the one question; the bot resumes when the
   * citizen answers or the survey times out. Otherwise the bot resumes at once.
   */
  async close(
    tenantId: string,
    conversationId: string,
    by: { agentId: string; supervisor: boolean },
    now = new Date(),
  ): Promise<ConversationRow> {
    const row = await this.dataSource.transaction(async (manager) => {
      const row = await this.conversations.get(manager, tenantId, conversationId, true);
      if (!row) throw new RoutingError(404, 'unknown_conversation', `no conversation ${conversationId}`);
      if (!by.supervisor && row.agentId !== by.agentId)
        throw new RoutingError(403, 'not_yours', 'only the assigned agent or a supervisor can close');
      if (row.state === 'closed' || row.state === 'survey') return row;
      const settings = await this.settings.get(manager, tenantId);
      const survey = settings.survey && this.textEntry(row, citizenText('survey', row.language), 'survey', now);
      if (survey) {
        await this.conversations.startSurvey(manager, tenantId, row.id, now);
        await this.outbox.addMany(manager, [survey]);
      } else {
        await this.finish(manager, row, 'agent_closed', `agent:${by.agentId}`, now);
      }
      const after = (await this.conversations.get(manager, tenantId, row.id))!;
      await this.events.append(manager, tenantId, [
        { type: 'conversation.closed', agentId: row.agentId, department: row.department, conversationId: row.id, data: summaryOf(after) },
      ]);
      return after;
    });
    void this.drainSoon(tenantId);
    return row;
  }

  /** Ends the episode and hands the citizen back to the bot. */
  async finish(manager: EntityManager, row: ConversationRow, reason: string, by: string, now: Date, rating?: number): Promise<void> {
    if (!(await this.conversations.close(manager, row.tenantId, row.id, reason, now, rating))) return;
    await this.outbox.addMany(manager, [this.ownerEntry(row, 'released', by, { reason }, now)]);
  }

  async addNote(manager: EntityManager, row: ConversationRow, agentId: string, text: string, now: Date) {
    const { row: note } = await this.messages.add(manager, row.tenantId, {
      id: randomUUID(),
      conversationId: row.id,
      author: 'note',
      agentId,
      kind: 'note',
      text,
      at: now,
    });
    await this.events.append(manager, row.tenantId, [
      {
        type: 'message.created',
        agentId: row.agentId,
        department: row.agentId ? null : row.department,
        conversationId: row.id,
        data: { ...note },
      },
    ]);
    return note;
  }

  /** Runs an assignment pass soon, outside the caller's transaction; failures are retried by the sweeper. */
  drainSoon(tenantId: string): Promise<unknown> {
    return this.drain(tenantId).catch((error) =>
      this.log.warn({ tenant: tenantId, err: (error as Error).message }, 'assignment pass failed; the sweeper retries'),
    );
  }

  /** A free text to the citizen (only within the window), as a reply request the gateway sends once. */
  textEntry(row: ConversationRow, body: string, step: string, now: Date): OutboxEntry | undefined {
    if (!row.lastInboundAt || now.getTime() - row.lastInboundAt.getTime() >= 24 * 3600 * 1000) return undefined;
    const [request] = this.replies.buildReplies(
      { tenantId: row.tenantId, to: row.contact, inboundMessageId: `handoff:${row.id}`, phoneNumberId: row.phoneNumberId ?? undefined },
      [{ kind: 'text', content: { body } }],
    );
    return this.replies.entry({ ...request, requestId: uuidV5(JSON.stringify([row.tenantId, 'handoff-notice', row.id, step])) });
  }

  ownerEntry(
    row: ConversationRow,
    change: 'assigned' | 'requeued' | 'released' | 'handoff_requested',
    changedBy: string,
    extra: { agentId?: string; department?: string; reason?: string },
    now: Date,
  ): OutboxEntry {
    const data: ConversationOwnerV1 = {
      tenantId: row.tenantId,
      citizenKey: row.citizenKey,
      contact: row.contact,
      conversationId: row.id,
      change,
      ...(extra.agentId ? { agentId: extra.agentId } : {}),
      department: extra.department ?? row.department,
      language: row.language,
      ...(extra.reason ? { reason: extra.reason } : {}),
      changedBy,
      occurredAt: now.toISOString(),
    };
    return { spec: Topics.conversationOwner, data };
  }

  /** Console events for a conversation that moved: the previous agent sees it leave, the new audience sees it arrive. */
  movedEvents(row: ConversationRow, previousAgent: string | null, reason?: string): ConsoleEventInput[] {
    const events: ConsoleEventInput[] = [];
    const data = { ...summaryOf(row), ...(reason ? { reason } : {}) };
    if (previousAgent && previousAgent !== row.agentId)
      events.push({ type: 'conversation.removed', agentId: previousAgent, conversationId: row.id, data });
    events.push(
      row.state === 'assigned'
        ? { type: 'conversation.assigned', agentId: row.agentId, department: row.department, conversationId: row.id, data }
        : { type: 'conversation.queued', department: row.department, conversationId: row.id, data },
    );
    return events;
  }
}
