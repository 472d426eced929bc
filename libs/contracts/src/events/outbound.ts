import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
  ValidateNested,
  type ValidationOptions,
} from 'class-validator';
import { validatePayload } from '../envelope';
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

export const MEDIA_KINDS = ['image', 'document', 'video', 'audio', 'sticker'] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

/** Meta counts characters, not UTF-16 code units: an emoji is one character in a 20-character title. */
export function charCount(value: string): number {
  return [...value].length;
}

function MaxChars(max: number, options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'maxChars',
      constraints: [max],
      validator: {
        validate: (value: unknown) => typeof value === 'string' && charCount(value) <= max,
        defaultMessage: (args) => `${args?.property} must be at most ${max} characters (WhatsApp limit)`,
      },
    },
    options,
  );
}

const HTTPS_URL = /^https:\/\/[^\s]+$/;

/* ---------------------------------------------------------------------------------------------
 * Template references
 * ------------------------------------------------------------------------------------------- */

export class TemplateHeaderMedia {
  @IsIn(['image', 'video', 'document']) type!: 'image' | 'video' | 'document';
  /** Meta media id (uploaded), or a public https link: exactly one of the two. */
  @IsOptional() @IsString() @MaxLength(128) id?: string;
  @IsOptional() @Matches(HTTPS_URL, { message: 'link must be an https URL' }) link?: string;
  @IsOptional() @IsString() @MaxLength(240) filename?: string;
}

export class TemplateHeaderLocation {
  @IsNumber() @Min(-90) @Max(90) latitude!: number;
  @IsNumber() @Min(-180) @Max(180) longitude!: number;
  @IsOptional() @IsString() @MaxLength(1000) name?: string;
  @IsOptional() @IsString() @MaxLength(1000) address?: string;
}

/**
 * Which approved translation to send and the values for its variables. Rendered by
 * `renderTemplate` from `@wa/templates` against the registry's catalog entry, so a wrong or missing
 * value fails before Meta is called.
 */
export class TemplateRef {
  @Matches(/^[a-z0-9_]{1,512}$/) name!: string;
  /** The exact language code of the approved translation (`en`, `en_US`, `pt_BR`). */
  @Matches(LANGUAGE_CODE) language!: string;
  /**
   * Body variables by name (`{first_name: 'Fatima'}`) or position (`{'1': 'Fatima'}`); a header
   * text variable as `header.<name>` (`header.1`).
   */
  @IsOptional() @IsObject() parameters?: Record<string, string>;
  @IsOptional() @ValidateNested() @Type(() => TemplateHeaderMedia) headerMedia?: TemplateHeaderMedia;
  @IsOptional() @ValidateNested() @Type(() => TemplateHeaderLocation) headerLocation?: TemplateHeaderLocation;
  /** By button index (`'1'`): URL suffix, quick-reply payload or copy code. */
  @IsOptional() @IsObject() buttonParameters?: Record<string, string>;
}

/* ---------------------------------------------------------------------------------------------
 * Content per kind: the Cloud API's own object for that `type` (snake_case, as in Meta's docs),
 * with WhatsApp's limits. The request decodes with `content` as any object, so that a request that
 * breaks a limit reaches the gateway and gets a failed result naming the problem, instead of
 * vanishing into a DLQ; `checkOutboundRequest` below applies these classes (producers may call it
 * before publishing too).
 * ------------------------------------------------------------------------------------------- */

export class TextContent {
  @IsString() @MinLength(1) @MaxChars(4096) body!: string;
  /** Renders a preview of the first http(s) URL in the body. */
  @IsOptional() @IsBoolean() preview_url?: boolean;
}

export class MediaContent {
  /** Exactly one of: Meta media id, public https link, or an asset uploaded to the gateway (`POST /v1/media`). */
  @IsOptional() @IsString() @MaxLength(128) id?: string;
  @IsOptional() @Matches(HTTPS_URL, { message: 'link must be an https URL' }) link?: string;
  @IsOptional() @IsUUID() assetId?: string;
  /** Not for audio or sticker. */
  @IsOptional() @IsString() @MaxChars(1024) caption?: string;
  /** Documents only: the saved name and the icon. */
  @IsOptional() @IsString() @MaxChars(240) filename?: string;
}

export class LocationMessageContent {
  @IsNumber() @Min(-90) @Max(90) latitude!: number;
  @IsNumber() @Min(-180) @Max(180) longitude!: number;
  @IsOptional() @IsString() @MaxChars(1000) name?: string;
  @IsOptional() @IsString() @MaxChars(1000) address?: string;
}

