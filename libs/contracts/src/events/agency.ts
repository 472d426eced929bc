import { Type } from 'class-transformer';
import {
  IsIn,
  IsISO4217CurrencyCode,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  MaxLength,
  Min,
  registerDecorator,
  ValidateNested,
  type ValidationOptions,
} from 'class-validator';
import { ContactRef, LANGUAGE_CODE, TenantScoped } from './common';

/*
 * The agency event contract: what agency back-office systems publish on `agency.event.v1`
 * (CloudEvents binary mode, one `ce_type` per class below), and the outcome the platform reports
 * back on `agency.notification.outcome.v1`. Documented for agency developers in
 * docs/agency-events.md. Every field is validated: a record that fails goes to the scheduler's DLQ
 * with the list of problems, and the agency can republish a corrected one.
 */

const E164 = /^\+[1-9]\d{6,14}$/;
/** Free text that ends up in a template parameter: Meta refuses new lines and tabs there. */
const ONE_LINE = /^[^\n\r\t]*$/;
const FIELD_KEY = /^(header\.)?([a-z][a-z0-9_]{0,63}|[1-9]\d{0,2})$/;
const BUTTON_KEY = /^\d$/;
const DECIMAL = /^\d{1,15}(\.\d{1,4})?$/;

/** A real calendar day as YYYY-MM-DD (2027-02-29 is refused, 2028-02-29 accepted). */
export function isCalendarDate(value: unknown): value is string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const [y, m, d] = value.split('-').map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  return y >= 1900 && date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

export function IsCalendarDate(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isCalendarDate',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: `${String(propertyName)} must be a calendar date (YYYY-MM-DD)`, ...options },
      validator: { validate: (value: unknown) => isCalendarDate(value) },
    });
}

const zoneChecks = new Map<string, boolean>();
/**
 * An IANA zone name Intl accepts. Memoized: building an Intl.DateTimeFormat costs ~100 µs, which
 * at thousands of events per second is most of the validation time (class-validator's IsTimeZone
 * builds one per call).
 */
export function isIanaTimeZone(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) return false;
  let known = zoneChecks.get(value);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: value });
      known = true;
    } catch {
      known = false;
    }
    if (zoneChecks.size > 5000) zoneChecks.clear();
    zoneChecks.set(value, known);
  }
  return known;
}

export function IsIanaTimeZone(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isIanaTimeZone',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: `${String(propertyName)} must be an IANA time zone such as Europe/Madrid`, ...options },
      validator: { validate: (value: unknown) => isIanaTimeZone(value) },
    });
}

/**
 * An absolute https URL with a host name, parsed by the WHATWG URL parser (as browsers do);
 * ~10x cheaper than class-validator's IsUrl, which matters at thousands of events per second.
 */
export function isHttpsUrl(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 2000 || /\s/.test(value)) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.hostname.includes('.') && !url.username && !url.password;
  } catch {
    return false;
  }
}

export function IsHttpsUrl(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isHttpsUrl',
      target: target.constructor,
      propertyName: String(propertyName),
      options: { message: `${String(propertyName)} must be an https URL`, ...options },
      validator: { validate: (value: unknown) => isHttpsUrl(value) },
    });
}

/**
 * A flat map of strings with bounded keys, values and size: the extra template values an agency
 * sends. Checked here so a bad map is refused at the edge instead of failing a send weeks later.
 */
export function IsStringMap(keyPattern: RegExp, maxKeys: number, maxValueLength: number, options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isStringMap',
      target: target.constructor,
      propertyName: String(propertyName),
      options: {
        message: `${String(propertyName)} must be an object of at most ${maxKeys} one-line strings (≤ ${maxValueLength} characters) with keys matching ${keyPattern}`,
        ...options,
      },
      validator: {
        validate(value: unknown) {
          if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
          const entries = Object.entries(value);
          return (
            entries.length <= maxKeys &&
            entries.every(([k, v]) => keyPattern.test(k) && typeof v === 'string' && v.length <= maxValueLength && ONE_LINE.test(v))
          );
        },
      },
    });
}

export const AGENCY_CONSENT_CATEGORIES = ['utility', 'marketing', 'all'] as const;

/**
 * A choice the citizen made with the agency (a box ticked on a web form, a signed paper form):
 * recorded as `citizen.consent.v1` with the event's id as evidence, exactly like a STOP or START
 * sent on WhatsApp, and the newest choice wins whichever way it came.
 */
export class AgencyConsent {
  @IsIn(['opted_in', 'opted_out']) state!: 'opted_in' | 'opted_out';
  /** `utility` covers the notices; `all` also lifts or sets every other category. */
  @IsIn(AGENCY_CONSENT_CATEGORIES as unknown as string[]) category!: (typeof AGENCY_CONSENT_CATEGORIES)[number];
  /** When the citizen made the choice (not when the event was sent). */
  @IsISO8601({ strict: true }) capturedAt!: string;
  /** Where: `web`, `paper`, `counter`, `phone`, `sms` ... */
  @IsString()
  @Length(1, 64)
  @Matches(/^[a-z0-9_-]+$/, { message: 'citizen.consent.channel must be a lowercase word such as web or paper' })
  channel!: string;
  /** The words the citizen agreed to, as shown to them. */
  @IsOptional() @IsString() @MaxLength(2000) wording?: string;
  /** The agency's own record of the choice (form id, case number), kept with the evidence. */
  @IsOptional() @IsString() @Length(1, 128) reference?: string;
}

