import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ContactRef, LANGUAGE_CODE } from '@wa/contracts';

const ID = /^[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}$/;

export class IdParam {
  @ApiProperty() @Matches(ID, { message: 'id must be 1-128 letters, digits, . _ @ : -' }) id!: string;
}

export class ListQuery {
  @ApiPropertyOptional({ enum: ['mine', 'all'] }) @IsOptional() @IsIn(['mine', 'all']) scope?: 'mine' | 'all';
  @ApiPropertyOptional({ enum: ['queued', 'assigned', 'survey', 'closed'] })
  @IsOptional()
  @IsIn(['queued', 'assigned', 'survey', 'closed'])
  state?: string;
  @ApiPropertyOptional() @IsOptional() @Matches(ID) department?: string;
  @ApiPropertyOptional() @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
}

export class MediaBody {
  @IsOptional() @Matches(/^https:\/\/\S+$/, { message: 'link must be an https URL' }) link?: string;
  @IsOptional() @IsString() @MaxLength(128) id?: string;
  @IsOptional() @IsString() @MaxLength(64) assetId?: string;
  @IsOptional() @IsString() @MaxLength(1024) caption?: string;
  @IsOptional() @IsString() @MaxLength(240) filename?: string;
}

export class TemplateBody {
  @Matches(/^[a-z0-9_]{1,512}$/) name!: string;
  @Matches(LANGUAGE_CODE) language!: string;
  @IsOptional() @IsObject() parameters?: Record<string, string>;
}

export class ReplyBody {
  @ApiProperty({ enum: ['text', 'image', 'document', 'video', 'audio', 'template'] })
  @IsIn(['text', 'image', 'document', 'video', 'audio', 'template'])
  kind!: 'text' | 'image' | 'document' | 'video' | 'audio' | 'template';
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(4096) text?: string;
  @ApiPropertyOptional() @IsOptional() @ValidateNested() @Type(() => MediaBody) media?: MediaBody;
  @ApiPropertyOptional() @IsOptional() @ValidateNested() @Type(() => TemplateBody) template?: TemplateBody;
  @ApiPropertyOptional({ description: 'Idempotency key: a retry with the same id is the same reply' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9._:-]{1,128}$/)
  clientMessageId?: string;
}

export class NoteBody {
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(4096) text!: string;
}

export class TransferBody {
  @ApiPropertyOptional() @IsOptional() @Matches(ID) department?: string;
  @ApiPropertyOptional() @IsOptional() @Matches(ID) agentId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1000) note?: string;
}

export class PresenceBody {
  @ApiPropertyOptional({ enum: ['online', 'away', 'offline'] }) @IsOptional() @IsIn(['online', 'away', 'offline']) presence?:
    | 'online'
    | 'away'
    | 'offline';
}

export class AgentBody {
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(200) name!: string;
  @ApiPropertyOptional({ enum: ['agent', 'supervisor'] }) @IsOptional() @IsIn(['agent', 'supervisor']) role?: 'agent' | 'supervisor';
  @ApiProperty() @IsArray() @ArrayMaxSize(50) @Matches(ID, { each: true }) departments!: string[];
  @ApiProperty() @IsArray() @ArrayMaxSize(20) @Matches(LANGUAGE_CODE, { each: true }) languages!: string[];
  @ApiProperty() @IsInt() @Min(0) @Max(100) capacity!: number;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() active?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsInt() version?: number;
}

export class DepartmentBody {
  @ApiProperty({ description: 'Name per language' }) @IsObject() names!: Record<string, string>;
  @ApiProperty() @IsInt() @Min(10) @Max(7 * 24 * 3600) slaSeconds!: number;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() widenLanguages?: boolean;
  @ApiPropertyOptional() @IsOptional() @IsArray() @Matches(ID, { each: true }) widenDepartments?: string[];
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(0) maxQueue?: number | null;
  @ApiPropertyOptional() @IsOptional() @IsInt() version?: number;
}

export class CannedParams {
  @Matches(ID) id!: string;
  @Matches(LANGUAGE_CODE) language!: string;
}

export class CannedBody {
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(100) title!: string;
  @ApiProperty() @IsString() @MinLength(1) @MaxLength(4096) text!: string;
}

export class LanguageQuery {
  @ApiPropertyOptional() @IsOptional() @Matches(LANGUAGE_CODE) language?: string;
}

export class SettingsBody {
  @ApiProperty() @IsInt() @Min(1) @Max(3650) retentionDays!: number;
  @ApiProperty() @IsBoolean() survey!: boolean;
  @ApiPropertyOptional() @IsOptional() @IsInt() version?: number;
}

export class DevSignInBody {
  @ApiProperty() @Matches(ID) agentId!: string;
  @ApiPropertyOptional() @IsOptional() @Matches(/^[a-z0-9][a-z0-9-]{1,62}$/) tenantId?: string;
}

export class DeflectionBody {
  @ApiProperty() @Matches(/^[A-Za-z0-9._:-]{1,128}$/) callId!: string;
  @ApiProperty({ type: Object }) @ValidateNested() @Type(() => ContactRef) contact!: ContactRef;
  @ApiProperty() @Matches(ID) department!: string;
  @ApiProperty() @Matches(LANGUAGE_CODE) language!: string;
  @ApiPropertyOptional() @IsOptional() @IsInt() @Min(0) @Max(100) priority?: number;
}

export class CallIdParam {
  @Matches(/^[A-Za-z0-9._:-]{1,128}$/) callId!: string;
}
