import { IsIn, IsISO8601, IsObject, IsString, IsUUID, MaxLength } from 'class-validator';
import { TenantScoped } from './common';

/**
 * A citizen's request to be forgotten by one tenant: every service deletes or anonymises what its
 * schema holds about them (docs/privacy.md) and answers with a {@link CitizenErasureResultV1}.
 */
export class CitizenErasureRequestedV1 extends TenantScoped {
  @IsUUID() requestId!: string;
  /** `citizenKey(...)` of the citizen: every spelling of their number is erased. */
  @IsString() @MaxLength(300) citizenKey!: string;
  /** Who asked for it: the admin API's caller (subject of their token). */
  @IsString() @MaxLength(200) requestedBy!: string;
  @IsISO8601() requestedAt!: string;
}

/** One service's answer to an erasure request: what it did, per table, and nothing about whom. */
export class CitizenErasureResultV1 extends TenantScoped {
  @IsUUID() requestId!: string;
  @IsString() @MaxLength(64) service!: string;
  @IsIn(['done']) outcome!: 'done';
  /** Rows per schema-qualified table, `{ deleted, anonymised }`. */
  @IsObject() tables!: Record<string, { deleted: number; anonymised: number }>;
  @IsISO8601() erasedAt!: string;
}
