import { Type } from 'class-transformer';
import { IsArray, IsBoolean, IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, Min, ValidateNested } from 'class-validator';
import { LANGUAGE_CODE, TenantScoped } from './common';

export const TEMPLATE_CATEGORIES = ['UTILITY', 'MARKETING', 'AUTHENTICATION'] as const;
export const TEMPLATE_STATUSES = [
  'DRAFT',
  'PENDING',
  'APPROVED',
  'REJECTED',
  'PAUSED',
  'DISABLED',
  'IN_APPEAL',
  'PENDING_DELETION',
  'DELETED',
  'ARCHIVED',
  'LIMIT_EXCEEDED',
] as const;

export const TEMPLATE_PARAMETER_TYPES = ['text', 'image', 'video', 'document', 'location', 'payload', 'coupon_code'] as const;

/** One value a send must (or may) supply; computed by `@wa/templates` from the components. */
export class TemplateParameterSpec {
  @IsIn(['header', 'body', 'button']) component!: 'header' | 'body' | 'button';
  /** Named parameter (`first_name`), position (`1`), or for media/location headers the format (`image`). */
  @IsString() name!: string;
  /** text variable, header media kind, quick-reply payload or copy code. */
  @IsIn(TEMPLATE_PARAMETER_TYPES as unknown as string[]) type!: (typeof TEMPLATE_PARAMETER_TYPES)[number];
  /** Buttons only: the button's 0-based position (the key in `buttonParameters`). */
  @IsOptional() @IsInt() @Min(0) buttonIndex?: number;
  /** False only for quick-reply payloads (Meta then returns the label). */
  @IsBoolean() required!: boolean;
  @IsOptional() @IsString() example?: string;
}

/**
 * One translation of a template as the registry knows it. The topic is compacted and keyed by
 * tenant:name:language, so a consumer's read model is the latest record per key; a null value
 * (tombstone) means the translation was deleted.
 */
export class TemplateCatalogEntryV1 {
  @Matches(/^[a-z0-9][a-z0-9-]{1,62}$/) tenantId!: string;
  @Matches(/^[a-z0-9_]{1,512}$/) name!: string;
  @Matches(LANGUAGE_CODE) language!: string;
  @IsIn(TEMPLATE_CATEGORIES as unknown as string[]) category!: string;
  @IsIn(TEMPLATE_STATUSES as unknown as string[]) status!: string;
  @IsIn(['named', 'positional']) parameterFormat!: 'named' | 'positional';
  @ValidateNested({ each: true }) @Type(() => TemplateParameterSpec) parameters!: TemplateParameterSpec[];
  /** The components as submitted to Meta (used to render and to validate sends). */
  @IsArray() components!: Record<string, unknown>[];
  /** The registry's version of this translation (1 on create, +1 on each edit). */
  @IsInt() @Min(1) version!: number;
  @IsOptional() @Matches(/^\d{5,20}$/) wabaId?: string;
  @IsOptional() @IsString() metaTemplateId?: string;
  /** GREEN, YELLOW, RED or UNKNOWN, from Meta's quality webhooks. */
  @IsOptional() @IsString() qualityScore?: string;
  /** Why Meta rejected, paused or disabled it (e.g. INVALID_FORMAT, FIRST_PAUSE), when known. */
  @IsOptional() @IsString() reason?: string;
  @IsISO8601() updatedAt!: string;
}

/** Convenience base so a tenant check reads the same for every payload. */
export class TemplateCatalogEnvelopeCheck extends TenantScoped {}