export class ReactionContent {
  /** The citizen's message we react to (wamid). */
  @IsString() @MinLength(1) @MaxLength(256) message_id!: string;
  /** One emoji; an empty string removes our reaction. */
  @IsString() @MaxChars(10) emoji!: string;
}

export class TypingIndicator {
  @IsIn(['text']) type!: 'text';
}

export class MarkReadContent {
  /** The citizen's message to mark read (and earlier ones in the thread). */
  @IsString() @MinLength(1) @MaxLength(256) message_id!: string;
  /** Shows "typing…" until we reply or for about 25 s. */
  @IsOptional() @ValidateNested() @Type(() => TypingIndicator) typing_indicator?: TypingIndicator;
}

class ButtonBody {
  @IsString() @MinLength(1) @MaxChars(1024) text!: string;
}
class ListBody {
  @IsString() @MinLength(1) @MaxChars(4096) text!: string;
}
class Footer {
  @IsString() @MinLength(1) @MaxChars(60) text!: string;
}

class InteractiveMediaObject {
  @IsOptional() @IsString() @MaxLength(128) id?: string;
  @IsOptional() @Matches(HTTPS_URL, { message: 'link must be an https URL' }) link?: string;
  @IsOptional() @IsString() @MaxChars(240) filename?: string;
}

export class InteractiveHeader {
  @IsIn(['text', 'image', 'video', 'document']) type!: 'text' | 'image' | 'video' | 'document';
  @IsOptional() @IsString() @MinLength(1) @MaxChars(60) text?: string;
  @IsOptional() @ValidateNested() @Type(() => InteractiveMediaObject) image?: InteractiveMediaObject;
  @IsOptional() @ValidateNested() @Type(() => InteractiveMediaObject) video?: InteractiveMediaObject;
  @IsOptional() @ValidateNested() @Type(() => InteractiveMediaObject) document?: InteractiveMediaObject;
}

export class ReplyButtonReply {
  @IsString() @MinLength(1) @MaxLength(256) id!: string;
  @IsString() @MinLength(1) @MaxChars(20) title!: string;
}

export class ReplyButton {
  @IsIn(['reply']) type!: 'reply';
  @ValidateNested() @Type(() => ReplyButtonReply) reply!: ReplyButtonReply;
}

export class ReplyButtonsAction {
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(3) @ValidateNested({ each: true }) @Type(() => ReplyButton) buttons!: ReplyButton[];
}

export class ListRow {
  @IsString() @MinLength(1) @MaxLength(200) id!: string;
  @IsString() @MinLength(1) @MaxChars(24) title!: string;
  @IsOptional() @IsString() @MaxChars(72) description?: string;
}

export class ListSection {
  @IsOptional() @IsString() @MaxChars(24) title?: string;
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(10) @ValidateNested({ each: true }) @Type(() => ListRow) rows!: ListRow[];
}

export class ListAction {
  /** The label of the button that opens the list. */
  @IsString() @MinLength(1) @MaxChars(20) button!: string;
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(10) @ValidateNested({ each: true }) @Type(() => ListSection) sections!: ListSection[];
}

export class CtaUrlParameters {
  @IsString() @MinLength(1) @MaxChars(20) display_text!: string;
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'url must be an http(s) URL' }) @MaxLength(2000) url!: string;
}

export class CtaUrlAction {
  @IsIn(['cta_url']) name!: 'cta_url';
  @ValidateNested() @Type(() => CtaUrlParameters) parameters!: CtaUrlParameters;
}

export class ReplyButtonsContent {
  @IsIn(['button']) type!: 'button';
  @IsOptional() @ValidateNested() @Type(() => InteractiveHeader) header?: InteractiveHeader;
  @ValidateNested() @Type(() => ButtonBody) body!: ButtonBody;
  @IsOptional() @ValidateNested() @Type(() => Footer) footer?: Footer;
  @ValidateNested() @Type(() => ReplyButtonsAction) action!: ReplyButtonsAction;
}

export class ListContent {
  @IsIn(['list']) type!: 'list';
  @IsOptional() @ValidateNested() @Type(() => InteractiveHeader) header?: InteractiveHeader;
  @ValidateNested() @Type(() => ListBody) body!: ListBody;
  @IsOptional() @ValidateNested() @Type(() => Footer) footer?: Footer;
  @ValidateNested() @Type(() => ListAction) action!: ListAction;
}

