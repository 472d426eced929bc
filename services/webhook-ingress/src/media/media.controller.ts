import { Controller, Get, HttpCode, HttpStatus, Param, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiPropertyOptional, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles, type Principal } from '@wa/auth';
import { IsOptional, Matches } from 'class-validator';
import { MediaService, type MediaReference } from './media.service';

export class FetchMediaQuery {
  @ApiPropertyOptional({ description: "Which of the tenant's numbers received it (scopes the Graph lookup); defaults to the first" })
  @IsOptional()
  @Matches(/^\d{5,20}$/)
  phoneNumberId?: string;

  @ApiPropertyOptional({ description: 'File name to keep with it (documents carry one in the webhook)' })
  @IsOptional()
  @Matches(/^[^/\\\u0000]{1,255}$/)
  filename?: string;
}

export class MediaReferenceDto implements MediaReference {
  @ApiProperty() tenantId!: string;
  @ApiProperty() mediaId!: string;
  @ApiProperty({ example: 'media:roads-agency/880000000000001' }) reference!: string;
  @ApiProperty({ example: '/v1/media/880000000000001/content' }) contentPath!: string;
  @ApiProperty() mimeType!: string;
  @ApiProperty({ description: 'Hex SHA-256 of the stored bytes' }) sha256!: string;
  @ApiProperty() fileSize!: number;
  @ApiPropertyOptional() filename?: string;
  @ApiProperty() fetchedAt!: string;
}

/**
 * The media fetch path for the chatbot and the handoff console: turn an inbound media id (valid
 * 7 days, URL valid minutes) into our own durable copy, then serve it from here. Any principal of
 * the tenant may use it (agents, supervisors, the chatbot's service token); the tenant is the
 * token's, so another tenant's media is simply not found.
 */
@ApiTags('media')
@Roles('agent', 'supervisor', 'service')
@Controller('v1/media')
export class MediaController {
  constructor(private readonly media: MediaService) {}

  @Post(':mediaId')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: "Downloads an inbound media id with the tenant's token and stores it (idempotent)" })
  @ApiResponse({ status: 200, type: MediaReferenceDto })
  @ApiResponse({ status: 404, description: 'Meta no longer has the media, or it is not this tenant’s' })
  @ApiResponse({ status: 502, description: 'The Graph API failed or refused the token' })
  fetch(@CurrentPrincipal() who: Principal, @Param('mediaId') mediaId: string, @Query() query: FetchMediaQuery): Promise<MediaReference> {
    return this.media.fetch(who.tenant, mediaId, query);
  }

  @Get(':mediaId')
  @ApiOperation({ summary: 'The stored copy: metadata' })
  @ApiResponse({ status: 200, type: MediaReferenceDto })
  get(@CurrentPrincipal() who: Principal, @Param('mediaId') mediaId: string): Promise<MediaReference> {
    return this.media.get(who.tenant, mediaId);
  }

  @Get(':mediaId/content')
  @ApiOperation({ summary: 'The stored copy: bytes' })
  async content(@CurrentPrincipal() who: Principal, @Param('mediaId') mediaId: string): Promise<StreamableFile> {
    const { reference, content } = await this.media.content(who.tenant, mediaId);
    return new StreamableFile(content, {
      type: reference.mimeType,
      length: reference.fileSize,
      // RFC 5987 form: file names are often not ASCII (Arabic, accents), which a plain header cannot carry.
      disposition: reference.filename ? `attachment; filename*=UTF-8''${encodeURIComponent(reference.filename)}` : undefined,
    });
  }
}
