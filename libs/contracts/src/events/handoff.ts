import { Type } from 'class-transformer';
import { IsArray, IsIn, IsInt, IsISO8601, IsOptional, IsString, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { ContactRef, LANGUAGE_CODE, TenantScoped } from './common';
import { Matches } from 'class-validator';

export class TranscriptLine {
  @IsIn(['citizen', 'bot', 'agent', 'system']) author!: string;
  @IsString() @MaxLength(4096) text!: string;
  @IsISO8601() at!: string;
}

export class HandoffRequestV1 extends TenantScoped {
  @IsString() conversationId!: string;
  @IsString() @MaxLength(300) citizenKey!: string;
  @ValidateNested() @Type(() => ContactRef) contact!: ContactRef;
  @IsString() @MaxLength(64) department!: string;
  @Matches(LANGUAGE_CODE) language!: string;
  @IsIn(['asked_for_agent', 'repeated_fallback', 'flow', 'callcenter', 'template_button']) reason!: string;
  /** Callers moved from the phone queue keep their place: higher is served first. */
  @IsOptional() @IsInt() @Min(0) @Max(100) priority?: number;
  @IsArray() @ValidateNested({ each: true }) @Type(() => TranscriptLine) transcript!: TranscriptLine[];
  @IsISO8601() requestedAt!: string;
}

/** A citizen message that arrived while the conversation is with an agent. */
export class HandoffMessageV1 extends TenantScoped {
  @IsString() conversationId!: string;
  @IsString() @MaxLength(300) citizenKey!: string;
  @IsString() messageId!: string;
  @ValidateNested() @Type(() => TranscriptLine) line!: TranscriptLine;
}

/**
 * A change of who answers the citizen (bot, queue, agent; see `@wa/conversation`'s owner rules).
 * The only way the owner changes: every producer (chatbot, router, console) publishes this, keyed
 * by tenant and citizen, and every consumer folds the stream in partition order.
 */
export class ConversationOwnerV1 extends TenantScoped {
  /** `citizenKey(contact)`: the partition key's second half. */
  @IsString() @MaxLength(300) citizenKey!: string;
  @ValidateNested() @Type(() => ContactRef) contact!: ContactRef;
  /** The handoff episode this change belongs to. */
  @IsString() @MaxLength(128) conversationId!: string;
  @IsIn(['handoff_requested', 'assigned', 'requeued', 'released', 'expired']) change!: string;
  @IsOptional() @IsString() @MaxLength(128) agentId?: string;
  @IsOptional() @IsString() @MaxLength(64) department?: string;
  @IsOptional() @Matches(LANGUAGE_CODE) language?: string;
  /** Why: `asked_for_agent`, `repeated_fallback`, `agent_closed`, `agent_offline`, `transfer`, … */
  @IsOptional() @IsString() @MaxLength(64) reason?: string;
  /** Who changed it: `chatbot`, `handoff-router`, `agent:<id>`. */
  @IsString() @MaxLength(128) changedBy!: string;
  @IsISO8601() occurredAt!: string;
}

export class CallcenterDeflectionV1 extends TenantScoped {
  /** The call-centre system's id of the call: one deflection per call (a repeat gets the first's result). */
  @IsString() @MaxLength(128) callId!: string;
  /** The caller's number (`phone`, E.164): the send itself is the "is on WhatsApp" check. */
  @ValidateNested() @Type(() => ContactRef) contact!: ContactRef;
  @IsString() @MaxLength(64) department!: string;
  @Matches(LANGUAGE_CODE) language!: string;
  /** The caller's place in the voice queue carried over (higher is served first; default 50). */
  @IsOptional() @IsInt() @Min(0) @Max(100) priority?: number;
  @IsISO8601() requestedAt!: string;
}

/**
 * `offered`: the `continue_on_whatsapp` template was delivered; `not_reachable`: not on WhatsApp
 * (131026) or no delivery in time, the caller stays in the voice queue; `opted_out`: the citizen
 * opted out of messages; `failed`: the platform could not try (unknown department, template not
 * approved, account blocked).
 */
export const DEFLECTION_OUTCOMES = ['offered', 'not_reachable', 'opted_out', 'failed'] as const;
export type DeflectionOutcome = (typeof DEFLECTION_OUTCOMES)[number];

export class CallcenterDeflectionResultV1 extends TenantScoped {
  @IsString() @MaxLength(128) callId!: string;
  @IsIn(DEFLECTION_OUTCOMES as unknown as string[]) outcome!: DeflectionOutcome;
  /** The handoff episode the caller's reply will join (set once the citizen answers). */
  @IsOptional() @IsString() conversationId?: string;
  /** Why, in words (no PII): `131026 message undeliverable`, `no delivery within 30 s` … */
  @IsOptional() @IsString() @MaxLength(500) detail?: string;
  /** Meta's error code, when Meta answered with one. */
  @IsOptional() @IsInt() errorCode?: number;
  @IsISO8601() occurredAt!: string;
}
