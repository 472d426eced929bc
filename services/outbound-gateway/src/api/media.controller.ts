import {
  BadRequestException,
  Controller,
  Get,
  Headers,
  HttpCode,
  Inject,
  Injectable,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  Req,
  UnsupportedMediaTypeException,
  type OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiConsumes, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';
import { CurrentPrincipal, Roles, type Principal } from '@wa/auth';
import { InjectEnv } from '@wa/service-kit';
import type { GatewayEnv } from '../config/env';
import { ALL_MEDIA_TYPES, kindsFor } from '../media/media-rules';
import { MediaService } from '../media/media.service';

/**
 * Agency files arrive as the raw request body with their own Content-Type (no multipart, no
 * base64): the parser takes exactly the media types WhatsApp accepts, up to MEDIA_MAX_BYTES,
 * while JSON bodies keep the service-wide 1 MB limit.
 */
@Injectable()
export class MediaBodyParser implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @InjectEnv() private readonly env: GatewayEnv,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    if (fastify.hasContentTypeParser('text/plain')) fastify.removeContentTypeParser('text/plain');
    fastify.addContentTypeParser(ALL_MEDIA_TYPES, { parseAs: 'buffer', bodyLimit: this.env.MEDIA_MAX_BYTES }, (_req, body, done) =>
      done(null, body),
    );
  }
}

@ApiTags('media')
@Controller('v1/media')
export class MediaController {
  constructor(@Inject(MediaService) private readonly media: MediaService) {}

  @Post()
  @HttpCode(201)
  @Roles('supervisor', 'flow-editor', 'template-editor')
  @ApiConsumes(...ALL_MEDIA_TYPES)
  @ApiOperation({ summary: 'Store an agency file (raw body, its Content-Type; optional X-Filename); send it with content.assetId' })
  @ApiCreatedResponse({ description: '{ assetId, sha256, size, mimeType, filename, sendableAs }' })
  async upload(
    @Req() request: { body?: unknown },
    @Headers('content-type') contentType: string | undefined,
    @Headers('x-filename') filename: string | undefined,
    @CurrentPrincipal() who: Principal,
  ) {
    const mimeType = (contentType ?? '').split(';')[0].trim().toLowerCase();
    if (!ALL_MEDIA_TYPES.includes(mimeType) || !Buffer.isBuffer(request.body)) {
      throw new UnsupportedMediaTypeException({
        code: 'unsupported_media_type',
        message: `Content-Type must be one of ${ALL_MEDIA_TYPES.join(', ')}`,
      });
    }
    const data = request.body;
    const sendableAs = kindsFor(mimeType, data.length);
    if (data.length === 0 || sendableAs.length === 0) {
      throw new BadRequestException({
        code: 'bad_request',
        message: `a ${mimeType} file of ${data.length} bytes cannot be sent on WhatsApp (see the size limits per kind)`,
      });
    }
    if (filename !== undefined && !/^[^/\\\u0000-\u001f]{1,240}$/.test(filename)) {
      throw new BadRequestException({ code: 'bad_request', message: 'X-Filename must be a plain file name of at most 240 characters' });
    }
    const asset = await this.media.store(who.tenant, { data, mimeType, filename });
    return { ...asset, sendableAs };
  }

  @Get(':assetId')
  @Roles('supervisor', 'flow-editor', 'template-editor', 'agent')
  @ApiOperation({ summary: 'A stored agency file and its Meta media ids per number (with expiry)' })
  async describe(@Param('assetId', new ParseUUIDPipe()) assetId: string, @CurrentPrincipal() who: Principal) {
    const asset = await this.media.describe(who.tenant, assetId);
    if (!asset) throw new NotFoundException({ code: 'not_found', message: `no file ${assetId} for tenant ${who.tenant}` });
    return asset;
  }
}
