import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsISO8601,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { CloudApiError, ContactRef, TenantScoped } from './common';

/**
 * Exactly what Meta posted, kept before any parsing so it can be replayed when the parser improves.
 * On the wire the record's value is the body's bytes as received and the other fields are
 * CloudEvents attributes (see Topics.webhookRaw), so the signature can be checked again from the
 * record and nothing is escaped twice.
 */
export class WebhookRawV2 extends TenantScoped {
  @IsString() @MaxLength(128) appId!: string;
  @IsISO8601() receivedAt!: string;
  /** The request body as received (Meta escapes non-ASCII as \uXXXX, so UTF-8 is lossless). */
  @IsString() body!: string;
  @IsString() signature!: string;
}

export const QUARANTINE_REASONS = [
  'unparseable',
  'not-whatsapp',
  'unknown-phone-number',
  'unknown-waba',
  /** The payload names a tenant whose configured app is not the app that delivered (and signed) it. */
  'app-mismatch',
  'normalize-failed',
  /**
   * A raw record whose `ce_wasignature` is not the HMAC of its body with a secret of its app:
   * not something the ingress received from Meta (or signed with a secret since removed).
   */
  'signature-mismatch',
] as const;
export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];

/**
 * The tenantId of a quarantine record that belongs to no tenant: a body that names none (not JSON,
 * not a WhatsApp payload, an unknown phone number or WABA) from an app that serves several, or a
 * raw record whose signature does not verify (nothing in it can be trusted). Every record carries
 * a tenantId (its key, its dedupe scope), so "none" is this reserved slug; the tenants file
 * refuses a tenant of that id.
 */
export const UNROUTED_TENANT = 'unrouted';

/** A signed payload that could not be normalized (or named an unknown phone number): kept, never dropped. */
export class WebhookQuarantineV1 extends TenantScoped {
  @IsString() @MaxLength(128) appId!: string;
  @IsIn(QUARANTINE_REASONS as unknown as string[]) reason!: QuarantineReason;
  @IsString() detail!: string;
  @IsISO8601() receivedAt!: string;
  /** The whole request body (HTTP-level reasons) or the offending entry/change/item (normalizer reasons). */
  @IsString() body!: string;
  /** ce_id of the raw record it came from, when it got that far (join with the raw archive). */
  @IsOptional() @IsUUID() rawEventId?: string;
  /** Where in the raw body the offending part sits, e.g. `entry[0].changes[1].value.messages[2]`. */
  @IsOptional() @IsString() path?: string;
}

export const INBOUND_MESSAGE_TYPES = [
  'text',
  'image',
  'audio',
  'video',
  'document',
  'sticker',
  'location',
  'contacts',
  'interactive',
  'button',
  'reaction',
  'order',
  'system',
  'unsupported',
  'unknown',
] as const;
export type InboundMessageType = (typeof INBOUND_MESSAGE_TYPES)[number];

/** An error as a webhook reports it (on a message, a status, or a whole change). */
export class WebhookError extends CloudApiError {
  /** Meta's link to the error's documentation (`href`). */
  @IsOptional() @IsString() href?: string;
}

/**
 * The citizen behind an inbound message: the platform's identity (ContactRef) plus what Meta
 * sends alongside a business-scoped user id. `username` and `countryCode` are for display and
 * routing hints, never identity (a username can change).
 */
export class InboundContact extends ContactRef {
  /** The citizen's WhatsApp username, when they have one (`contacts[].profile.username`). */
  @IsOptional() @IsString() @MaxLength(256) username?: string;
  /** Meta's `country_code` of the user, as sent. */
  @IsOptional() @IsString() @MaxLength(256) countryCode?: string;
  /** The parent BSUID shared across a managed business's portfolios (`parent_user_id`). */
  @IsOptional() @IsString() @MaxLength(256) parentUserId?: string;
}

export class MessageContext {
  @IsOptional() @IsString() from?: string;
  /** The wamid of our message the citizen replied to or tapped a button in. */
  @IsOptional() @IsString() messageId?: string;
  /** True for any forwarded message, also when Meta sends only `frequently_forwarded`. */
  @IsOptional() @IsBoolean() forwarded?: boolean;
  /** Forwarded more than five times. */
  @IsOptional() @IsBoolean() frequentlyForwarded?: boolean;
  /** "Message business" tap from a catalog product. */
  @IsOptional() @IsObject() referredProduct?: { catalogId?: string; productRetailerId?: string };
}

export class MediaRef {
  @IsString() mediaId!: string;
  @IsOptional() @IsString() mimeType?: string;
  @IsOptional() @IsString() sha256?: string;
  @IsOptional() @IsString() caption?: string;
  @IsOptional() @IsString() filename?: string;
  @IsOptional() @IsString() url?: string;
  @IsOptional() @IsBoolean() voice?: boolean;
  @IsOptional() @IsBoolean() animated?: boolean;
}

export class LocationContent {
  @IsNumber() latitude!: number;
  @IsNumber() longitude!: number;
  @IsOptional() @IsString() name?: string;
  @IsOptional() @IsString() address?: string;
  @IsOptional() @IsString() url?: string;
}