/** The citizen an agency event is about. The agency's own id for them is `subjectId`. */
export class CitizenRef {
  @IsString() @Length(1, 128) subjectId!: string;
  @Matches(E164, { message: 'citizen.whatsapp must be E.164 with a leading +' }) whatsapp!: string;
  /** Meta's template language code (`es`, `en`, `pt_BR`, `ar`); the tenant's default when absent. */
  @IsOptional() @Matches(LANGUAGE_CODE, { message: 'citizen.preferredLanguage must look like es, en or pt_BR' }) preferredLanguage?: string;
  /** As the citizen should be greeted (`first_name` in templates). */
  @IsOptional() @IsString() @Length(1, 200) @Matches(ONE_LINE, { message: 'citizen.name must be one line' }) name?: string;
  /** IANA zone (`Europe/Madrid`), overriding the tenant's for quiet hours and send times. */
  @IsOptional() @IsIanaTimeZone({ message: 'citizen.timeZone must be an IANA time zone such as Europe/Madrid' }) timeZone?: string;
  /** An opt-in or opt-out the citizen gave the agency, recorded with this event as evidence. */
  @IsOptional() @ValidateNested() @Type(() => AgencyConsent) consent?: AgencyConsent;
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
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

export class DocumentRef {
  /** The agency's id of this document; stable across renewals and date changes. */
  @IsString() @Length(1, 128) documentId!: string;
  @IsIn(DOCUMENT_TYPES as unknown as string[]) documentType!: DocumentType;
  /** Shown instead of the standard name of the type (e.g. "heavy goods vehicle licence"). */
  @IsOptional() @IsString() @Length(1, 100) @Matches(ONE_LINE) label?: string;
}

/** Extra template values shared by every event that can lead to a notice. */
abstract class NoticeValues extends TenantScoped {
  @ValidateNested() @Type(() => CitizenRef) citizen!: CitizenRef;
  /**
   * Named (`office_hours`) or positional (`1`) template parameters, header ones as `header.<name>`;
   * they override the values the scheduler derives from the event.
   */
  @IsOptional() @IsStringMap(FIELD_KEY, 30, 1024) fields?: Record<string, string>;
  /** Button values by 0-based button index: URL suffix, quick-reply payload or copy code. */
  @IsOptional() @IsStringMap(BUTTON_KEY, 10, 2000) buttons?: Record<string, string>;
}

export class DocumentExpiringV1 extends NoticeValues {
  @ValidateNested() @Type(() => DocumentRef) document!: DocumentRef;
  /** Last day the document is valid, in the citizen's calendar. */
  @IsCalendarDate() expiresOn!: string;
  @IsOptional() @IsHttpsUrl() renewalUrl?: string;
  @IsOptional() @IsString() @Length(1, 200) @Matches(ONE_LINE) office?: string;
}

export class DocumentRenewedV1 extends TenantScoped {
  @ValidateNested() @Type(() => CitizenRef) citizen!: CitizenRef;
  @ValidateNested() @Type(() => DocumentRef) document!: DocumentRef;
  /** The renewed document's expiry: reminders are planned for it, as for an expiring event. */
  @IsOptional() @IsCalendarDate() newExpiresOn?: string;
  @IsOptional() @IsCalendarDate() renewedOn?: string;
}

export class DocumentCancelledV1 extends TenantScoped {
  @ValidateNested() @Type(() => CitizenRef) citizen!: CitizenRef;
  @ValidateNested() @Type(() => DocumentRef) document!: DocumentRef;
  @IsOptional() @IsString() @MaxLength(500) reason?: string;
}

/** The expiry date moved (a correction or an extension): pending reminders are replanned. */
export class DocumentExpiryChangedV1 extends DocumentExpiringV1 {
  @IsOptional() @IsCalendarDate() previousExpiresOn?: string;
}

export class PaymentDueV1 extends NoticeValues {
  /** The agency's payment reference; stable across reminders and the payment itself. */
  @IsString() @Length(1, 128) reference!: string;
  /** Decimal string in major units (`125.50`): never a float. */
  @Matches(DECIMAL, { message: 'amount must be a decimal string such as 125.50' }) amount!: string;
  @IsISO4217CurrencyCode({ message: 'currency must be an ISO 4217 code such as COP or AED' }) currency!: string;
  @IsCalendarDate() dueOn!: string;
  @IsOptional() @IsString() @Length(1, 200) @Matches(ONE_LINE) description?: string;
  @IsOptional()
  @IsHttpsUrl()
  paymentUrl?: string;
}

export class PaymentReceivedV1 extends NoticeValues {
  @IsString() @Length(1, 128) reference!: string;
  @Matches(DECIMAL, { message: 'amount must be a decimal string such as 125.50' }) amount!: string;
  @IsISO4217CurrencyCode({ message: 'currency must be an ISO 4217 code such as COP or AED' }) currency!: string;
  @IsISO8601({ strict: true }) receivedAt!: string;
}

export class DocumentsReadyV1 extends NoticeValues {
  @IsString() @Length(1, 128) reference!: string;
  @IsIn(['collection', 'delivery']) mode!: 'collection' | 'delivery';
  /** The document that is ready, when it is one the agency tracks. */
  @IsOptional() @ValidateNested() @Type(() => DocumentRef) document?: DocumentRef;
  /** Office for collection, or delivery address summary. */
  @IsOptional() @IsString() @Length(1, 300) @Matches(ONE_LINE) location?: string;
  /** Last day to collect. */
  @IsOptional() @IsCalendarDate() availableUntil?: string;
}

export class ApplicationReceivedV1 extends NoticeValues {
  @IsString() @Length(1, 128) reference!: string;
  @IsString() @Length(1, 200) @Matches(ONE_LINE) applicationType!: string;
  @IsISO8601({ strict: true }) receivedAt!: string;
}

/** What the scheduler can send; each has its own template and timing policy per tenant. */
export const NOTICE_TYPES = ['document_expiry', 'payment_due', 'payment_received', 'documents_ready', 'application_received'] as const;
export type NoticeType = (typeof NOTICE_TYPES)[number];

/**
 * A notice's life. Published on the outcome topic: sent, delivered, read, failed,
 * not_on_whatsapp, opted_out, no_approved_template, invalid_parameters, expired_before_sending.
 * `scheduled` and `cancelled` are states the plan API shows (the agency caused the cancellation).
 */
export const NOTIFICATION_OUTCOMES = [
  'scheduled',
  'sent',
  'delivered',
  'read',
  'failed',
  'not_on_whatsapp',
  'opted_out',
  'no_approved_template',
  'invalid_parameters',
  'expired_before_sending',
  'cancelled',
] as const;
export type NotificationOutcome = (typeof NOTIFICATION_OUTCOMES)[number];

export class NotificationOutcomeV1 extends TenantScoped {
  @IsUUID() noticeId!: string;
  /** The ce_id of the agency event that planned this notice. */
  @IsString() @MaxLength(256) sourceEventId!: string;
  @IsString() @Length(1, 128) subjectId!: string;
  @IsOptional() @IsString() @Length(1, 128) documentId?: string;
  /** Payment, collection or application reference, for notices about those. */
  @IsOptional() @IsString() @Length(1, 128) reference?: string;
  @IsIn(NOTICE_TYPES as unknown as string[]) noticeType!: NoticeType;
  /** Which reminder: the offset before the date (`P6W`, `P7D`) or `now` for immediate notices. */
  @IsOptional() @IsString() @MaxLength(32) slot?: string;
  @IsIn(NOTIFICATION_OUTCOMES as unknown as string[]) outcome!: NotificationOutcome;
  /** failed: the Cloud API error code (`131049`) or the gateway's reason code. */
  @IsOptional() @IsString() @MaxLength(64) errorCode?: string;
  @IsOptional() @IsString() @MaxLength(1000) detail?: string;
  @IsOptional() @IsString() @MaxLength(512) templateName?: string;
  @IsOptional() @Matches(LANGUAGE_CODE) language?: string;
  @IsOptional() @IsString() @MaxLength(256) wamid?: string;
  @IsISO8601() occurredAt!: string;
}

/**
 * A case the chatbot collected (a problem report, a form), for the agency's case system. The
 * citizen got `reference` in the chat; `fields` holds the flow's saved values (media as durable
 * `media:<tenant>/<id>` references served by the ingress's media API, locations as
 * `{ latitude, longitude, name?, address? }`).
 */
export class AgencyCaseV1 extends TenantScoped {
  /** Unique per tenant; stable for a given reference. */
  @IsString() caseId!: string;
  @IsString() @MaxLength(100) caseType!: string;
  /** The citizen's wa_id (or their citizen key when they are known only by a business-scoped id). */
  @IsString() subjectWaId!: string;
  @IsObject() fields!: Record<string, unknown>;
  @IsOptional() @IsString() conversationId?: string;
  @IsISO8601() openedAt!: string;
  /** The readable reference the citizen was given (`RD-2026-000123`). */
  @IsOptional() @IsString() @MaxLength(64) reference?: string;
  /** `citizenKey(contact)`, as on every citizen topic. */
  @IsOptional() @IsString() @MaxLength(300) citizenKey?: string;
  @IsOptional() @ValidateNested() @Type(() => ContactRef) contact?: ContactRef;
  /** The language the citizen used. */
  @IsOptional() @Matches(LANGUAGE_CODE) language?: string;
  /** The flow and version that collected it. */
  @IsOptional() @IsString() @MaxLength(64) flow?: string;
  @IsOptional() @IsInt() @Min(1) flowVersion?: number;
  /** The citizen's message (wamid) that completed the case. */
  @IsOptional() @IsString() @MaxLength(256) sourceMessageId?: string;
}
