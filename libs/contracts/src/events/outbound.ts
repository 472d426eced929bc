import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsObject, IsOptional, IsString, IsUUID, Matches, MaxLength, ValidateNested } from 'class-validator';
import { CloudApiError, ContactRef, LANGUAGE_CODE, PRIORITIES, type Priority, TenantScoped } from './common';

export const OUTBOUND_KINDS = [
  'text',
  'template',
  'interactive',
  'image',
  'document',
  'video',
  'audio',
  'sticker',
  'location',
  'reaction',
  'mark_read',
] as const;
export type OutboundKind = (typeof OUTBOUND_KINDS)[number];

export class TemplateRef {
  @Matches(/^[a-z0-9_]{1,512}$/) name!: string;
  @Matches(LANGUAGE_CODE) language!: string;
  /** Named (`{first_name: 'Fatima'}`) or positional (`{'1': 'Fatima'}`) values, rendered by the registry's rules. */
  @IsOptional() @IsObject() parameters?: Record<string, string>;
  @IsOptional() @IsObject() headerMedia?: { type: 'image' | 'video' | 'document'; id?: string; link?: string; filename?: string };
  @IsOptional() @IsObject() buttonParameters?: Record<string, string>;
}

/** A send command. The gateway is the only service that turns these into Cloud API calls. */
export class OutboundRequestV1 extends TenantScoped {
  /** Idempotency key: redelivery of the same id never sends twice. */
  @IsUUID() requestId!: string;
  @IsOptional() @IsString() phoneNumberId?: string;
  @ValidateNested() @Type(() => ContactRef) to!: ContactRef;
  @IsIn(OUTBOUND_KINDS as unknown as string[]) kind!: OutboundKind;
  @IsIn(PRIORITIES as unknown as string[]) priority!: Priority;
  /** Kind-specific body in the Cloud API's own shape (e.g. `{ body, preview_url }` for text). */
  @IsOptional() @IsObject() content?: Record<string, unknown>;
  @IsOptional() @ValidateNested() @Type(() => TemplateRef) template?: TemplateRef;
  /** Sent instead when the customer service window is closed. */
  @IsOptional() @ValidateNested() @Type(() => TemplateRef) fallbackTemplate?: TemplateRef;
  @IsOptional() @IsString() replyToMessageId?: string;
  /** Echoed by Meta in status webhooks; opaque, no PII. */
  @IsOptional() @IsString() @MaxLength(256) callbackData?: string;
  @IsString() @MaxLength(64) requestedBy!: string;
  @IsOptional() @IsISO8601() expiresAt?: string;
}

export class OutboundResultV1 extends TenantScoped {
  @IsUUID() requestId!: string;
  @IsIn(['accepted', 'failed']) outcome!: 'accepted' | 'failed';
  @IsOptional() @IsString() wamid?: string;
  /** accepted | held_for_quality_assessment | paused, as Meta answered for templates. */
  @IsOptional() @IsString() messageStatus?: string;
  /** The template actually sent when the fallback was used. */
  @IsOptional() @IsString() sentTemplate?: string;
  @IsOptional() @ValidateNested() @Type(() => CloudApiError) error?: CloudApiError;
  /** A stable reason code for failures decided before calling Meta (window-closed, opted-out, ...). */
  @IsOptional() @IsString() reason?: string;
  @IsInt() attempts!: number;
  @IsOptional() @IsString() callbackData?: string;
  @IsString() requestedBy!: string;
  @IsISO8601() decidedAt!: string;
}

export const CONSENT_CATEGORIES = ['utility', 'marketing', 'all'] as const;

export class CitizenConsentV1 extends TenantScoped {
  @ValidateNested() @Type(() => ContactRef) contact!: ContactRef;
  @IsIn(CONSENT_CATEGORIES as unknown as string[]) category!: string;
  @IsIn(['opted_in', 'opted_out']) state!: 'opted_in' | 'opted_out';
  /** web, sms, ivr, paper, whatsapp-keyword, whatsapp-button, meta-user-preferences ... */
  @IsString() @MaxLength(64) channel!: string;
  @IsOptional() @IsString() @MaxLength(2000) wording?: string;
  @IsISO8601() occurredAt!: string;
}
