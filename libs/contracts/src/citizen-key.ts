/**
 * One way to say "which citizen" everywhere: consent, windows, conversations, read models and
 * partition keys all use {@link citizenKey}.
 *
 * WhatsApp's `wa_id` is usually the phone number's digits, but not always: Mexican mobile ids carry
 * a `1` after the country code (`521…`) that the dialled E.164 number lacks, and Brazilian mobile
 * ids often lack the ninth digit (`55 DD 8 digits`) that E.164 numbers have since 2016. Stripping
 * the `+` is therefore not a key. The key folds both spellings of those numbers into one canonical
 * form, so an agency's E.164 number and Meta's `wa_id` for the same person meet. A citizen known
 * only by their business-scoped user id (usernames) is keyed `bsuid:<id>`.
 */
export interface CitizenIdentity {
  waId?: string | null;
  phone?: string | null;
  bsuid?: string | null;
}

/** Brazil: 55 + two-digit area code + 9 + eight digits (mobile) → without the 9. */
const BRAZIL_MOBILE = /^55(\d{2})9(\d{8})$/;
/** Mexico: 52 + 1 + ten digits (the old mobile prefix kept in wa_ids) → without the 1. */
const MEXICO_MOBILE = /^521(\d{10})$/;

/** The canonical digits of a phone number or wa_id (digits only, country code first). */
export function canonicalDigits(numberOrWaId: string): string {
  const digits = numberOrWaId.replace(/\D/g, '');
  const br = BRAZIL_MOBILE.exec(digits);
  if (br) return `55${br[1]}${br[2]}`;
  const mx = MEXICO_MOBILE.exec(digits);
  if (mx) return `52${mx[1]}`;
  return digits;
}

const BSUID_PREFIX = 'bsuid:';

/** The citizen's key, or undefined when the identity names nobody (no wa_id, phone or bsuid). */
export function citizenKeyOf(identity: CitizenIdentity): string | undefined {
  const number = nonEmpty(identity.waId) ?? nonEmpty(identity.phone);
  if (number) {
    const digits = canonicalDigits(number);
    if (digits.length >= 6) return digits;
  }
  const bsuid = nonEmpty(identity.bsuid);
  return bsuid ? `${BSUID_PREFIX}${bsuid}` : undefined;
}

/** Like {@link citizenKeyOf}, for callers whose input was validated to name someone. */
export function citizenKey(identity: CitizenIdentity): string {
  const key = citizenKeyOf(identity);
  if (!key) throw new Error('citizen identity has no wa_id, phone or bsuid');
  return key;
}

/** True for keys of citizens known only by their business-scoped user id. */
export function isBsuidKey(key: string): boolean {
  return key.startsWith(BSUID_PREFIX);
}

/** `tenant:citizen`: the partition key of everything about one citizen's conversation. */
export function conversationKey(tenantId: string, identity: CitizenIdentity | string): string {
  return `${tenantId}:${typeof identity === 'string' ? identity : (citizenKeyOf(identity) ?? 'unknown')}`;
}

/**
 * SQL for {@link canonicalDigits} of an expression holding digits only, for migrations that rewrite
 * stored keys in place (one statement per table instead of a round trip per row). Built from the
 * same patterns; a real-Postgres test holds it to the TypeScript.
 */
export function canonicalDigitsSql(digits: string): string {
  const br = `regexp_replace(${digits}, '${BRAZIL_MOBILE.source}', '55\\1\\2')`;
  return `regexp_replace(${br}, '${MEXICO_MOBILE.source}', '52\\1')`;
}

/**
 * SQL turning a citizen column written before {@link citizenKey} into the key: a wa_id or a phone
 * (digits, perhaps with a `+`) becomes its canonical digits, a bare business-scoped user id gains
 * the `bsuid:` prefix, and a value that already is a key stays as it is.
 */
export function legacyCitizenKeySql(column: string): string {
  return `CASE WHEN ${column} LIKE '${BSUID_PREFIX}%' THEN ${column}
    WHEN ${column} ~ '^\\+?[0-9]+$' THEN ${canonicalDigitsSql(`ltrim(${column}, '+')`)}
    ELSE '${BSUID_PREFIX}' || ${column} END`;
}

function nonEmpty(value: string | null | undefined): string | undefined {
  return value && value.trim() !== '' ? value.trim() : undefined;
}

/**
 * Every way the citizen with this key can be written as digits or id in stored text: the key
 * itself and the other spellings {@link canonicalDigits} folds into it (the Mexican wa_id's extra
 * `1`, the Brazilian number's ninth digit), or the bare id of a `bsuid:` key. For erasure, which
 * must find the citizen in free text (raw bodies, payloads) as well as in keyed columns.
 */
export function citizenKeySpellings(key: string): string[] {
  if (isBsuidKey(key)) return [key, key.slice(BSUID_PREFIX.length)];
  const mx = /^52(\d{10})$/.exec(key);
  if (mx) return [key, `521${mx[1]}`];
  const br = /^55(\d{2})(\d{8})$/.exec(key);
  if (br) return [key, `55${br[1]}9${br[2]}`];
  return [key];
}