export class CtaUrlContent {
  @IsIn(['cta_url']) type!: 'cta_url';
  @IsOptional() @ValidateNested() @Type(() => InteractiveHeader) header?: InteractiveHeader;
  @ValidateNested() @Type(() => ButtonBody) body!: ButtonBody;
  @IsOptional() @ValidateNested() @Type(() => Footer) footer?: Footer;
  @ValidateNested() @Type(() => CtaUrlAction) action!: CtaUrlAction;
}

export const INTERACTIVE_TYPES = ['button', 'list', 'cta_url'] as const;

/* ---------------------------------------------------------------------------------------------
 * The request
 * ------------------------------------------------------------------------------------------- */

/**
 * A send command. The gateway is the only service that turns these into Cloud API calls.
 *
 * `content` by kind (Cloud API shape): text → {@link TextContent}; interactive →
 * {@link ReplyButtonsContent} | {@link ListContent} | {@link CtaUrlContent}; image/document/video/
 * audio/sticker → {@link MediaContent}; location → {@link LocationMessageContent}; reaction →
 * {@link ReactionContent}; mark_read → {@link MarkReadContent}; template → none (use `template`).
 */
export class OutboundRequestV1 extends TenantScoped {
  /** Idempotency key: redelivery of the same id never sends twice. */
  @IsUUID() requestId!: string;
  /** Which of the tenant's numbers sends; defaults to the tenant's first. */
  @IsOptional() @IsString() phoneNumberId?: string;
  /** The citizen: `phone` (E.164) or `waId`. */
  @ValidateNested() @Type(() => ContactRef) to!: ContactRef;
  @IsIn(OUTBOUND_KINDS as unknown as string[]) kind!: OutboundKind;
  /** reply (a citizen is waiting) goes before notification, which goes before bulk. */
  @IsIn(PRIORITIES as unknown as string[]) priority!: Priority;
  /** Kind-specific body in the Cloud API's own shape, checked by `checkOutboundRequest`. */
  @IsOptional() @IsObject() content?: Record<string, unknown>;
  @IsOptional() @ValidateNested() @Type(() => TemplateRef) template?: TemplateRef;
  /** Sent instead when the customer service window is closed (free-form kinds only). */
  @IsOptional() @ValidateNested() @Type(() => TemplateRef) fallbackTemplate?: TemplateRef;
  /** Quote-reply: the citizen's message (wamid) this answers. */
  @IsOptional() @IsString() @MaxLength(256) replyToMessageId?: string;
  /**
   * Echoed by Meta in status webhooks; opaque, no PII. The gateway sends
   * `biz_opaque_callback_data = gatewayCallbackData(requestId, callbackData)`.
   */
  @IsOptional() @IsString() @MaxLength(256) @Matches(/^[^|]*$/, { message: 'callbackData must not contain |' }) callbackData?: string;
  /** Service (and, for agents, the agent id) that asked: `chatbot`, `scheduler`, `handoff:agent-7`. */
  @IsString() @MaxLength(64) requestedBy!: string;
  /** Not sent after this instant (a reminder that is late is worse than none): failed with `expired`. */
  @IsOptional() @IsISO8601() expiresAt?: string;
}

/* ---------------------------------------------------------------------------------------------
 * The result
 * ------------------------------------------------------------------------------------------- */

/** Stable reasons of a failed result; `error.code` carries Meta's code when Meta answered. */
export const OUTBOUND_FAILURE_REASONS = [
  /** The request breaks a WhatsApp limit or misses a field (see `detail`). */
  'invalid-request',
  'unknown-tenant',
  'unknown-phone-number',
  'unsupported-recipient',
  /** Free-form message and the 24 h customer service window is closed, with no fallback template. */
  'window-closed',
  /** The citizen opted out of this template's category. */
  'opted-out',
  /** Name/language not in the catalog or not APPROVED. */
  'template-not-approved',
  /** Values do not match the template's variables (see `detail`). */
  'template-params',
  'media-unavailable',
  'expired',
  /** 131026 and friends: not on WhatsApp, old app, terms not accepted. */
  'undeliverable',
  /** 131049/131050/130472: Meta declined for the citizen's preferences or ecosystem health. */
  'declined-by-meta',
  /** 132xxx: Meta refused the template (paused, disabled, parameter mismatch). */
  'template-rejected',
  /** 131047 from Meta (window closed) and no fallback. */
  'window-closed-by-meta',
  /** Our payload was wrong (100, 131008, 131009, 131051 …): a bug, see `error`. */
  'rejected-by-meta',
  /** 131031, 368, 130497, 131042, 131045 …: the account cannot send; ops were alerted. */
  'account-blocked',
  /** Transient errors persisted past the retry budget. */
  'retries-exhausted',
] as const;
export type OutboundFailureReason = (typeof OUTBOUND_FAILURE_REASONS)[number];

