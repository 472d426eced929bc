import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { plainToInstance, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateNested,
  validateSync,
  type ValidationError,
} from 'class-validator';
import { NOTICE_TYPES, type NoticeType } from '@wa/contracts';
import { OFFSET_PATTERN } from '../planning/offsets';

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
const TEMPLATE_NAME = /^[a-z0-9_]{1,512}$/;

export class QuietHoursPolicy {
  /** Sending is allowed from `start` (inclusive) to `end` (exclusive), citizen's local time. */
  @ApiProperty({ example: '08:00' }) @Matches(HHMM, { message: 'quietHours.start must be HH:MM' }) start!: string;
  @ApiProperty({ example: '20:00' }) @Matches(HHMM, { message: 'quietHours.end must be HH:MM' }) end!: string;
}

/** How one notice type is sent for a tenant. */
export class NoticeTypePolicy {
  @ApiPropertyOptional({ default: true }) @IsOptional() @IsBoolean() enabled?: boolean;
  /** The template (name in the registry); the language is chosen per citizen at send time. */
  @ApiPropertyOptional({ example: 'document_expiring' })
  @IsOptional()
  @Matches(TEMPLATE_NAME, { message: 'template must be a template name (a-z, 0-9, _)' })
  template?: string;
  /** Reminders before the notice's date (expiry, due date, collection deadline), e.g. ["P6W", "P1W"]. */
  @ApiPropertyOptional({ example: ['P6W', 'P1W'], type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @ArrayUnique()
  @Matches(OFFSET_PATTERN, { each: true, message: 'offsets must be durations like P6W, P7D, P1M or P0D' })
  offsets?: string[];
  /** Local time reminders are planned for (before quiet hours apply). */
  @ApiPropertyOptional({ example: '10:00' }) @IsOptional() @Matches(HHMM, { message: 'sendTime must be HH:MM' }) sendTime?: string;
  /** Immediate notices (receipts, documents ready) give up after this long unsent. */
  @ApiPropertyOptional({ example: 72 }) @IsOptional() @IsInt() @Min(1) @Max(24 * 30) expireAfterHours?: number;
  /**
   * Template parameter → value name, for templates whose variables are not named like the
   * scheduler's values (positional templates: { "1": "first_name", "2": "expiry_date" }).
   */
  @ApiPropertyOptional({ example: { '1': 'first_name', '2': 'expiry_date' } })
  @IsOptional()
  @IsObject()
  parameterMap?: Record<string, string>;
}

export class NoticePolicies {
  @IsOptional() @ValidateNested() @Type(() => NoticeTypePolicy) document_expiry?: NoticeTypePolicy;
  @IsOptional() @ValidateNested() @Type(() => NoticeTypePolicy) payment_due?: NoticeTypePolicy;
  @IsOptional() @ValidateNested() @Type(() => NoticeTypePolicy) payment_received?: NoticeTypePolicy;
  @IsOptional() @ValidateNested() @Type(() => NoticeTypePolicy) documents_ready?: NoticeTypePolicy;
  @IsOptional() @ValidateNested() @Type(() => NoticeTypePolicy) application_received?: NoticeTypePolicy;
}

/** A tenant's scheduling policy as stored and edited; every field optional (defaults fill in). */
export class SchedulerPolicyInput {
  /** Overrides the tenant file's quiet hours. */
  @ApiPropertyOptional({ type: QuietHoursPolicy })
  @IsOptional()
  @ValidateNested()
  @Type(() => QuietHoursPolicy)
  quietHours?: QuietHoursPolicy;
  /** Notices one citizen may get per local day; more wait for the next day. */
  @ApiPropertyOptional({ example: 3 }) @IsOptional() @IsInt() @Min(1) @Max(100) dailyLimitPerCitizen?: number;
  @ApiPropertyOptional({ example: '10:00' }) @IsOptional() @Matches(HHMM, { message: 'sendTime must be HH:MM' }) sendTime?: string;
  @ApiPropertyOptional({ type: NoticePolicies }) @IsOptional() @ValidateNested() @Type(() => NoticePolicies) notices?: NoticePolicies;
}

/**
 * The policy as the API reads and writes it: the editable fields (SchedulerPolicyInput) with every
 * value resolved, plus read-only facts. A GET's body can be edited and PUT back as it is: the
 * read-only fields may be sent back, must then be unchanged (they come from the tenant file), and
 * `version` is the optimistic-concurrency check when the query gives none.
 */
export class SchedulerPolicyDocument extends SchedulerPolicyInput {
  @ApiPropertyOptional({ readOnly: true }) @IsOptional() @IsString() tenantId?: string;
  /** From the tenant file. */
  @ApiPropertyOptional({ readOnly: true, example: 'America/Bogota' }) @IsOptional() @IsString() timeZone?: string;
  @ApiPropertyOptional({ readOnly: true, example: 'es' }) @IsOptional() @IsString() defaultLanguage?: string;
  @ApiPropertyOptional({ readOnly: true, example: { pt_BR: ['pt_BR', 'es', 'en'] } })
  @IsOptional()
  @IsObject()
  languageFallbacks?: Record<string, string[]>;
  /** Where the editable part comes from; an accepted PUT makes it `admin`. */
  @ApiPropertyOptional({ readOnly: true, enum: ['default', 'config', 'admin'] })
  @IsOptional()
  @IsIn(['default', 'config', 'admin'])
  source?: 'default' | 'config' | 'admin';
  /** 0 while no admin edit is stored. Sent back, a PUT is refused (409) if the policy changed meanwhile. */
  @ApiPropertyOptional({ example: 1 }) @IsOptional() @IsInt() @Min(0) version?: number;
}

const READ_ONLY = ['tenantId', 'timeZone', 'defaultLanguage', 'languageFallbacks'] as const;

/**
 * The API's view of an effective policy: what GET returns and PUT takes. A notice's `sendTime`
 * shows only where it differs from the policy's, so editing the policy's `sendTime` and putting
 * the document back moves every notice that does not set its own.
 */
export function policyDocument(policy: EffectivePolicy): SchedulerPolicyDocument {
  const notices = {} as Record<NoticeType, NoticeTypePolicy>;
  for (const type of NOTICE_TYPES) {
    const { sendTime, ...rest } = policy.notices[type];
    notices[type] = sendTime === policy.sendTime ? { ...rest } : { ...rest, sendTime };
  }
  return {
    tenantId: policy.tenantId,
    timeZone: policy.timeZone,
    defaultLanguage: policy.defaultLanguage,
    languageFallbacks: policy.languageFallbacks,
    quietHours: { ...policy.quietHours },
    dailyLimitPerCitizen: policy.dailyLimitPerCitizen,
    sendTime: policy.sendTime,
    notices,
    source: policy.source,
    version: policy.version,
  };
}

/**
 * Splits a PUT body into the policy to store and the concurrency check; a changed read-only field
 * is a problem named in `errors` (it would otherwise be silently ignored).
 */
export function editedPolicy(
  plain: unknown,
  current: EffectivePolicy,
): { input: Record<string, unknown>; expectedVersion?: number; errors: string[] } {
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) return { input: {}, errors: ['policy must be an object'] };
  const { source: _source, version, ...rest } = plain as Record<string, unknown>;
  const input: Record<string, unknown> = { ...rest };
  const errors: string[] = [];
  for (const field of READ_ONLY) {
    if (!(field in input)) continue;
    if (JSON.stringify(input[field]) !== JSON.stringify(current[field])) {
      errors.push(
        `${field}: read-only (${field === 'tenantId' ? 'the token’s tenant' : 'set in the tenant file'}); send it unchanged or leave it out`,
      );
    }
    delete input[field];
  }
  return { input, expectedVersion: typeof version === 'number' ? version : undefined, errors };
}

export interface EffectiveNoticePolicy {
  enabled: boolean;
  template: string;
  offsets: string[];
  sendTime: string;
  expireAfterHours: number;
  parameterMap: Record<string, string>;
}

/** What planning and sending use: every value resolved. */
export interface EffectivePolicy {
  tenantId: string;
  timeZone: string;
  quietHours: { start: string; end: string };
  dailyLimitPerCitizen: number;
  /** The policy's send time; each notice's own is in `notices`. */
  sendTime: string;
  defaultLanguage: string;
  languageFallbacks: Record<string, string[]>;
  notices: Record<NoticeType, EffectiveNoticePolicy>;
  /** Where the editable part came from. */
  source: 'default' | 'config' | 'admin';
  version: number;
}

/**
 * Built-in defaults: 6 weeks and 1 week before an expiry, 3 days before and on a due date. The
 * templates are the registry's starter catalog (services/template-registry/starter), so a tenant
 * without a policy of its own sends what the registry loads for it (policy-templates.spec.ts).
 */
export const DEFAULT_NOTICES: Record<NoticeType, EffectiveNoticePolicy> = {
  document_expiry: {
    enabled: true,
    template: 'document_expiring',
    offsets: ['P6W', 'P1W'],
    sendTime: '',
    expireAfterHours: 72,
    parameterMap: {},
  },
  payment_due: {
    enabled: true,
    template: 'payment_due',
    offsets: ['P3D', 'P0D'],
    sendTime: '',
    expireAfterHours: 72,
    parameterMap: {},
  },
  payment_received: { enabled: true, template: 'payment_received', offsets: [], sendTime: '', expireAfterHours: 72, parameterMap: {} },
  documents_ready: {
    enabled: true,
    template: 'documents_ready_collection',
    offsets: [],
    sendTime: '',
    expireAfterHours: 72,
    parameterMap: {},
  },
  application_received: {
    enabled: true,
    template: 'document_received',
    offsets: [],
    sendTime: '',
    expireAfterHours: 72,
    parameterMap: {},
  },
};
export const DEFAULT_SEND_TIME = '10:00';
export const DEFAULT_DAILY_LIMIT = 3;

function flatten(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((e) => {
    const path = prefix ? `${prefix}.${e.property}` : e.property;
    return [...Object.values(e.constraints ?? {}).map((m) => `${path}: ${m}`), ...flatten(e.children ?? [], path)];
  });
}

/** Validates a policy document (config file entry or stored row); returns it or every problem. */
export function parsePolicyInput(plain: unknown): { value?: SchedulerPolicyInput; errors: string[] } {
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) return { errors: ['policy must be an object'] };
  const value = plainToInstance(SchedulerPolicyInput, plain);
  const errors = flatten(validateSync(value, { whitelist: true, forbidNonWhitelisted: true }));
  for (const [type, notice] of Object.entries(value.notices ?? {})) {
    for (const [key, target] of Object.entries((notice as NoticeTypePolicy | undefined)?.parameterMap ?? {})) {
      if (
        typeof target !== 'string' ||
        !/^[a-z][a-z0-9_]{0,63}$/.test(target) ||
        !/^(header\.)?([a-z][a-z0-9_]{0,63}|[1-9]\d{0,2})$/.test(key)
      ) {
        errors.push(`notices.${type}.parameterMap.${key}: must map a template parameter to a value name`);
      }
    }
  }
  return errors.length ? { errors } : { value, errors };
}

