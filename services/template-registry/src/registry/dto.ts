import { ApiProperty, ApiPropertyOptional, type ApiPropertyOptions } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  Allow,
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { LANGUAGE_CODE, TEMPLATE_STATUSES } from '@wa/contracts';

const COMPONENTS_DOC: ApiPropertyOptions = {
  description:
    "Meta's component objects, exactly as in the management API: one BODY (required), optional HEADER (TEXT/IMAGE/VIDEO/DOCUMENT/LOCATION), FOOTER and BUTTONS (QUICK_REPLY, URL, PHONE_NUMBER, COPY_CODE). Variables need examples. The rules are checked with precise errors (see docs/templates.md).",
  type: 'array',
  items: { type: 'object', additionalProperties: true },
  example: [
    {
      type: 'BODY',
      text: 'Hello {{first_name}}, your {{document_type}} expires on {{expiry_date}}. You can renew it online or at any office.',
      example: {
        body_text_named_params: [
          { param_name: 'first_name', example: 'Ana' },
          { param_name: 'document_type', example: 'driving licence' },
          { param_name: 'expiry_date', example: '12 March 2026' },
        ],
      },
    },
    { type: 'BUTTONS', buttons: [{ type: 'QUICK_REPLY', text: 'How to renew' }] },
  ],
};

/** Shape only; WhatsApp's rules are checked by @wa/templates with per-field errors. */
export class TranslationInput {
  @ApiProperty({ example: 'en', description: 'Meta language code, exactly: ll or ll_CC (en, en_US, pt_BR, ar)' })
  @Matches(LANGUAGE_CODE, { message: 'language must be ll or ll_CC, e.g. en, pt_BR' })
  language!: string;

  @ApiProperty(COMPONENTS_DOC)
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(4)
  @IsObject({ each: true })
  components!: Record<string, unknown>[];
}

export class CreateTemplateRequest {
  @ApiProperty({ example: 'document_expiring', description: 'lowercase letters, digits, underscores; ≤ 512' })
  @Matches(/^[a-z0-9_]{1,512}$/, { message: 'name may contain only lowercase letters, digits and underscores (≤ 512)' })
  name!: string;

  @ApiProperty({ enum: ['UTILITY', 'MARKETING', 'AUTHENTICATION'] })
  @IsIn(['UTILITY', 'MARKETING', 'AUTHENTICATION'])
  category!: string;

  @ApiPropertyOptional({ enum: ['named', 'positional'], default: 'positional' })
  @IsOptional()
  @IsIn(['named', 'positional'])
  parameterFormat?: 'named' | 'positional';

  @ApiProperty({ type: [TranslationInput] })
  @IsArray()
  @ArrayMinSize(1)
  @ValidateNested({ each: true })
  @Type(() => TranslationInput)
  translations!: TranslationInput[];

  @ApiPropertyOptional({ default: true, description: 'Queue every translation for submission to Meta (false keeps drafts)' })
  @IsOptional()
  @IsBoolean()
  submit?: boolean;
}

export class PutTranslationRequest {
  @ApiPropertyOptional({ enum: ['UTILITY', 'MARKETING', 'AUTHENTICATION'], description: 'Defaults to the template’s category' })
  @IsOptional()
  @IsIn(['UTILITY', 'MARKETING', 'AUTHENTICATION'])
  category?: string;

  @ApiPropertyOptional({ enum: ['named', 'positional'], description: 'Defaults to the other translations’ format' })
  @IsOptional()
  @IsIn(['named', 'positional'])
  parameterFormat?: 'named' | 'positional';

  @ApiProperty(COMPONENTS_DOC)
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(4)
  @IsObject({ each: true })
  components!: Record<string, unknown>[];

  @ApiPropertyOptional({ default: true, description: 'Queue the new version for submission (edit at Meta if it is there)' })
  @IsOptional()
  @IsBoolean()
  submit?: boolean;

  /**
   * The version the edit starts from (a GET's `version`): refused with 409 when the translation
   * has moved on since. Left out, the edit applies to whatever is stored.
   */
  @ApiPropertyOptional({ description: 'The version this edit starts from (409 if the translation changed meanwhile)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  version?: number;

  /** Must name the translation of the path when given (a GET's body carries it). */
  @ApiPropertyOptional({ example: 'pt_BR' })
  @IsOptional()
  @Matches(LANGUAGE_CODE, { message: 'language must be ll or ll_CC, e.g. en, pt_BR' })
  language?: string;

  // What a GET of the translation shows besides its content: accepted back (so a read body can be
  // edited and put as it is) and ignored, since Meta and the registry set them.
  @ApiPropertyOptional({ readOnly: true }) @Allow() status?: unknown;
  @ApiPropertyOptional({ readOnly: true }) @Allow() liveVersion?: unknown;
  @ApiPropertyOptional({ readOnly: true }) @Allow() reason?: unknown;
  @ApiPropertyOptional({ readOnly: true }) @Allow() reasonDetail?: unknown;
  @ApiPropertyOptional({ readOnly: true }) @Allow() qualityScore?: unknown;
  @ApiPropertyOptional({ readOnly: true }) @Allow() metaTemplateId?: unknown;
  @ApiPropertyOptional({ readOnly: true }) @Allow() submission?: unknown;
  @ApiPropertyOptional({ readOnly: true }) @Allow() parameters?: unknown;
  @ApiPropertyOptional({ readOnly: true }) @Allow() source?: unknown;
  @ApiPropertyOptional({ readOnly: true }) @Allow() statusChangedAt?: unknown;
  @ApiPropertyOptional({ readOnly: true }) @Allow() updatedAt?: unknown;
  @ApiPropertyOptional({ readOnly: true }) @Allow() updatedBy?: unknown;
}

export class ValidateTemplateRequest extends CreateTemplateRequest {}

class HeaderMediaInput {
  @ApiProperty({ enum: ['image', 'video', 'document'] }) @IsIn(['image', 'video', 'document']) type!: 'image' | 'video' | 'document';
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(512) id?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(2000) link?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(240) filename?: string;
}

class HeaderLocationInput {
  @ApiProperty() @IsNumber() latitude!: number;
  @ApiProperty() @IsNumber() longitude!: number;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1000) name?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1000) address?: string;
}

