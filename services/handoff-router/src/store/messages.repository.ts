import { returning } from './sql';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export type Author = 'citizen' | 'bot' | 'agent' | 'system' | 'note';
export type MessageStatus = 'held' | 'pending' | 'sent' | 'delivered' | 'read' | 'failed' | null;

export interface MessageRow {
  id: string;
  conversationId: string;
  author: Author;
  agentId: string | null;
  kind: string;
  text: string | null;
  media: Record<string, unknown> | null;
  template: Record<string, unknown> | null;
  clientMessageId: string | null;
  requestId: string | null;
  wamid: string | null;
  status: MessageStatus;
  errorCode: number | null;
  errorText: string | null;
  at: Date;
}

export type NewMessage = Omit<
  MessageRow,
  'requestId' | 'wamid' | 'status' | 'errorCode' | 'errorText' | 'clientMessageId' | 'agentId' | 'media' | 'template'
> &
  Partial<Pick<MessageRow, 'requestId' | 'status' | 'clientMessageId' | 'agentId' | 'media' | 'template'>> & { sourceId?: string };

const COLUMNS = `id, conversation_id AS "conversationId", author, agent_id AS "agentId", kind, text, media, template,
  client_message_id AS "clientMessageId", request_id AS "requestId", wamid, status, error_code AS "errorCode", error_text AS "errorText", at`;

/** `handoff.message`: the transcript (bot, citizen, agents, notes), with each agent message's delivery. */
@Injectable()
export class MessageRepository {
  /** Adds a line once (by its source id or the console's client id); returns the stored row and whether it is new. */
  async add(m: EntityManager, tenantId: string, msg: NewMessage): Promise<{ row: MessageRow; created: boolean }> {
    const rows: MessageRow[] = await m.query(
      `INSERT INTO handoff.message (id, tenant_id, conversation_id, author, agent_id, kind, text, media, template, source_id,
         client_message_id, request_id, status, at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
      [
        msg.id,
        tenantId,
        msg.conversationId,
        msg.author,
        msg.agentId ?? null,
        msg.kind,
        msg.text,
        msg.media ? JSON.stringify(msg.media) : null,
        msg.template ? JSON.stringify(msg.template) : null,
        msg.sourceId ?? null,
        msg.clientMessageId ?? null,
        msg.requestId ?? null,
        msg.status ?? null,
        msg.at,
      ],
    );
    if (rows[0]) return { row: rows[0], created: true };
    const existing: MessageRow[] = await m.query(
      `SELECT ${COLUMNS} FROM handoff.message WHERE tenant_id = $1 AND conversation_id = $2
          AND (id = $3 OR source_id = $4 OR client_message_id = $5)`,
      [tenantId, msg.conversationId, msg.id, msg.sourceId ?? null, msg.clientMessageId ?? null],
    );
    return { row: existing[0], created: false };
  }

  async transcript(m: EntityManager, tenantId: string, conversationId: string): Promise<MessageRow[]> {
    return m.query(`SELECT ${COLUMNS} FROM handoff.message WHERE tenant_id = $1 AND conversation_id = $2 ORDER BY at, seq`, [
      tenantId,
      conversationId,
    ]);
  }

  /** Earlier episodes of the same citizen, so an agent sees what other agents said. */
  async history(m: EntityManager, tenantId: string, citizenKey: string, exceptConversation: string, limit = 200): Promise<MessageRow[]> {
    return m.query(
      `SELECT ${COLUMNS} FROM handoff.message
        WHERE tenant_id = $1 AND conversation_id IN
          (SELECT id FROM handoff.conversation WHERE tenant_id = $1 AND citizen_key = $2 AND id <> $3)
        ORDER BY at DESC, seq DESC LIMIT $4`,
      [tenantId, citizenKey, exceptConversation, limit],
    );
  }

  async held(m: EntityManager, tenantId: string, conversationId: string): Promise<MessageRow[]> {
    return m.query(
      `SELECT ${COLUMNS} FROM handoff.message WHERE tenant_id = $1 AND conversation_id = $2 AND status = 'held' ORDER BY seq FOR UPDATE`,
      [tenantId, conversationId],
    );
  }

  async release(m: EntityManager, id: string): Promise<void> {
    await returning(m, `UPDATE handoff.message SET status = 'pending' WHERE id = $1 AND status = 'held'`, [id]);
  }

  async byRequest(m: EntityManager, requestId: string): Promise<(MessageRow & { tenantId: string }) | undefined> {
    const rows: (MessageRow & { tenantId: string })[] = await m.query(
      `SELECT ${COLUMNS}, tenant_id AS "tenantId" FROM handoff.message WHERE request_id = $1 FOR UPDATE`,
      [requestId],
    );
    return rows[0];
  }

  async byWamid(m: EntityManager, tenantId: string, wamid: string): Promise<(MessageRow & { tenantId: string }) | undefined> {
    const rows: (MessageRow & { tenantId: string })[] = await m.query(
      `SELECT ${COLUMNS}, tenant_id AS "tenantId" FROM handoff.message WHERE tenant_id = $1 AND wamid = $2 FOR UPDATE`,
      [tenantId, wamid],
    );
    return rows[0];
  }

  /**
   * A delivery step. Statuses only move forward (sent → delivered → read; failed is final), so a
   * late `sent` never hides a `read` and a redelivered status changes nothing.
   */
  async setDelivery(
    m: EntityManager,
    id: string,
    d: { status: Exclude<MessageStatus, null | 'held'>; wamid?: string; errorCode?: number; errorText?: string },
  ): Promise<MessageRow | undefined> {
    const rows: MessageRow[] = await returning(
      m,
      `UPDATE handoff.message SET status = $2, wamid = coalesce($3, wamid), error_code = coalesce($4, error_code), error_text = coalesce($5, error_text)
        WHERE id = $1 AND (status IS NULL OR
          array_position(ARRAY['held','pending','sent','delivered','read','failed'], status) < array_position(ARRAY['held','pending','sent','delivered','read','failed'], $2::text))
        RETURNING ${COLUMNS}`,
      [id, d.status, d.wamid ?? null, d.errorCode ?? null, d.errorText ?? null],
    );
    return rows[0];
  }
}
