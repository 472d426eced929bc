import { randomUUID } from 'node:crypto';
import { BadRequestException, Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { DataSource } from 'typeorm';
import { CurrentPrincipal, Roles, type Principal } from '@wa/auth';
import { citizenKeyOf, Topics } from '@wa/contracts';
import { Outbox } from '@wa/kafka';

export class ErasureRequestDto {
  @ApiPropertyOptional({ description: "The citizen's WhatsApp id (wa_id)" })
  @IsOptional()
  @Matches(/^\d{6,20}$/)
  waId?: string;

  @ApiPropertyOptional({ description: "The citizen's number, E.164" })
  @IsOptional()
  @Matches(/^\+[1-9]\d{6,14}$/)
  phone?: string;

  @ApiPropertyOptional({ description: "The citizen's business-scoped user id, for citizens known only by it" })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  bsuid?: string;
}

class ErasureAcceptedDto {
  @ApiProperty() requestId!: string;
  @ApiProperty({ description: 'Each service answers on citizen.erasure.result.v1 with this request id' }) status!: 'accepted';
}

/**
 * A citizen's erasure request for the caller's tenant: one `citizen.erasure.v1` event, which every
 * service consumes to erase them from its own schema (docs/privacy.md). Supervisors and admins
 * only; the response names no one, and neither do the logs.
 */
@ApiTags('privacy')
@Controller('v1/citizen-erasures')
@Roles('admin', 'supervisor')
export class ErasureController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
  ) {}

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: "Erase a citizen from every service's data, for your tenant" })
  @ApiAcceptedResponse({ type: ErasureAcceptedDto })
  async request(@Body() body: ErasureRequestDto, @CurrentPrincipal() who: Principal): Promise<ErasureAcceptedDto> {
    const citizenKey = citizenKeyOf(body);
    if (!citizenKey) throw new BadRequestException({ code: 'validation_failed', message: 'name the citizen by waId, phone or bsuid' });
    const requestId = randomUUID();
    await this.dataSource.transaction((manager) =>
      this.outbox.add(manager, Topics.citizenErasure, {
        tenantId: who.tenant,
        requestId,
        citizenKey,
        requestedBy: who.sub,
        requestedAt: new Date().toISOString(),
      }),
    );
    return { requestId, status: 'accepted' };
  }
}
