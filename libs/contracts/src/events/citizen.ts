import { Type } from 'class-transformer';
import { IsIn, IsISO8601, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import { ContactRef, LANGUAGE_CODE, TenantScoped } from './common';

export const PREFERENCE_SOURCES = ['chatbot_menu'] as const;

/**
 * A citizen's standing preferences as the chatbot recorded them (today: the language they chose),
 * so other services use them when an agency names none. The topic is compacted on
 * `tenantId:citizenKey`: the newest record is the current choice, and a tombstone (null value)
 * under the key erases it.
 */
export class CitizenPreferenceV1 extends TenantScoped {
  /** `citizenKey(contact)`, the key every citizen topic uses. */
  @IsString() @MaxLength(300) citizenKey!: string;
  @ValidateNested() @Type(() => ContactRef) contact!: ContactRef;
  /** Meta's template language code (`es`, `en`, `pt_BR`). */
  @Matches(LANGUAGE_CODE, { message: 'language must look like es, en or pt_BR' }) language!: string;
  /** When the citizen chose: the newest choice wins whatever the arrival order. */
  @IsISO8601() chosenAt!: string;
  /** `chatbot_menu`: the citizen picked it in the chatbot's language menu. */
  @IsIn(PREFERENCE_SOURCES as unknown as string[]) source!: string;
}
