import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { CurrentPrincipal, Roles, type Principal } from '@wa/auth';
import { AgentWorkService } from '../routing/agent-work.service';
import { RouterService } from '../routing/router.service';
import { lineOf, summaryOf } from '../routing/views';
import { ConversationRepository } from '../store/conversations.repository';
import { MessageRepository } from '../store/messages.repository';
import { TemplateRepository } from '../store/templates.repository';
import { Access, guarded } from './access';
import { IdParam, ListQuery, NoteBody, ReplyBody, TransferBody } from './dto';

/** The agent's work on conversations; every query is scoped by the token's tenant and the caller's view. */
@ApiTags('conversations')
@Controller('v1/conversations')
export class ConversationsController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly access: Access,
    private readonly router: RouterService,
    private readonly work: AgentWorkService,
    private readonly conversations: ConversationRepository,
    private readonly messages: MessageRepository,
    private readonly templates: TemplateRepository,
  ) {}

  @Get()
  @Roles('agent', 'supervisor')
  @ApiOperation({ summary: 'Conversations: an agent sees theirs and their queues; a supervisor the whole tenant' })
  list(@CurrentPrincipal() principal: Principal, @Query() q: ListQuery) {
    return guarded(async () => {
      const who = await this.access.of(principal);
      const mine = q.scope === 'mine' || !who.supervisor;
      const rows = await this.conversations.list(this.dataSource.manager, principal.tenant, {
        states: q.state ? [q.state] : q.scope === 'mine' ? ['assigned', 'survey'] : ['queued', 'assigned', 'survey'],
        ...(q.scope === 'mine' ? { agentId: who.agentId } : {}),
        departments: q.department ? [q.department] : undefined,
        ...(mine && q.scope !== 'mine' ? { visibleTo: { agentId: who.agentId, departments: who.departments } } : {}),
        limit: q.limit ?? 200,
      });
      return rows.map(summaryOf);
    });
  }

  @Get(':id')
  @Roles('agent', 'supervisor')
  @ApiOperation({ summary: 'One conversation: details, transcript (this and earlier episodes), composer state' })
  get(@CurrentPrincipal() principal: Principal, @Param() p: IdParam) {
    return guarded(async () => this.view(principal, p.id));
  }

  private async view(principal: Principal, id: string) {
    const who = await this.access.of(principal);
    const m = this.dataSource.manager;
    const row = this.access.canSee(who, await this.conversations.get(m, principal.tenant, id));
    const [transcript, earlier, templates] = await Promise.all([
      this.messages.transcript(m, principal.tenant, row.id),
      this.messages.history(m, principal.tenant, row.citizenKey, row.id),
      this.templates.approved(m, principal.tenant, row.language),
    ]);
    return {
      ...summaryOf(row),
      transcript: transcript.map(lineOf),
      earlier: earlier.reverse().map(lineOf),
      composer: {
        ...this.work.composer(row),
        templates: templates.map((t) => ({ name: t.name, language: t.language, parameters: t.parameters })),
      },
    };
  }

  @Post(':id/claim')
  @HttpCode(200)
  @Roles('agent', 'supervisor')
  @ApiOperation({ summary: 'Take a queued conversation (409 already_assigned when another agent was first)' })
  claim(@CurrentPrincipal() principal: Principal, @Param() p: IdParam) {
    return guarded(async () => {
      await this.access.of(principal);
      await this.router.claim(principal.tenant, p.id, principal.sub);
      return this.view(principal, p.id);
    });
  }

  @Post(':id/messages')
  @HttpCode(200)
  @Roles('agent', 'supervisor')
  @ApiOperation({
    summary: 'Reply with text, media or an approved template; outside the window a free reply is held and agent_replied goes out',
  })
  reply(@CurrentPrincipal() principal: Principal, @Param() p: IdParam, @Body() body: ReplyBody) {
    return guarded(async () => {
      const who = await this.access.of(principal);
      this.access.canSee(who, await this.conversations.get(this.dataSource.manager, principal.tenant, p.id));
      return this.work.reply(principal.tenant, p.id, { agentId: who.agentId, supervisor: who.supervisor }, body);
    });
  }

  @Post(':id/notes')
  @HttpCode(200)
  @Roles('agent', 'supervisor')
  @ApiOperation({ summary: 'An internal note (never sent to the citizen)' })
  note(@CurrentPrincipal() principal: Principal, @Param() p: IdParam, @Body() body: NoteBody) {
    return guarded(async () => {
      const who = await this.access.of(principal);
      return this.dataSource.transaction(async (m) => {
        const row = this.access.canSee(who, await this.conversations.get(m, principal.tenant, p.id, true));
        return lineOf(await this.router.addNote(m, row, who.agentId, body.text, new Date()));
      });
    });
  }

  @Post(':id/transfer')
  @HttpCode(200)
  @Roles('agent', 'supervisor')
  @ApiOperation({ summary: 'Transfer to a department (409 queue_full) or an agent (409 agent_full / agent_unavailable)' })
  transfer(@CurrentPrincipal() principal: Principal, @Param() p: IdParam, @Body() body: TransferBody) {
    return guarded(async () => {
      const who = await this.access.of(principal);
      this.access.canSee(who, await this.conversations.get(this.dataSource.manager, principal.tenant, p.id));
      await this.router.transfer(principal.tenant, p.id, { agentId: who.agentId, supervisor: who.supervisor }, body);
      void this.router.drainSoon(principal.tenant);
      return summaryOf((await this.conversations.get(this.dataSource.manager, principal.tenant, p.id))!);
    });
  }

  @Post(':id/close')
  @HttpCode(200)
  @Roles('agent', 'supervisor')
  @ApiOperation({ summary: 'Close: the survey (if on) then the bot resumes' })
  close(@CurrentPrincipal() principal: Principal, @Param() p: IdParam) {
    return guarded(async () => {
      const who = await this.access.of(principal);
      this.access.canSee(who, await this.conversations.get(this.dataSource.manager, principal.tenant, p.id));
      return summaryOf(await this.router.close(principal.tenant, p.id, { agentId: who.agentId, supervisor: who.supervisor }));
    });
  }
}
