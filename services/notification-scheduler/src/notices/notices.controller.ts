import { Controller, Get, HttpStatus, Param, ParseUUIDPipe, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { Transform } from 'class-transformer';
import { CurrentPrincipal, Roles, type Principal } from '@wa/auth';
import { DomainError } from '@wa/service-kit';
import { NoticesService, NOTICE_STATUSES, type NoticeView } from './notices.service';

export class NoticeQuery {
  @ApiPropertyOptional({ description: "The agency's citizen id (subjectId in events)" })
  @IsOptional()
  @IsString()
  @Length(1, 128)
  subjectId?: string;

  @ApiPropertyOptional({ description: 'A document id (document events)' })
  @IsOptional()
  @IsString()
  @Length(1, 128)
  documentId?: string;

  @ApiPropertyOptional({ description: 'A payment, collection or application reference' })
  @IsOptional()
  @IsString()
  @Length(1, 128)
  reference?: string;

  @ApiPropertyOptional({ enum: NOTICE_STATUSES })
  @IsOptional()
  @IsIn(NOTICE_STATUSES)
  status?: string;

  @ApiPropertyOptional({ description: 'Add the template, language and text each pending notice would be sent with now' })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  preview?: boolean;

  @ApiPropertyOptional({ default: 100, maximum: 500 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

/**
 * What will be (or was) sent to a citizen or about a document or payment, and when. Scoped by the
 * token's tenant: another agency's notices are invisible (404, not 403).
 */
@ApiTags('notices')
@Controller('v1/scheduler/notices')
@Roles('supervisor')
export class NoticesController {
  constructor(private readonly notices: NoticesService) {}

  @Get()
  @ApiOperation({ summary: 'Notices of a citizen, a document or a reference, in send order' })
  @ApiOkResponse({ description: '{ notices: NoticeView[] }' })
  async list(@CurrentPrincipal() who: Principal, @Query() query: NoticeQuery): Promise<{ notices: NoticeView[] }> {
    const given = [query.subjectId, query.documentId, query.reference].filter((v) => v !== undefined);
    if (given.length !== 1) {
      throw new DomainError('bad_request', 'Give exactly one of subjectId, documentId or reference', HttpStatus.BAD_REQUEST);
    }
    return { notices: await this.notices.list(who.tenant, query) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One notice, with what it would be sent with now when it is still pending' })
  async one(@CurrentPrincipal() who: Principal, @Param('id', new ParseUUIDPipe()) id: string): Promise<NoticeView> {
    const notice = await this.notices.get(who.tenant, id);
    if (!notice) throw new DomainError('not_found', `No notice ${id}`, HttpStatus.NOT_FOUND);
    return notice;
  }
}
