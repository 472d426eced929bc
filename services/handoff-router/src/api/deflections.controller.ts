import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { CurrentPrincipal, Roles, type Principal } from '@wa/auth';
import { DeflectionService } from '../routing/deflection.service';
import { RoutingError } from '../routing/router.service';
import { DeflectionRepository, type DeflectionRow } from '../store/deflections.repository';
import { guarded } from './access';
import { CallIdParam, DeflectionBody } from './dto';

function view(d: DeflectionRow) {
  return {
    callId: d.callId,
    outcome: d.status,
    detail: d.detail ?? undefined,
    errorCode: d.errorCode ?? undefined,
    department: d.department,
    language: d.language,
    requestedAt: d.requestedAt,
    decidedAt: d.decidedAt,
    conversationId: d.engagedConversationId ?? undefined,
  };
}

/** Call-centre deflection: move a caller from the voice queue to WhatsApp. */
@ApiTags('deflections')
@Controller('v1/deflections')
export class DeflectionsController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly deflection: DeflectionService,
    private readonly deflections: DeflectionRepository,
  ) {}

  @Post()
  @HttpCode(200)
  @Roles('service', 'supervisor')
  @ApiOperation({
    summary:
      'Offer WhatsApp to a caller; answers within the bounded time with offered, not_reachable, opted_out or failed (a repeat of a callId answers the same)',
  })
  create(@CurrentPrincipal() principal: Principal, @Body() body: DeflectionBody) {
    return guarded(async () => {
      await this.deflection.start({ ...body, tenantId: principal.tenant, requestedAt: new Date().toISOString() });
      return view(await this.deflection.wait(principal.tenant, body.callId));
    });
  }

  @Get(':callId')
  @Roles('service', 'supervisor')
  get(@CurrentPrincipal() principal: Principal, @Param() p: CallIdParam) {
    return guarded(async () => {
      const row = await this.deflections.get(this.dataSource.manager, principal.tenant, p.callId);
      if (!row) throw new RoutingError(404, 'unknown_call', `no deflection for call ${p.callId}`);
      return view(row);
    });
  }
}
