import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { citizenKey } from '@wa/contracts';

/** A citizen as the platform meets them: Meta's wa_id, the agency's E.164 number, a profile name. */
export interface Citizen {
  tenantId: string;
  waId: string;
  phone: string;
  key: string;
  name: string;
}

/** A Mexican mobile citizen: the wa_id carries the `1` the E.164 number lacks, so the spellings differ. */
export function newCitizen(tenantId: string): Citizen {
  const ten = `55${String(randomBytes(4).readUInt32BE() % 1e8).padStart(8, '0')}`;
  const waId = `521${ten}`;
  const name = `Citlali ${randomBytes(4).toString('hex')}`;
  return { tenantId, waId, phone: `+52${ten}`, key: citizenKey({ waId }), name };
}

const ago = (days: number) => `now() - make_interval(days => ${Number(days)})`;

/**
 * Writes the citizen into every table of every schema that holds citizen data, the way each
 * service writes it (identifiers, name and message text where the service keeps them), `ageDays`
 * old. Returns the ids the erasure should leave anonymised rather than deleted.
 */
export async function seedCitizen(
  admin: DataSource,
  c: Citizen,
  ageDays = 0,
  phoneNumberId = '310000000000001',
): Promise<{ requestId: string; conversationId: string }> {
  const t = c.tenantId;
  const q = (sql: string, params: unknown[] = []) => admin.query(sql, params);
  const wamidIn = `wamid.in.${randomUUID()}`;
  const wamidOut = `wamid.out.${randomUUID()}`;
  const mediaId = `${Date.now()}${randomBytes(3).readUIntBE(0, 3)}`;
  const requestId = randomUUID();
  const conversationId = randomUUID();
  const inbound = {
    object: 'whatsapp_business_account',
    entry: [
      {
        changes: [
          {
            value: {
              contacts: [{ wa_id: c.waId, profile: { name: c.name } }],
              messages: [{ from: c.waId, id: wamidIn, type: 'image', image: { id: mediaId, mime_type: 'image/jpeg' } }],
            },
          },
        ],
      },
    ],
  };
  const outboxValue = JSON.stringify({ tenantId: t, contact: { waId: c.waId }, profileName: c.name, text: 'my licence number' });

  // ingress
  await q(
    `INSERT INTO ingress.raw_webhook (event_id, tenant_id, app_id, received_at, body) VALUES ($1, $2, 'roads-app', ${ago(ageDays)}, $3)`,
    [randomUUID(), t, JSON.stringify(inbound)],
  );
  await q(
    `INSERT INTO ingress.media (tenant_id, media_id, mime_type, sha256, file_size, content, fetched_at) VALUES ($1, $2, 'image/jpeg', 'x', 3, '\\x010203', ${ago(ageDays)})`,
    [t, mediaId],
  );
  for (const schema of ['ingress', 'gateway', 'scheduler', 'chatbot', 'handoff']) {
    await q(
      `INSERT INTO ${schema}.outbox ("eventId", topic, key, value, headers, created_at, published_at) VALUES ($1, 't', $2, $3, '{}', ${ago(ageDays)}, ${ago(ageDays)})`,
      [randomUUID(), `${t}:${c.key}`, outboxValue],
    );
  }

  // gateway
  await q(
    `INSERT INTO gateway.outbound_message (request_id, tenant_id, phone_number_id, recipient, lane, kind, priority, request, state, wamid, created_at, events, error)
     VALUES ($1, $2, '${phoneNumberId}', $3, $4, 'text', 1, $5, 'accepted', $6, ${ago(ageDays)}, $7, $8)`,
    [
      requestId,
      t,
      c.phone,
      `${phoneNumberId}:${c.key}`,
      JSON.stringify({ to: c.phone, text: { body: `Hola ${c.name}` } }),
      wamidOut,
      JSON.stringify([{ at: 'x', to: c.waId }]),
      JSON.stringify({ detail: `recipient ${c.waId}` }),
    ],
  );
  await q(
    `INSERT INTO gateway.message_status (wamid, status, occurred_at, tenant_id, request_id, errors, recorded_at) VALUES ($1, 'delivered', now(), $2, $3, $4, ${ago(ageDays)})`,
    [wamidOut, t, requestId, JSON.stringify([{ title: `undeliverable to ${c.waId}` }])],
  );
  await q(
    `INSERT INTO gateway.consent (tenant_id, citizen_key, category, state, channel, occurred_at) VALUES ($1, $2, 'marketing', 'opted_out', 'whatsapp', now())`,
    [t, c.key],
  );
  await q(
    `INSERT INTO gateway.contact_window (tenant_id, citizen_key, last_inbound_at, phone_number_id) VALUES ($1, $2, now(), '${phoneNumberId}')`,
    [t, c.key],
  );
  await q(`INSERT INTO gateway.pair_pacing (lane, tat) VALUES ($1, now())`, [`${phoneNumberId}:${c.key}`]);

  // scheduler
  const ref = `doc-${randomUUID()}`;
  const subjectId = `citizen-${randomUUID()}`;
  await q(
    `INSERT INTO scheduler.subject (tenant_id, kind, ref, subject_id, whatsapp, status, notice_type, data, last_event_id, last_event_type, updated_at)
     VALUES ($1, 'document', $2, $3, $4, 'active', 'document_expiry', $5, 'e1', 'agency.document.expiring.v1', ${ago(ageDays)})`,
    [t, ref, subjectId, c.phone, JSON.stringify({ citizenName: c.name, phone: c.phone })],
  );
  await q(
    `INSERT INTO scheduler.notice (id, tenant_id, kind, ref, subject_id, notice_type, slot, planned_at, due_at, deadline_at, status, source_event_id, wamid, detail, updated_at)
     VALUES ($1, $2, 'document', $3, $4, 'document_expiry', 'd-30', now(), now(), now(), 'dispatched', 'e1', $5, $6, ${ago(ageDays)})`,
    [randomUUID(), t, ref, subjectId, wamidOut, `sent to ${c.phone}`],
  );
  await q(
    `INSERT INTO scheduler.consent (tenant_id, citizen_key, category, state, channel, occurred_at) VALUES ($1, $2, 'utility', 'opted_in', 'whatsapp', now())`,
    [t, c.key],
  );
  await q(`INSERT INTO scheduler.daily_send (tenant_id, citizen_key, day, sent) VALUES ($1, $2, (${ago(ageDays)})::date, 1)`, [t, c.key]);

  await q(
    `INSERT INTO scheduler.citizen_preference (tenant_id, citizen_key, language, chosen_at, source) VALUES ($1, $2, 'es', now(), 'chatbot')`,
    [t, c.key],
  );

  // chatbot
  await q(
    `INSERT INTO chatbot.citizen_profile (tenant_id, citizen_key, contact, profile_name, language, last_inbound_at, last_message_id, updated_at)
     VALUES ($1, $2, $3, $4, 'es', now(), $5, ${ago(ageDays)})`,
    [t, c.key, JSON.stringify({ waId: c.waId }), c.name, wamidIn],
  );
  await q(`INSERT INTO chatbot.conversation_owner (tenant_id, citizen_key, owner, since) VALUES ($1, $2, 'bot', now())`, [t, c.key]);
  await q(
    `INSERT INTO chatbot.session (tenant_id, citizen_key, flow, version, state, transcript, expires_at, updated_at)
     VALUES ($1, $2, 'main', 1, $3, $4, ${ago(ageDays)}, ${ago(ageDays)})`,
    [t, c.key, JSON.stringify({ vars: { name: c.name } }), JSON.stringify([{ from: 'citizen', text: `soy ${c.name}, ${c.phone}` }])],
  );

  // handoff
  await q(
    `INSERT INTO handoff.conversation (tenant_id, id, citizen_key, contact, department, language, reason, state, requested_at, queued_at, closed_at, rating)
     VALUES ($1, $2, $3, $4, 'permits', 'es', 'asked', 'closed', now(), now(), now(), 5)`,
    [t, conversationId, c.key, JSON.stringify({ waId: c.waId, name: c.name })],
  );
  await q(
    `INSERT INTO handoff.message (id, tenant_id, conversation_id, author, kind, text, at) VALUES ($1, $2, $3, 'citizen', 'text', $4, now())`,
    [randomUUID(), t, conversationId, `me llamo ${c.name}`],
  );
  await q(
    `INSERT INTO handoff.conversation_owner (tenant_id, citizen_key, owner, conversation_id, since) VALUES ($1, $2, 'agent', $3, now())`,
    [t, c.key, conversationId],
  );
  await q(
    `INSERT INTO handoff.deflection (tenant_id, call_id, citizen_key, contact, department, language, priority, request_id, status, requested_at, deadline_at)
     VALUES ($1, $2, $3, $4, 'permits', 'es', 1, $5, 'offered', now(), now())`,
    [t, `call-${randomUUID()}`, c.key, JSON.stringify({ phone: c.phone }), randomUUID()],
  );
  await q(
    `INSERT INTO handoff.console_event (tenant_id, seq, type, conversation_id, data, at) VALUES ($1, (SELECT coalesce(max(seq), 0) + 1 FROM handoff.console_event), 'message', $2, $3, now())`,
    [t, conversationId, JSON.stringify({ text: `me llamo ${c.name}`, contact: { waId: c.waId } })],
  );
  return { requestId, conversationId };
}
