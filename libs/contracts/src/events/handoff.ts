import { Type } from 'class-transformer';
import { IsArray, IsIn, IsISO8601, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import { ContactRef, LANGUAGE_CODE, TenantScoped } from './common';
import { Matches } from 'class-validator';

export class TranscriptLine {
  @IsIn(['citizen', 'bot', 'agent', 'system']) author!: string;
  @IsString() @MaxLength(4096) text!: string;
  @IsISO8601() at!: string;
}

export class HandoffRequestV1 extends TenantScoped {
  @IsString() conversationId!: string;
  @ValidateNested() @Type(() => ContactRef) contact!: ContactRef;
  @IsString() @MaxLength(64) department!: string;
  @Matches(LANGUAGE_CODE) language!: string;
  @IsIn(['asked_for_agent', 'repeated_fallback', 'flow', 'callcenter']) reason!: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => TranscriptLine) transcript!: TranscriptLine[];
  @IsISO8601() requestedAt!: string;
}

/** A citizen message that arrived while the conversation is with an agent. */
export class HandoffMessageV1 extends TenantScoped {
  @IsString() conversationId!: string;
  @IsString() messageId!: string;
  @ValidateNested() @Type(() => TranscriptLine) line!: TranscriptLine;
}

export class HandoffLifecycleV1 extends TenantScoped {
  @IsString() conversationId!: string;
  @IsIn(['queued', 'assigned', 'closed', 'abandoned']) state!: string;
  @IsOptional() @IsString() agentId?: string;
  @IsISO8601() occurredAt!: string;
}

export class CallcenterDeflectionV1 extends TenantScoped {
  @IsString() callId!: string;
  @ValidateNested() @Type(() => ContactRef) contact!: ContactRef;
  @IsString() @MaxLength(64) department!: string;
  @Matches(LANGUAGE_CODE) language!: string;
  @IsISO8601() requestedAt!: string;
}

export class CallcenterDeflectionResultV1 extends TenantScoped {
  @IsString() callId!: string;
  @IsIn(['sent', 'not_on_whatsapp', 'opted_out', 'failed']) outcome!: string;
  @IsOptional() @IsString() conversationId?: string;
  @IsISO8601() occurredAt!: string;
}
