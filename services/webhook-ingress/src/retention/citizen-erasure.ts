import type { EntityManager } from 'typeorm';
import { containsAny, eraseOutbox, type ErasureTally } from '@wa/persistence';
import type { CitizenEraser } from '@wa/service-kit';

/** Ids of the media a citizen sent, read from raw bodies (Meta's `messages[].<type>.id`, `from` = one of their spellings). */
export function mediaIdsSentBy(body: string, spellings: readonly string[]): string[] {
  let parsed: { entry?: { changes?: { value?: { messages?: Record<string, unknown>[] } }[] }[] };
  try {
    parsed = JSON.parse(body);
  } catch {
    return [];
  }
  const ids: string[] = [];
  for (const entry of parsed.entry ?? [])
    for (const change of entry.changes ?? [])
      for (const message of change.value?.messages ?? []) {
        if (!spellings.includes(String(message.from))) continue;
        for (const part of Object.values(message)) {
          const id = (part as { id?: unknown } | null)?.id;
          if (part && typeof part === 'object' && typeof id === 'string') ids.push(id);
        }
      }
  return ids;
}

/**
 * The ingress forgets a citizen (docs/privacy.md): the files they sent, found through the raw
 * bodies that mention them, then those raw bodies (a batch naming several citizens goes whole),
 * then outbox rows about them. Dedupe keys hold message ids only and stay.
 */
export const eraseIngressCitizen: CitizenEraser = async (
  manager: EntityManager,
  { tenantId, citizenKey, spellings },
  tally: ErasureTally,
) => {
  const bodies: { body: string }[] = await manager.query(
    `SELECT body FROM ingress.raw_webhook WHERE tenant_id = $1 AND body LIKE ANY($2::text[])`,
    [tenantId, containsAny(spellings)],
  );
  const mediaIds = [...new Set(bodies.flatMap((b) => mediaIdsSentBy(b.body, spellings)))];
  if (mediaIds.length) {
    await tally.run(
      manager,
      'ingress.media',
      'deleted',
      `DELETE FROM ingress.media WHERE tenant_id = $1 AND media_id = ANY($2::text[]) RETURNING 1`,
      [tenantId, mediaIds],
    );
  }
  await tally.run(
    manager,
    'ingress.raw_webhook',
    'deleted',
    `DELETE FROM ingress.raw_webhook WHERE tenant_id = $1 AND body LIKE ANY($2::text[]) RETURNING 1`,
    [tenantId, containsAny(spellings)],
  );
  await eraseOutbox(manager, 'ingress', tenantId, citizenKey, spellings, tally);
};