export interface TenantDefaults {
  id: string;
  timeZone: string;
  quietHours: { start: string; end: string };
  defaultLanguage: string;
  languageFallbacks?: Record<string, string[]>;
}

/** Built-in defaults, then the tenant file, then the stored (config or admin) policy. */
export function resolvePolicy(
  tenant: TenantDefaults,
  input: SchedulerPolicyInput | undefined,
  source: EffectivePolicy['source'],
  version = 0,
): EffectivePolicy {
  const sendTime = input?.sendTime ?? DEFAULT_SEND_TIME;
  const notices = {} as Record<NoticeType, EffectiveNoticePolicy>;
  for (const type of NOTICE_TYPES) {
    const base = DEFAULT_NOTICES[type];
    const own = input?.notices?.[type];
    notices[type] = {
      enabled: own?.enabled ?? base.enabled,
      template: own?.template ?? base.template,
      offsets: own?.offsets ?? base.offsets,
      sendTime: own?.sendTime ?? sendTime,
      expireAfterHours: own?.expireAfterHours ?? base.expireAfterHours,
      parameterMap: own?.parameterMap ?? base.parameterMap,
    };
  }
  return {
    tenantId: tenant.id,
    timeZone: tenant.timeZone,
    quietHours: input?.quietHours ? { start: input.quietHours.start, end: input.quietHours.end } : { ...tenant.quietHours },
    dailyLimitPerCitizen: input?.dailyLimitPerCitizen ?? DEFAULT_DAILY_LIMIT,
    sendTime,
    defaultLanguage: tenant.defaultLanguage,
    languageFallbacks: tenant.languageFallbacks ?? {},
    notices,
    source,
    version,
  };
}
