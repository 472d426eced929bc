import { randomInt, randomUUID } from 'node:crypto';
import { encodeEvent, Topics, type CitizenConsentV1 } from '@wa/contracts';
import { waitFor, type Collected } from '@wa/testing';
import type { E2EStack } from './stack';

/*
 * What an agency system, Meta and an operator do, through the platform's public interfaces only:
 * Kafka records as docs/agency-events.md and docs/contracts.md describe them, the services' HTTP
 * APIs, and the sandbox's API.
 */

export type Json = Record<string, unknown>;

/** HTTP with a bearer token; the body parsed when it is JSON. */
export async function http(
  url: string,
  options: { method?: string; token?: string; body?: unknown; raw?: string; contentType?: string } = {},
): Promise<{ status: number; body: Json }> {
  const response = await fetch(url, {
    method: options.method ?? 'GET',
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined || options.raw !== undefined ? { 'content-type': options.contentType ?? 'application/json' } : {}),
    },
    body: options.raw ?? (options.body !== undefined ? JSON.stringify(options.body) : undefined),
  });
  const text = await response.text();
  let body: Json = {};
  try {
    body = text ? (JSON.parse(text) as Json) : {};
  } catch {
    body = { text };
  }
  return { status: response.status, body };
}

/** A number nobody else in the run uses (the daily limit and the sandbox's lists are per number). */
export const colombianMobile = () => `+57300${String(randomInt(1_000_000, 9_999_999))}`;
export const emiratiMobile = () => `+97150${String(randomInt(1_000_000, 9_999_999))}`;
export const digits = (phone: string) => phone.replace(/\D/g, '');

/** A calendar date `days` from today in `zone` (YYYY-MM-DD). */
export function dateIn(zone: string, days: number): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: zone }).format(new Date(Date.now() + days * 86_400_000));
}

export class Agency {
  private readonly producer;
  constructor(private readonly stack: E2EStack) {
    // The client's default (murmur2, Java-compatible) partitioner, as the contract asks.
    this.producer = stack.kafka.kafka.producer({ idempotent: true });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }

  /** One agency event exactly as docs/agency-events.md shows: binary-mode CloudEvent on agency.event.v1. */
  async publish(type: string, source: string, key: string, payload: Json & { tenantId: string }): Promise<string> {
    const id = randomUUID();
    await this.producer.send({
      topic: `${this.stack.kafka.prefix}agency.event.v1`,
      acks: -1,
      messages: [
        {
          key,
          value: JSON.stringify(payload),
          headers: {
            ce_specversion: '1.0',
            ce_id: id,
            ce_type: type,
            ce_source: source,
            ce_tenant: payload.tenantId,
            ce_time: new Date().toISOString(),
            'content-type': 'application/json',
          },
        },
      ],
    });
    return id;
  }

  /** A citizen's choice recorded elsewhere (web, a letter): citizen.consent.v1, keyed as the registry says. */
  async consent(data: CitizenConsentV1): Promise<void> {
    const record = encodeEvent(Topics.citizenConsent, data, { source: '/agencies/roads/citizen-portal' });
    await this.producer.send({
      topic: `${this.stack.kafka.prefix}${Topics.citizenConsent.name}`,
      acks: -1,
      messages: [{ key: record.key, value: record.value, headers: record.headers }],
    });
  }
}

/**
 * Waits until a service's consumer group has committed every record now on a topic: what it has
 * read is in its read model (the group commits after its handlers).
 */
export async function waitConsumed(stack: E2EStack, group: string, topic: string, timeoutMs = 60000): Promise<void> {
  const admin = stack.kafka.kafka.admin();
  await admin.connect();
  try {
    const name = `${stack.kafka.prefix}${topic}`;
    const ends = await admin.fetchTopicOffsets(name);
    await waitFor(
      async () => {
        const [committed] = await admin.fetchOffsets({ groupId: `${stack.kafka.prefix}${group}`, topics: [name] });
        return ends.every((end) => {
          const at = committed.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
          return Number(end.high) === 0 || Number(at) >= Number(end.high);
        });
      },
      { timeoutMs, intervalMs: 250, what: `${group} to consume ${topic}` },
    );
  } finally {
    await admin.disconnect();
  }
}

export interface Outcome {
  tenantId: string;
  noticeId: string;
  subjectId: string;
  outcome: string;
  templateName?: string;
  language?: string;
  detail?: string;
  errorCode?: string;
  wamid?: string;
}

export const outcomesOf = (records: Collected[], subjectId: string): Outcome[] =>
  records.map((r) => JSON.parse(r.value ?? '{}') as Outcome).filter((o) => o.subjectId === subjectId);

/** What the sandbox accepted for a number (what the citizen's phone shows). */
export async function messagesTo(
  stack: E2EStack,
  phone: string,
): Promise<{ type: string; payload: Json; statuses: { status: string }[] }[]> {
  const { body } = await http(`${stack.sandboxUrl}/sandbox/messages?to=${digits(phone)}`);
  return body.messages as { type: string; payload: Json; statuses: { status: string }[] }[];
}
