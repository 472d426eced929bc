import { Type } from 'class-transformer';
import { IsArray, IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, ValidateNested } from 'class-validator';
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

export class TemplateParameterSpec {
  @IsIn(['header', 'body', 'button']) component!: string;
  /** Named parameter (`first_name`) or position (`1`). */
  @IsString() name!: string;
  @IsOptional() @IsInt() buttonIndex?: number;
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
  @IsInt() version!: number;
  @IsOptional() @IsString() metaTemplateId?: string;
  @IsOptional() @IsString() qualityScore?: string;
  @IsISO8601() updatedAt!: string;
}

/** Convenience base so a tenant check reads the same for every payload. */
export class TemplateCatalogEnvelopeCheck extends TenantScoped {}
