import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, MaxLength, ValidateNested } from 'class-validator';

/** Tenant ids are slugs so they can appear in keys, topic names and metrics labels. */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;

export abstract class TenantScoped {
  @Matches(TENANT_ID_PATTERN, { message: 'tenantId must be a lowercase slug' })
  tenantId!: string;
}

/**
 * A citizen as WhatsApp identifies them. `waId` is today's id (usually the phone number without +);
 * `bsuid` is the business-scoped user id arriving with usernames in 2026, when the phone may be empty.
 */
export class ContactRef {
  @IsOptional() @IsString() @MaxLength(32) waId?: string;
  @IsOptional() @IsString() @MaxLength(256) bsuid?: string;
  @IsOptional() @Matches(/^\+[1-9]\d{6,14}$/, { message: 'phone must be E.164 with a leading +' }) phone?: string;
  @IsOptional() @IsString() @MaxLength(256) profileName?: string;
}

export class CloudApiError {
  @IsInt() code!: number;
  @IsOptional() @IsString() title?: string;
  @IsOptional() @IsString() message?: string;
  @IsOptional() @IsString() details?: string;
}

export const LANGUAGE_CODE = /^[a-z]{2,3}(_[A-Z]{2})?$/;

export class LocalizedName {
  @Matches(LANGUAGE_CODE) language!: string;
  @IsString() @Length(1, 200) text!: string;
}

export const PRIORITIES = ['reply', 'notification', 'bulk'] as const;
export type Priority = (typeof PRIORITIES)[number];

export class CloudApiErrorList {
  @ValidateNested({ each: true }) @Type(() => CloudApiError) errors!: CloudApiError[];
}

export function isOneOf<T extends readonly string[]>(values: T) {
  return IsIn(values as unknown as string[]);
}