export class PreviewRequest {
  @ApiPropertyOptional({
    description: 'Body variables by name or position; header variables as header.<name>. Missing ones show the examples.',
    example: { first_name: 'Ana', expiry_date: '12 March 2026' },
  })
  @IsOptional()
  @IsObject()
  parameters?: Record<string, string>;

  @ApiPropertyOptional({ type: HeaderMediaInput })
  @IsOptional()
  @ValidateNested()
  @Type(() => HeaderMediaInput)
  headerMedia?: HeaderMediaInput;

  @ApiPropertyOptional({ type: HeaderLocationInput })
  @IsOptional()
  @ValidateNested()
  @Type(() => HeaderLocationInput)
  headerLocation?: HeaderLocationInput;

  @ApiPropertyOptional({ description: 'By button index: URL suffix, quick-reply payload or copy code', example: { '2': 'ab12' } })
  @IsOptional()
  @IsObject()
  buttonParameters?: Record<string, string>;
}

export class ListTemplatesQuery {
  @ApiPropertyOptional({ enum: TEMPLATE_STATUSES })
  @IsOptional()
  @IsIn(TEMPLATE_STATUSES as unknown as string[])
  status?: string;

  @ApiPropertyOptional({ example: 'pt_BR' })
  @IsOptional()
  @Matches(LANGUAGE_CODE)
  language?: string;

  @ApiPropertyOptional({ description: 'Names starting with this prefix' })
  @IsOptional()
  @Matches(/^[a-z0-9_]{1,512}$/)
  namePrefix?: string;
}

/* ---------- responses (documentation of the shapes the service returns) ---------- */

export class SubmissionView {
  @ApiProperty({ enum: ['none', 'queued', 'submitted', 'failed'] }) state!: string;
  @ApiProperty() attempts!: number;
  @ApiPropertyOptional({ type: String, format: 'date-time' }) nextAttemptAt?: string;
  @ApiPropertyOptional({ description: 'Why the last submission failed (Meta’s words when it said why)' }) lastError?: string;
}

export class TranslationView {
  @ApiProperty() language!: string;
  @ApiProperty({ enum: TEMPLATE_STATUSES }) status!: string;
  @ApiProperty() category!: string;
  @ApiProperty({ enum: ['named', 'positional'] }) parameterFormat!: string;
  @ApiProperty({ description: 'Latest version (what was last saved)' }) version!: number;
  @ApiPropertyOptional({ description: 'Version Meta has; what senders render' }) liveVersion?: number;
  @ApiPropertyOptional({ description: 'Rejection, pause or disable reason code (e.g. INVALID_FORMAT, FIRST_PAUSE)' }) reason?: string;
  @ApiPropertyOptional({ description: 'Meta’s explanation and recommendation, when given' }) reasonDetail?: string;
  @ApiPropertyOptional({ enum: ['GREEN', 'YELLOW', 'RED', 'UNKNOWN'] }) qualityScore?: string;
  @ApiPropertyOptional() metaTemplateId?: string;
  @ApiProperty({ type: SubmissionView }) submission!: SubmissionView;
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true } }) components!: Record<string, unknown>[];
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true } }) parameters!: Record<string, unknown>[];
  @ApiProperty({ enum: ['api', 'import', 'starter'] }) source!: string;
  @ApiProperty({ type: String, format: 'date-time' }) statusChangedAt!: string;
  @ApiProperty({ type: String, format: 'date-time' }) updatedAt!: string;
  @ApiProperty() updatedBy!: string;
}

export class TemplateView {
  @ApiProperty() name!: string;
  @ApiProperty({ type: [TranslationView] }) translations!: TranslationView[];
}

export class HistoryEntryView {
  @ApiProperty() kind!: string;
  @ApiPropertyOptional() from?: string;
  @ApiPropertyOptional() to?: string;
  @ApiPropertyOptional() reason?: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true }) detail?: Record<string, unknown>;
  @ApiProperty() actor!: string;
  @ApiProperty({ type: String, format: 'date-time' }) occurredAt!: string;
}

export class ImportResultView {
  @ApiProperty() pages!: number;
  @ApiProperty() seen!: number;
  @ApiProperty() imported!: number;
  @ApiProperty() updated!: number;
  @ApiProperty() unchanged!: number;
  @ApiProperty({ type: [String], description: 'Meta templates that could not be stored, with the reason' }) skipped!: string[];
}
