import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, Put, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import { CurrentPrincipal, Roles, type Principal } from '@wa/auth';
import { LANGUAGE_CODE } from '@wa/contracts';
import type { TemplateComponent } from '@wa/templates';
import { ImportService, type ImportResult } from '../sync/import.service';
import {
  CreateTemplateRequest,
  HistoryEntryView,
  ImportResultView,
  ListTemplatesQuery,
  PreviewRequest,
  PutTranslationRequest,
  TemplateView,
  TranslationView,
  ValidateTemplateRequest,
} from './dto';
import type { Translation, TranslationHistory } from './entities';
import { RegistryService } from './registry.service';

class NameParams {
  @ApiProperty({ example: 'document_expiring' })
  @Matches(/^[a-z0-9_]{1,512}$/, { message: 'name may contain only lowercase letters, digits and underscores' })
  name!: string;
}

class TranslationParams extends NameParams {
  @ApiProperty({ example: 'pt_BR' })
  @Matches(LANGUAGE_CODE, { message: 'language must be ll or ll_CC, e.g. en, pt_BR' })
  language!: string;
}

const READERS = ['template-editor', 'supervisor', 'agent'] as const;

export function translationView(t: Translation): TranslationView {
  return {
    language: t.language,
    status: t.status,
    category: t.category,
    parameterFormat: t.parameterFormat,
    version: t.version,
    liveVersion: t.liveVersion ?? undefined,
    reason: t.reason ?? undefined,
    reasonDetail: t.reasonDetail ?? undefined,
    qualityScore: t.qualityScore ?? undefined,
    metaTemplateId: t.metaTemplateId ?? undefined,
    submission: {
      state: t.submissionState,
      attempts: t.submitAttempts,
      nextAttemptAt: t.nextSubmitAt ? new Date(t.nextSubmitAt).toISOString() : undefined,
      lastError: t.lastSubmitError ?? undefined,
    },
    components: t.components as unknown as Record<string, unknown>[],
    parameters: t.parameters as unknown as Record<string, unknown>[],
    source: t.source,
    statusChangedAt: new Date(t.statusChangedAt).toISOString(),
    updatedAt: new Date(t.updatedAt).toISOString(),
    updatedBy: t.updatedBy,
  };
}

function templateViews(rows: Translation[]): TemplateView[] {
  const byName = new Map<string, Translation[]>();
  for (const r of rows) byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
  return [...byName].map(([name, list]) => ({ name, translations: list.map(translationView) }));
}

function historyView(h: TranslationHistory): HistoryEntryView {
  return {
    kind: h.kind,
    from: h.fromValue ?? undefined,
    to: h.toValue ?? undefined,
    reason: h.reason ?? undefined,
    detail: h.detail ?? undefined,
    actor: h.actor,
    occurredAt: new Date(h.occurredAt).toISOString(),
  };
}

/**
 * The admin API of the template registry. Every route needs a bearer token; the token's tenant
 * scopes every query, so another tenant's template answers 404 exactly like a missing one.
 */
@ApiTags('templates')
@Controller('v1/templates')
export class TemplatesController {
  constructor(
    private readonly registry: RegistryService,
    private readonly importer: ImportService,
  ) {}

  @Get()
  @Roles(...READERS)
  @ApiOperation({ summary: 'Templates of the caller’s tenant, with every translation and its status' })
  @ApiOkResponse({ type: [TemplateView] })
  async list(@CurrentPrincipal() principal: Principal, @Query() query: ListTemplatesQuery): Promise<TemplateView[]> {
    return templateViews(await this.registry.list(principal, query));
  }

  @Post()
  @Roles('template-editor')
  @ApiOperation({ summary: 'Create a template with one or more translations (queued for submission to Meta unless submit=false)' })
  @ApiCreatedResponse({ type: TemplateView })
  @ApiUnprocessableEntityResponse({ description: '{ code: "template_invalid", details: { issues: [{ language, path, code, message }] } }' })
  async create(@CurrentPrincipal() principal: Principal, @Body() body: CreateTemplateRequest): Promise<TemplateView> {
    return templateViews(await this.registry.create(principal, body))[0];
  }

