import { Type } from 'class-transformer';
import { ArrayMinSize, ArrayUnique, IsArray, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, ValidateNested } from 'class-validator';
import { LANGUAGE_CODE, TENANT_ID_PATTERN } from '@wa/contracts';
import { RetentionConfig } from './retention';

/** `env:NAME` or `file:/path` (a mounted Kubernetes Secret). Never the secret itself. */
export const SECRET_REF = /^(env:[A-Z][A-Z0-9_]*|file:\/.+)$/;
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

export class QuietHours {
  /** Messages may be sent from `start` until `end`, local time; the rest of the day is quiet. */
  @Matches(HHMM) start!: string;
  @Matches(HHMM) end!: string;
}

export class PhoneNumberConfig {
  @Matches(/^\d{5,20}$/) id!: string;
  @Matches(/^\+[1-9]\d{6,14}$/) displayNumber!: string;
  /** Cloud API throughput tier of this number, messages per second. */
  @IsInt() @Min(1) @Max(1000) throughputPerSecond = 80;
}

export class AppConfig {
  @Matches(/^[a-z0-9][a-z0-9-]{1,62}$/) id!: string;
  @Matches(SECRET_REF, { message: 'appSecretRef must be env:NAME or file:/path' }) appSecretRef!: string;
  /** During a rotation both secrets verify signatures. */
  @IsOptional() @Matches(SECRET_REF) previousAppSecretRef?: string;
  @Matches(SECRET_REF) verifyTokenRef!: string;
}

export class TenantConfig {
  @Matches(TENANT_ID_PATTERN) id!: string;
  @IsString() displayName!: string;
  @Matches(/^\d{5,20}$/) wabaId!: string;
  @Matches(/^[a-z0-9][a-z0-9-]{1,62}$/) appId!: string;
  @Matches(/^v\d{2}\.0$/) graphApiVersion = 'v23.0';
  @Matches(LANGUAGE_CODE) defaultLanguage!: string;
  @IsArray() @ArrayMinSize(1) @ArrayUnique() @Matches(LANGUAGE_CODE, { each: true }) languages!: string[];
  /** Fallback chains for template languages, e.g. { ar_AE: [ar, en] }. */
  @IsOptional() languageFallbacks?: Record<string, string[]>;
  @IsString() timeZone!: string;
  @ValidateNested() @Type(() => QuietHours) quietHours!: QuietHours;
  @IsArray() @ArrayMinSize(1) @ValidateNested({ each: true }) @Type(() => PhoneNumberConfig) phoneNumbers!: PhoneNumberConfig[];
  @Matches(SECRET_REF) accessTokenRef!: string;
  @IsOptional() @IsIn(['sandbox', 'live']) mode?: 'sandbox' | 'live';
  /** Days citizen data is kept, per kind; absent fields take DEFAULT_RETENTION (retention.ts). */
  @IsOptional() @ValidateNested() @Type(() => RetentionConfig) retention?: RetentionConfig;
}

export class TenantsFile {
  @IsArray() @ValidateNested({ each: true }) @Type(() => AppConfig) apps!: AppConfig[];
  @IsArray() @ArrayMinSize(1) @ValidateNested({ each: true }) @Type(() => TenantConfig) tenants!: TenantConfig[];
}
