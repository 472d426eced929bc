import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiProduces, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import type { FastifyReply } from 'fastify';
import { IsInt, IsOptional, Matches, Min } from 'class-validator';
import { CurrentPrincipal, Roles, type Principal } from '@wa/auth';
import { LANGUAGE_CODE } from '@wa/contracts';
import { DomainError } from '@wa/service-kit';
import { TenantRegistry } from '@wa/tenancy';
import { FLOW_SLUG, FlowsService } from './flows.service';
import { YAML_TYPES } from './yaml-body';

const READERS = ['flow-editor', 'supervisor'] as const;

class FlowParams {
  @ApiProperty({ example: 'main' }) @Matches(FLOW_SLUG, { message: 'flow names are lowercase letters, digits, - and _' }) flow!: string;
}

class VersionParams extends FlowParams {
  @ApiProperty({ example: 3 }) @Type(() => Number) @IsInt() @Min(1) version!: number;
}

class LanguageParams extends FlowParams {
  @ApiProperty({ example: 'ar' }) @Matches(LANGUAGE_CODE, { message: 'language must look like es, ar or pt_BR' }) language!: string;
}

class PublishQuery {
  @ApiPropertyOptional({ description: 'A given version (e.g. an older one) instead of the draft' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  version?: number;
}

class VersionViewDto {
  @ApiProperty() flow!: string;
  @ApiProperty() version!: number;
  @ApiProperty({ enum: ['draft', 'published', 'retired'] }) state!: string;
  @ApiProperty() createdAt!: string;
  @ApiProperty() createdBy!: string;
  @ApiPropertyOptional() publishedAt?: string;
  @ApiPropertyOptional() publishedBy?: string;
  @ApiPropertyOptional() rolledBackAt?: string;
}

class FlowSummaryDto {
  @ApiProperty() flow!: string;
  @ApiPropertyOptional({ nullable: true }) published!: number | null;
  @ApiPropertyOptional({ nullable: true }) draft!: number | null;
  @ApiProperty() latest!: number;
}

const YAML_BODY = { schema: { type: 'string', description: 'The flow as YAML (docs/chatbot.md)' } };

/** A YAML answer; set only on success, so errors keep their JSON `{ code, message }` body. */
function yaml(reply: FastifyReply, text: string): string {
  void reply.header('content-type', 'application/yaml; charset=utf-8');
  return text;
}

function yamlOf(body: unknown): string {
  if (typeof body === 'string' && body.trim()) return body;
  if (body && typeof body === 'object' && typeof (body as { yaml?: unknown }).yaml === 'string') return (body as { yaml: string }).yaml;
  throw new DomainError(
    'bad_request',
    `send the YAML as the body (Content-Type: ${YAML_TYPES[0]}) or as JSON { "yaml": "…" }`,
    HttpStatus.BAD_REQUEST,
  );
}

/**
 * The chatbot's flows, per tenant (always the token's): drafts, publishing, versions, rollback and
 * translation files. Writing needs `flow-editor`; reading `flow-editor` or `supervisor` (admin
 * always). Problems come back as 422 `{ code: "flow_invalid", details: { problems: [{ node,
 * language, message, path, code }] } }`.
 */
@ApiTags('flows')
@Controller('v1/flows')
export class FlowsController {
  constructor(
    private readonly flows: FlowsService,
    private readonly registry: TenantRegistry,
  ) {}

  private tenantOf(who: Principal): string {
    if (!this.registry.tenant(who.tenant))
      throw new DomainError('unknown_tenant', `Tenant ${who.tenant} is not configured`, HttpStatus.NOT_FOUND);
    return who.tenant;
  }

  @Get()
  @Roles(...READERS)
  @ApiOperation({ summary: 'The tenant’s flows with their published and draft versions' })
  @ApiOkResponse({ type: [FlowSummaryDto] })
  list(@CurrentPrincipal() who: Principal) {
    return this.flows.list(this.tenantOf(who));
  }

  @Put(':flow/draft')
  @Roles('flow-editor')
  @ApiConsumes(...YAML_TYPES, 'application/json')
  @ApiBody(YAML_BODY)
  @ApiOperation({ summary: 'Create or replace the flow’s draft from YAML (422 lists every problem)' })
  @ApiOkResponse({ type: VersionViewDto })
  saveDraft(@CurrentPrincipal() who: Principal, @Param() params: FlowParams, @Body() body: unknown) {
    return this.flows.saveDraft(this.tenantOf(who), params.flow, yamlOf(body), who.sub);
  }

  @Post(':flow/publish')
  @HttpCode(HttpStatus.OK)
  @Roles('flow-editor')
  @ApiOperation({ summary: 'Publish the draft (or ?version=N); a flow with problems is refused (422)' })
  @ApiOkResponse({ type: VersionViewDto })
  publish(@CurrentPrincipal() who: Principal, @Param() params: FlowParams, @Query() query: PublishQuery) {
    return this.flows.publish(this.tenantOf(who), params.flow, who.sub, query.version);
  }

  @Post(':flow/rollback')
  @HttpCode(HttpStatus.OK)
  @Roles('flow-editor')
  @ApiOperation({ summary: 'Republish the version published before the current one' })
  @ApiOkResponse({ type: VersionViewDto })
  rollback(@CurrentPrincipal() who: Principal, @Param() params: FlowParams) {
    return this.flows.rollback(this.tenantOf(who), params.flow, who.sub);
  }

  @Get(':flow/versions')
  @Roles(...READERS)
  @ApiOperation({ summary: 'Every version of the flow, newest first' })
  @ApiOkResponse({ type: [VersionViewDto] })
  versions(@CurrentPrincipal() who: Principal, @Param() params: FlowParams) {
    return this.flows.history(this.tenantOf(who), params.flow);
  }

  @Get(':flow/versions/:version')
  @Roles(...READERS)
  @ApiProduces('application/yaml')
  @ApiOperation({ summary: 'One version as its YAML, exactly as it was written' })
  async version(
    @CurrentPrincipal() who: Principal,
    @Param() params: VersionParams,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const row = await this.flows.get(this.tenantOf(who), params.flow, params.version);
    return yaml(reply, row.source);
  }

  @Get(':flow/strings/:language')
  @Roles(...READERS)
  @ApiProduces('application/yaml')
  @ApiOperation({ summary: 'One language’s texts of the draft (else the published version), for translators' })
  async exportStrings(
    @CurrentPrincipal() who: Principal,
    @Param() params: LanguageParams,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    return yaml(reply, await this.flows.exportStrings(this.tenantOf(who), params.flow, params.language));
  }

  @Put(':flow/strings/:language')
  @Roles('flow-editor')
  @ApiConsumes(...YAML_TYPES, 'application/json')
  @ApiBody({ schema: { type: 'string', description: 'The strings file (key: text) exported for this language' } })
  @ApiOperation({ summary: 'Import a translated strings file: a new draft with this language’s texts' })
  importStrings(@CurrentPrincipal() who: Principal, @Param() params: LanguageParams, @Body() body: unknown) {
    return this.flows.importStrings(this.tenantOf(who), params.flow, params.language, yamlOf(body), who.sub);
  }
}