  @Post('validate')
  @HttpCode(HttpStatus.OK)
  @Roles('template-editor')
  @ApiOperation({ summary: 'Check a template against WhatsApp’s rules without saving it' })
  validate(@CurrentPrincipal() principal: Principal, @Body() body: ValidateTemplateRequest) {
    const tenant = this.registry.tenantOf(principal);
    const translations = body.translations.map((t) => ({
      language: t.language,
      components: t.components as unknown as TemplateComponent[],
    }));
    const { issues, parameters } = this.registry.validateSet(tenant, { ...body, translations });
    return issues.length ? { ok: false, issues } : { ok: true, parameters: Object.fromEntries(parameters) };
  }

  @Post('import')
  @HttpCode(HttpStatus.OK)
  @Roles('template-editor')
  @ApiOperation({ summary: 'Read every template of the tenant’s WABA from Meta and bring the registry in line' })
  @ApiOkResponse({ type: ImportResultView })
  importFromMeta(@CurrentPrincipal() principal: Principal): Promise<ImportResult> {
    return this.importer.importAll(principal);
  }

  @Get(':name')
  @Roles(...READERS)
  @ApiOkResponse({ type: TemplateView })
  @ApiNotFoundResponse({ description: 'No such template for the caller’s tenant' })
  async get(@CurrentPrincipal() principal: Principal, @Param() params: NameParams): Promise<TemplateView> {
    return templateViews(await this.registry.get(principal, params.name))[0];
  }

  @Delete(':name')
  @Roles('template-editor')
  @ApiOperation({ summary: 'Delete every translation (at Meta too); the catalog gets tombstones' })
  remove(@CurrentPrincipal() principal: Principal, @Param() params: NameParams) {
    return this.registry.remove(principal, params.name);
  }

  @Put(':name/languages/:language')
  @Roles('template-editor')
  @ApiOperation({ summary: 'Add a translation, or save a new version of one (an edit at Meta once submitted)' })
  @ApiOkResponse({ type: TranslationView })
  async put(
    @CurrentPrincipal() principal: Principal,
    @Param() params: TranslationParams,
    @Body() body: PutTranslationRequest,
  ): Promise<TranslationView> {
    return translationView(await this.registry.putTranslation(principal, params.name, params.language, body));
  }

  @Get(':name/languages/:language')
  @Roles(...READERS)
  @ApiOkResponse({ type: TranslationView })
  async getTranslation(@CurrentPrincipal() principal: Principal, @Param() params: TranslationParams): Promise<TranslationView> {
    return translationView(await this.registry.getTranslation(principal, params.name, params.language));
  }

  @Delete(':name/languages/:language')
  @Roles('template-editor')
  @ApiOperation({ summary: 'Delete one translation (at Meta too); the catalog gets a tombstone' })
  removeTranslation(@CurrentPrincipal() principal: Principal, @Param() params: TranslationParams) {
    return this.registry.remove(principal, params.name, params.language);
  }

  @Post(':name/languages/:language/submit')
  @HttpCode(HttpStatus.ACCEPTED)
  @Roles('template-editor')
  @ApiOperation({ summary: 'Queue the latest version for submission to Meta' })
  @ApiAcceptedResponse({ type: TranslationView })
  async submit(@CurrentPrincipal() principal: Principal, @Param() params: TranslationParams): Promise<TranslationView> {
    return translationView(await this.registry.requestSubmit(principal, params.name, params.language));
  }

  @Post(':name/languages/:language/preview')
  @HttpCode(HttpStatus.OK)
  @Roles(...READERS)
  @ApiOperation({ summary: 'The text a citizen would read, and the exact Cloud API components for these values' })
  preview(@CurrentPrincipal() principal: Principal, @Param() params: TranslationParams, @Body() body: PreviewRequest) {
    return this.registry.preview(principal, params.name, params.language, body);
  }

  @Get(':name/languages/:language/history')
  @Roles(...READERS)
  @ApiOperation({ summary: 'Everything that happened to a translation: versions, submissions, Meta’s verdicts, quality, category' })
  @ApiOkResponse({ type: [HistoryEntryView] })
  async history(@CurrentPrincipal() principal: Principal, @Param() params: TranslationParams): Promise<HistoryEntryView[]> {
    return (await this.registry.history(principal, params.name, params.language)).map(historyView);
  }
}
