import { Type } from 'class-transformer';
import {
  IsIn,
  IsISO8601,
  IsNumberString,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Length,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { LANGUAGE_CODE, TenantScoped } from './common';

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const E164 = /^\+[1-9]\d{6,14}$/;

/** The citizen an agency event is about. The agency's own id for them is `subjectId`. */
export class CitizenRef {
  @IsString() @Length(1, 128) subjectId!: string;
  @Matches(E164, { message: 'citizen.whatsapp must be E.164 with a leading +' }) whatsapp!: string;
  @IsOptional() @Matches(LANGUAGE_CODE) preferredLanguage?: string;
  @IsOptional() @IsString() @MaxLength(200) name?: string;
  /** IANA zone, overriding the tenant's for quiet hours. */
  @IsOptional() @IsString() @MaxLength(64) timeZone?: string;
}

export const DOCUMENT_TYPES = [
  'driving_licence',
  'vehicle_registration',
  'residence_visa',
  'passport',
  'national_id',
  'work_permit',
  'other',
] as const;

export class DocumentRef {
  @IsString() @Length(1, 128) documentId!: string;
  @IsIn(DOCUMENT_TYPES as unknown as string[]) documentType!: string;
}

export class DocumentExpiringV1 extends TenantScoped {
  @ValidateNested() @Type(() => CitizenRef) citizen!: CitizenRef;
  @ValidateNested() @Type(() => DocumentRef) document!: DocumentRef;
  @Matches(DATE_ONLY, { message: 'expiresOn must be a date (YYYY-MM-DD)' }) expiresOn!: string;
  @IsOptional() @IsUrl({ require_protocol: true, protocols: ['https'] }) renewalUrl?: string;
  @IsOptional() @IsString() @MaxLength(200) office?: string;
  /** Extra template fields the agency wants rendered (named parameters). */
  @IsOptional() @IsObject() fields?: Record<string, string>;
}

export class DocumentRenewedV1 extends TenantScoped {
  @ValidateNested() @Type(() => CitizenRef) citizen!: CitizenRef;
  @ValidateNested() @Type(() => DocumentRef) document!: DocumentRef;
  @IsOptional() @Matches(DATE_ONLY) newExpiresOn?: string;
}

export class DocumentCancelledV1 extends TenantScoped {
  @ValidateNested() @Type(() => CitizenRef) citizen!: CitizenRef;
  @ValidateNested() @Type(() => DocumentRef) document!: DocumentRef;
  @IsOptional() @IsString() @MaxLength(500) reason?: string;
}

export class DocumentExpiryChangedV1 extends DocumentExpiringV1 {}

export class PaymentDueV1 extends TenantScoped {
  @ValidateNested() @Type(() => CitizenRef) citizen!: CitizenRef;
  @IsString() @Length(1, 128) reference!: string;
  @IsNumberString() amount!: string;
  @Matches(/^[A-Z]{3}$/) currency!: string;
  @Matches(DATE_ONLY) dueOn!: string;
  @IsOptional() @IsUrl({ require_protocol: true, protocols: ['https'] }) paymentUrl?: string;
  @IsOptional() @IsObject() fields?: Record<string, string>;
}

export class PaymentReceivedV1 extends TenantScoped {
  @ValidateNested() @Type(() => CitizenRef) citizen!: CitizenRef;
  @IsString() @Length(1, 128) reference!: string;
  @IsNumberString() amount!: string;
  @Matches(/^[A-Z]{3}$/) currency!: string;
  @IsISO8601() receivedAt!: string;
}

export class DocumentsReadyV1 extends TenantScoped {
  @ValidateNested() @Type(() => CitizenRef) citizen!: CitizenRef;
  @IsString() @Length(1, 128) reference!: string;
  @IsIn(['collection', 'delivery']) mode!: 'collection' | 'delivery';
  @IsOptional() @IsString() @MaxLength(300) location?: string;
  @IsOptional() @Matches(DATE_ONLY) availableUntil?: string;
}

export class ApplicationReceivedV1 extends TenantScoped {
  @ValidateNested() @Type(() => CitizenRef) citizen!: CitizenRef;
  @IsString() @Length(1, 128) reference!: string;
  @IsString() @MaxLength(200) applicationType!: string;
  @IsISO8601() receivedAt!: string;
}

export const NOTIFICATION_OUTCOMES = [
  'scheduled',
  'sent',
  'delivered',
  'read',
  'failed',
  'not_on_whatsapp',
  'opted_out',
  'no_approved_template',
  'expired_before_sending',
  'cancelled',
] as const;

export class NotificationOutcomeV1 extends TenantScoped {
  @IsString() noticeId!: string;
  /** The ce_id of the agency event that caused this notice. */
  @IsString() sourceEventId!: string;
  @IsString() subjectId!: string;
  @IsOptional() @IsString() documentId?: string;
  @IsString() noticeType!: string;
  @IsIn(NOTIFICATION_OUTCOMES as unknown as string[]) outcome!: string;
  @IsOptional() @IsString() errorCode?: string;
  @IsOptional() @IsString() @MaxLength(1000) detail?: string;
  @IsISO8601() occurredAt!: string;
}

export class AgencyCaseV1 extends TenantScoped {
  @IsString() caseId!: string;
  @IsString() @MaxLength(100) caseType!: string;
  @IsString() subjectWaId!: string;
  @IsObject() fields!: Record<string, unknown>;
  @IsOptional() @IsString() conversationId?: string;
  @IsISO8601() openedAt!: string;
}