export class OutboundResultV1 extends TenantScoped {
  @IsUUID() requestId!: string;
  @IsIn(['accepted', 'failed']) outcome!: 'accepted' | 'failed';
  @IsOptional() @IsString() wamid?: string;
  /** accepted | held_for_quality_assessment | paused, as Meta answered for templates. */
  @IsOptional() @IsString() messageStatus?: string;
  /** The template actually sent (`name:language`) when it was a template or the fallback was used. */
  @IsOptional() @IsString() sentTemplate?: string;
  /** True when the window was closed and `fallbackTemplate` was sent instead of the content. */
  @IsOptional() @IsBoolean() usedFallback?: boolean;
  @IsOptional() @IsString() phoneNumberId?: string;
  @IsOptional() @ValidateNested() @Type(() => CloudApiError) error?: CloudApiError;
  /** A stable reason code for failures ({@link OUTBOUND_FAILURE_REASONS}). */
  @IsOptional() @IsIn(OUTBOUND_FAILURE_REASONS as unknown as string[]) reason?: OutboundFailureReason;
  /** Human-readable precision for `reason` (which field, which limit). No PII. */
  @IsOptional() @IsString() @MaxLength(2000) detail?: string;
  @IsInt() @Min(0) attempts!: number;
  @IsOptional() @IsString() callbackData?: string;
  @IsString() requestedBy!: string;
  @IsISO8601() decidedAt!: string;
}

export const CONSENT_CATEGORIES = ['utility', 'marketing', 'all'] as const;

/** What shows the citizen made the choice: kept with the consent record for audits. */
export class ConsentEvidence {
  /** `chatbot_keyword` (STOP/START), `chatbot_flow` (a flow's option), `meta_user_preferences`, `agency_event` ... */
  @IsString() @MaxLength(64) source!: string;
  /** The words the citizen sent (`BAJA`, `STOP`), when a keyword decided. */
  @IsOptional() @IsString() @MaxLength(200) keyword?: string;
  /** The citizen's message (wamid) that carried the choice. */
  @IsOptional() @IsString() @MaxLength(256) messageId?: string;
  /** The ce_id of the agency event that carried the choice (source `agency_event`). */
  @IsOptional() @IsString() @MaxLength(256) eventId?: string;
  /** The agency's own record of the choice (form id, case number). */
  @IsOptional() @IsString() @MaxLength(128) reference?: string;
  @IsISO8601() at!: string;
}

export class CitizenConsentV1 extends TenantScoped {
  @ValidateNested() @Type(() => ContactRef) contact!: ContactRef;
  @IsIn(CONSENT_CATEGORIES as unknown as string[]) category!: string;
  @IsIn(['opted_in', 'opted_out']) state!: 'opted_in' | 'opted_out';
  /** web, sms, ivr, paper, whatsapp-keyword, whatsapp-button, meta-user-preferences ... */
  @IsString() @MaxLength(64) channel!: string;
  @IsOptional() @IsString() @MaxLength(2000) wording?: string;
  @IsISO8601() occurredAt!: string;
  @IsOptional() @ValidateNested() @Type(() => ConsentEvidence) evidence?: ConsentEvidence;
}

/* ---------------------------------------------------------------------------------------------
 * Helpers shared by producers and the gateway
 * ------------------------------------------------------------------------------------------- */

/**
 * What the gateway puts in `biz_opaque_callback_data`: the requestId, then the caller's own
 * callbackData after a `|`. Status webhooks echo it, so `MessageStatusV1.bizOpaqueCallbackData`
 * names the request even before (or without) the result event.
 */
