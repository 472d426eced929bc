import type { TemplateCatalogEntryV1 } from '@wa/contracts';
import type { Translation } from './entities';

/**
 * Meta's webhook `event` values mapped to the status we keep. FLAGGED (quality warning) and LOCKED
 * (no edits) say something about the template without changing whether it can be sent, so they
 * are recorded in the history only; REINSTATED means approved again.
 */
export const META_EVENT_STATUS: Record<string, string | null> = {
  APPROVED: 'APPROVED',
  REJECTED: 'REJECTED',
  PENDING: 'PENDING',
  PAUSED: 'PAUSED',
  DISABLED: 'DISABLED',
  REINSTATED: 'APPROVED',
  IN_APPEAL: 'IN_APPEAL',
  PENDING_DELETION: 'PENDING_DELETION',
  DELETED: 'DELETED',
  ARCHIVED: 'ARCHIVED',
  LIMIT_EXCEEDED: 'LIMIT_EXCEEDED',
  FLAGGED: null,
  LOCKED: null,
};

/** Meta accepts edits only in these states (reference §8). */
export const EDITABLE_AT_META = new Set(['APPROVED', 'REJECTED', 'PAUSED']);

/** A Meta status string (list API or create response) as we store it. */
export function statusFromMeta(status: string | undefined, fallback = 'PENDING'): string {
  if (!status) return fallback;
  const upper = status.toUpperCase();
  const mapped = META_EVENT_STATUS[upper];
  return mapped === undefined ? fallback : (mapped ?? fallback);
}

/** The catalog record of a translation: what Meta has (live) when anything was submitted, else the draft. */
export function catalogEntry(t: Translation): TemplateCatalogEntryV1 {
  const live = t.liveComponents !== null && t.liveVersion !== null;
  const entry: TemplateCatalogEntryV1 = {
    tenantId: t.tenantId,
    name: t.name,
    language: t.language,
    category: t.category,
    status: t.status,
    parameterFormat: t.parameterFormat,
    parameters: (live ? t.liveParameters : t.parameters) ?? [],
    components: ((live ? t.liveComponents : t.components) ?? []) as unknown as Record<string, unknown>[],
    version: (live ? t.liveVersion : t.version) ?? t.version,
    wabaId: t.wabaId,
    updatedAt: new Date(t.updatedAt ?? Date.now()).toISOString(),
  };
  if (t.metaTemplateId) entry.metaTemplateId = t.metaTemplateId;
  if (t.qualityScore) entry.qualityScore = t.qualityScore;
  if (t.reason) entry.reason = t.reasonDetail ? `${t.reason}: ${t.reasonDetail}` : t.reason;
  return entry;
}

/** Entries equal apart from their timestamp: nothing for consumers to learn. */
export function sameEntry(a: TemplateCatalogEntryV1 | null, b: TemplateCatalogEntryV1): boolean {
  if (!a) return false;
  const strip = ({ updatedAt: _ignored, ...rest }: TemplateCatalogEntryV1) => canonicalJson(rest);
  return strip(a) === strip(b);
}

/**
 * JSON with object keys sorted: Postgres jsonb does not keep key order, so content read back
 * must be compared this way.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