export class InteractiveReply {
  @IsIn(['button_reply', 'list_reply', 'nfm_reply', 'unknown']) kind!: string;
  /** Button or row id; for nfm_reply, the flow_token when present. */
  @IsOptional() @IsString() id?: string;
  @IsOptional() @IsString() title?: string;
  @IsOptional() @IsString() description?: string;
  /** nfm_reply: the name (`flow`, `address_message`) and the parsed response_json. */
  @IsOptional() @IsString() name?: string;
  @IsOptional() @IsObject() response?: Record<string, unknown>;
  /** nfm_reply: `response_json` exactly as Meta sent it (the parse keeps no key order or number spelling). */
  @IsOptional() @IsString() responseJson?: string;
}

export class InboundMessageV1 extends TenantScoped {
  @IsString() phoneNumberId!: string;
  @IsOptional() @IsString() wabaId?: string;
  @IsString() @MaxLength(256) messageId!: string;
  @ValidateNested() @Type(() => InboundContact) contact!: InboundContact;
  @IsISO8601() sentAt!: string;
  @IsISO8601() receivedAt!: string;
  @IsIn(INBOUND_MESSAGE_TYPES as unknown as string[]) type!: InboundMessageType;
  @IsOptional() @IsString() text?: string;
  @IsOptional() @ValidateNested() @Type(() => MediaRef) media?: MediaRef;
  @IsOptional() @ValidateNested() @Type(() => LocationContent) location?: LocationContent;
  @IsOptional() @ValidateNested() @Type(() => InteractiveReply) interactive?: InteractiveReply;
  /** Template quick-reply tap: the label and our payload. */
  @IsOptional() @IsObject() button?: { text?: string; payload?: string };
  /** emoji absent = the citizen removed the reaction. */
  @IsOptional() @IsObject() reaction?: { messageId: string; emoji?: string };
  @IsOptional() @IsArray() contacts?: Record<string, unknown>[];
  @IsOptional() @IsObject() order?: Record<string, unknown>;
  /** user_changed_number: newWaId is the citizen's new id. */
  @IsOptional() @IsObject() system?: { type?: string; body?: string; newWaId?: string };
  @IsOptional() @IsObject() referral?: Record<string, unknown>;
  @IsOptional() @ValidateNested() @Type(() => MessageContext) context?: MessageContext;
  @IsOptional() @ValidateNested({ each: true }) @Type(() => WebhookError) errors?: WebhookError[];
  /** For unsupported/unknown types, the original message object, so nothing is lost. */
  @IsOptional() @IsObject() original?: Record<string, unknown>;
  /** ce_id of the raw webhook record this came from (join with the ingress raw archive). */
  @IsOptional() @IsUUID() rawEventId?: string;
}

export const MESSAGE_STATUSES = ['sent', 'delivered', 'read', 'played', 'failed'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

export class Pricing {
  @IsOptional() @IsBoolean() billable?: boolean;
  @IsOptional() @IsString() pricingModel?: string;
  @IsOptional() @IsString() type?: string;
  @IsOptional() @IsString() category?: string;
}

/** Only on v23-and-older webhooks (and free-entry-point windows): never depend on it. */
export class ConversationInfo {
  @IsOptional() @IsString() id?: string;
  @IsOptional() @IsISO8601() expiresAt?: string;
  @IsOptional() @IsString() originType?: string;
}

export class MessageStatusV1 extends TenantScoped {
  @IsString() phoneNumberId!: string;
  @IsOptional() @IsString() wabaId?: string;
  @IsString() messageId!: string;
  @IsIn(MESSAGE_STATUSES as unknown as string[]) status!: MessageStatus;
  @IsISO8601() occurredAt!: string;
  /** The citizen's wa_id; may be empty for username users (2026), then recipientUserId is set. */
  @IsOptional() @IsString() recipientId?: string;
  /** Business-scoped user id (BSUID) of the recipient, when Meta sends one. */
  @IsOptional() @IsString() @MaxLength(256) recipientUserId?: string;
  @IsOptional() @IsString() bizOpaqueCallbackData?: string;
  @IsOptional() @ValidateNested() @Type(() => Pricing) pricing?: Pricing;
  @IsOptional() @ValidateNested({ each: true }) @Type(() => WebhookError) errors?: WebhookError[];
  @IsOptional() @ValidateNested() @Type(() => ConversationInfo) conversation?: ConversationInfo;
  @IsOptional() @IsUUID() rawEventId?: string;
}

export const ACCOUNT_EVENT_KINDS = [
  'template_status',
  'template_quality',
  'template_category',
  'template_components',
  'phone_number_quality',
  'account_update',
  'account_alert',
  'business_capability',
  'user_preference',
  'webhook_error',
  'other',
] as const;

export class AccountEventV1 extends TenantScoped {
  @IsString() wabaId!: string;
  @IsString() field!: string;
  @IsIn(ACCOUNT_EVENT_KINDS as unknown as string[]) kind!: string;
  @IsOptional() @IsString() event?: string;
  @IsOptional() @IsString() templateId?: string;
  @IsOptional() @IsString() templateName?: string;
  /** Normalized to Meta's template API form (en_US, not en-US). */
  @IsOptional() @IsString() templateLanguage?: string;
  @IsOptional() @IsString() reason?: string;
  @IsISO8601() occurredAt!: string;
  /** The change's `value` (or the one user_preferences item) exactly as Meta sent it. */
  @IsObject() details!: Record<string, unknown>;
  /** Set when the event concerns one of our phone numbers (quality, value.errors, user_preferences). */
  @IsOptional() @IsString() phoneNumberId?: string;
  @IsOptional() @IsUUID() rawEventId?: string;
}