export function gatewayCallbackData(requestId: string, callbackData?: string): string {
  return callbackData ? `${requestId}|${callbackData}` : requestId;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseGatewayCallbackData(value: string | undefined): { requestId: string; callbackData?: string } | undefined {
  if (!value) return undefined;
  const bar = value.indexOf('|');
  const requestId = bar < 0 ? value : value.slice(0, bar);
  if (!UUID.test(requestId)) return undefined;
  return bar < 0 ? { requestId } : { requestId, callbackData: value.slice(bar + 1) };
}

function problemsOf(cls: new () => object, plain: unknown, prefix: string): string[] {
  return validatePayload(cls, plain).errors.map((e) => `${prefix}.${e}`);
}

function interactiveProblems(content: Record<string, unknown>): string[] {
  const type = content.type;
  if (!INTERACTIVE_TYPES.includes(type as never)) return [`content.type must be one of ${INTERACTIVE_TYPES.join(', ')}`];
  const cls = type === 'button' ? ReplyButtonsContent : type === 'list' ? ListContent : CtaUrlContent;
  const problems = problemsOf(cls, content, 'content');
  if (problems.length) return problems;
  const header = content.header as InteractiveHeader | undefined;
  if (header) {
    if (header.type === 'text' && !header.text) problems.push('content.header.text is required for a text header');
    if (header.type !== 'text') {
      const media = header[header.type] as InteractiveMediaObject | undefined;
      if (!media || Boolean(media.id) === Boolean(media.link))
        problems.push(`content.header.${header.type} needs exactly one of id or link`);
    }
    if (type === 'list' && header.type !== 'text') problems.push('content.header: a list message takes a text header only');
  }
  if (type === 'button') {
    const buttons = (content.action as ReplyButtonsAction).buttons;
    const titles = buttons.map((b) => b.reply.title.trim().toLowerCase());
    if (new Set(titles).size !== titles.length) problems.push('content.action.buttons: button titles must be unique');
    const ids = buttons.map((b) => b.reply.id);
    if (new Set(ids).size !== ids.length) problems.push('content.action.buttons: button ids must be unique');
  }
  if (type === 'list') {
    const sections = (content.action as ListAction).sections;
    const rows = sections.flatMap((s) => s.rows);
    if (rows.length > 10) problems.push(`content.action.sections: ${rows.length} rows in total; WhatsApp allows 10 across all sections`);
    const ids = rows.map((r) => r.id);
    if (new Set(ids).size !== ids.length) problems.push('content.action.sections: row ids must be unique');
    if (sections.length > 1 && sections.some((s) => !s.title))
      problems.push('content.action.sections: every section needs a title when there are several');
  }
  return problems;
}

/**
 * Every reason a request cannot be sent as written, checked against WhatsApp's limits without any
 * state (window, consent and the template catalog are the gateway's business). Empty = fine.
 */
export function checkOutboundRequest(request: OutboundRequestV1): string[] {
  const problems: string[] = [];
  if (!request.to?.phone && !request.to?.waId) problems.push('to: phone (E.164) or waId is required');
  else if (!request.to.phone && !/^\d{6,15}$/.test(request.to.waId ?? '')) problems.push('to.waId must be digits when no phone is given');
  const content = request.content;
  const needsContent = request.kind !== 'template';
  if (needsContent && !content) return [...problems, `content is required for kind ${request.kind}`];
  if (!needsContent && content) problems.push('content must be absent for kind template (use template)');
  if (request.kind !== 'template' && request.template)
    problems.push('template is only for kind template (fallbackTemplate is the window fallback)');
  if (request.fallbackTemplate && ['template', 'mark_read', 'reaction'].includes(request.kind)) {
    problems.push(`fallbackTemplate makes no sense for kind ${request.kind}`);
  }
  switch (request.kind) {
    case 'template':
      if (!request.template) problems.push('template is required for kind template');
      break;
    case 'text':
      problems.push(...problemsOf(TextContent, content, 'content'));
      break;
    case 'interactive':
      problems.push(...interactiveProblems(content!));
      break;
    case 'location':
      problems.push(...problemsOf(LocationMessageContent, content, 'content'));
      break;
    case 'reaction':
      problems.push(...problemsOf(ReactionContent, content, 'content'));
      break;
    case 'mark_read':
      problems.push(...problemsOf(MarkReadContent, content, 'content'));
      break;
    default: {
      const own = problemsOf(MediaContent, content, 'content');
      problems.push(...own);
      if (own.length) break;
      const media = content as MediaContent;
      const sources = [media.id, media.link, media.assetId].filter(Boolean).length;
      if (sources !== 1) problems.push('content: give exactly one of id, link or assetId');
      if ((request.kind === 'audio' || request.kind === 'sticker') && media.caption)
        problems.push(`content.caption: ${request.kind} takes no caption`);
      if (request.kind !== 'document' && media.filename) problems.push('content.filename: only documents take a filename');
    }
  }
  return problems;
}
