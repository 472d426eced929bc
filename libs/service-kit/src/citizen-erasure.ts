import { Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { citizenKeySpellings, Topics, type CitizenErasureRequestedV1, type EventEnvelope } from '@wa/contracts';
import { processOnce, type Outbox } from '@wa/kafka';
import { counter } from '@wa/observability';
import { ErasureTally, type ErasureCounts } from '@wa/persistence';

const erasedRows = counter('erasure_rows_total', "Rows deleted or anonymised by citizens' erasure requests", ['schema', 'table', 'how']);

/** A service's erasure of one citizen from its own schema, inside the caller's transaction. */
export type CitizenEraser = (
  manager: EntityManager,
  citizen: { tenantId: string; citizenKey: string; spellings: string[] },
  tally: ErasureTally,
) => Promise<void>;

/**
 * Applies a `citizen.erasure.v1` request once: the service's eraser, the inbox row and the
 * `citizen.erasure.result.v1` answer (keyed by request, naming nobody) commit together.
 */
export async function applyCitizenErasure(
  dataSource: DataSource,
  outbox: Outbox,
  service: { name: string; schema: string },
  envelope: EventEnvelope,
  eraser: CitizenEraser,
): Promise<ErasureCounts | undefined> {
  const request = envelope.data as CitizenErasureRequestedV1;
  let counts: ErasureCounts | undefined;
  await processOnce(dataSource, `${service.name}.erasure`, envelope.id, async (manager) => {
    const tally = new ErasureTally();
    await eraser(
      manager,
      { tenantId: request.tenantId, citizenKey: request.citizenKey, spellings: citizenKeySpellings(request.citizenKey) },
      tally,
    );
    await outbox.add(manager, Topics.citizenErasureResult, {
      tenantId: request.tenantId,
      requestId: request.requestId,
      service: service.name,
      outcome: 'done',
      tables: tally.counts,
      erasedAt: new Date().toISOString(),
    });
    counts = tally.counts;
  });
  if (counts) {
    for (const [table, n] of Object.entries(counts)) {
      const [schema, name] = table.split('.');
      if (n.deleted) erasedRows.inc({ schema, table: name, how: 'deleted' }, n.deleted);
      if (n.anonymised) erasedRows.inc({ schema, table: name, how: 'anonymised' }, n.anonymised);
    }
    new Logger('CitizenErasure').log({ tenant: request.tenantId, requestId: request.requestId, tables: counts }, 'citizen erased');
  }
  return counts;
}
