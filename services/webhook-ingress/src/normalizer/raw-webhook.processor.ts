import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Topics, type AccountEventV1, type WebhookRawV2 } from '@wa/contracts';
import { ConsumerHost, extractTraceContext, type BatchItem } from '@wa/kafka';
import { counter } from '@wa/observability';
import { InjectEnv } from '@wa/service-kit';
import { TenantRegistry } from '@wa/tenancy';
import type { IngressEnv } from '../config/env';
import { RawArchive } from '../raw-archive/raw-archive';
import { AppCredentials } from '../webhook/app-credentials';
import { checkSignature } from '../webhook/signature';
import { normalizeWebhook, signatureMismatch, type NormalizedItem } from './normalize';
import { NormalizedEventStore } from './normalized-event.store';

const normalizedEvents = counter('webhook_normalized_events_total', 'Typed events from webhooks, by outcome', [
  'tenant',
  'topic',
  'outcome',
]);
const quarantined = counter('webhook_quarantined_total', 'Webhook parts kept in quarantine, by reason', ['tenant', 'reason']);
const changeErrors = counter(
  'webhook_change_errors_total',
  "Errors Meta reports for a whole change (value.errors: rate limits, account problems), by Meta's code",
  ['tenant', 'code'],
);
const forgedRecords = counter(
  'webhook_raw_signature_mismatch_total',
  'Raw records whose ce_wasignature is not the HMAC of their body with a secret of their app (quarantined, not normalized)',
  ['app'],
);

/**
 * The raw topic's consumer: archives each raw body (the audit copy) and turns it into typed,
 * deduplicated events, for a chunk of records at a time in one transaction. Per-record
 * transactions (two commits and their fsyncs per webhook) could not keep up with the HTTP side;
 * a chunk shares one. Running here, from the topic rather than in the HTTP handler, keeps the
 * webhook fast and lets the raw topic be replayed through an improved parser (the dedupe table
 * keeps replays from emitting events twice).
 *
 * A failing chunk is replayed record by record by the consumer host, with its retries and DLQ.
 */
@Injectable()
export class RawWebhookProcessor {
  private readonly logger = new Logger(RawWebhookProcessor.name);

  constructor(
    host: ConsumerHost,
    private readonly dataSource: DataSource,
    private readonly registry: TenantRegistry,
    private readonly archive: RawArchive,
    private readonly store: NormalizedEventStore,
    private readonly credentials: AppCredentials,
    @InjectEnv() env: IngressEnv,
  ) {
    // In the constructor: the app starts consuming before Nest runs onModuleInit hooks.
    if (env.INGRESS_CONSUMERS) host.registerBatch(Topics.webhookRaw, (items) => this.process(items), { maxBatchSize: 200 });
  }

  async process(records: BatchItem[]): Promise<void> {
    const raws: { eventId: string; raw: WebhookRawV2 }[] = [];
    const items: NormalizedItem[] = [];
    for (const { envelope } of records) {
      const raw = envelope.data as WebhookRawV2;
      const meta = { appId: raw.appId, receivedAt: raw.receivedAt, rawEventId: envelope.id };
      const mismatch = this.signatureProblem(raw);
      if (mismatch) {
        // Not archived: the archive keeps what Meta sent; this body waits in quarantine.
        items.push(...signatureMismatch(raw.body, meta, mismatch));
        continue;
      }
      raws.push({ eventId: envelope.id, raw });
      items.push(...normalizeWebhook(raw.body, meta, this.registry));
    }
    // A batch has many parents: each event continues its own webhook's trace (HTTP → raw record → event).
    const traces = new Map(records.map(({ envelope, record }) => [envelope.id, extractTraceContext(record.headers)]));
    const { emitted, duplicates } = await this.dataSource.transaction(async (manager) => {
      await this.archive.archive(manager, raws);
      return this.store.commit(manager, items, (item) => (item.data.rawEventId ? traces.get(item.data.rawEventId) : undefined));
    });
    this.count(emitted, 'emitted');
    this.count(duplicates, 'duplicate');
    for (const item of emitted) {
      if (item.topic === 'accountEvent' && item.data.kind === 'webhook_error') this.changeError(item.data);
      if (item.topic !== 'webhookQuarantine') continue;
      quarantined.inc({ tenant: item.tenantId, reason: item.data.reason });
      this.logger.warn(
        { rawEventId: item.data.rawEventId, tenantId: item.tenantId, reason: item.data.reason, path: item.data.path },
        'webhook part quarantined',
      );
    }
  }

  /**
   * Anyone who can write to the raw topic could otherwise make up citizen messages or template
   * approvals: a record is trusted only when its signature is the HMAC of its body with a secret
   * its app accepts now, checked as the receiver checks it (current secret first, so one HMAC per
   * genuine record). A record signed with a secret since rotated out fails too: replaying old raw
   * records after a rotation quarantines them (body kept, with its raw record id).
   */
  private signatureProblem(raw: WebhookRawV2): string | undefined {
    const app = this.credentials.of(raw.appId);
    const check = app ? checkSignature(raw.body, raw.signature, app.secrets) : undefined;
    if (check === 'valid') return undefined;
    const label = app ? raw.appId : 'unknown';
    forgedRecords.inc({ app: label });
    this.logger.warn(
      { app: label, tenantClaimed: raw.tenantId, check: check ?? 'unknown_app' },
      'raw webhook record failed its signature check',
    );
    return app ? `signature ${check} for app ${raw.appId}` : 'no such app on this ingress';
  }

  /**
   * Errors of a whole change (e.g. 130429, throughput reached) concern the account, not a message:
   * besides the account event, they are logged and counted here, once per event (not per
   * redelivery), so they can be alerted on without a consumer.
   */
  private changeError(event: AccountEventV1): void {
    const errors = (Array.isArray(event.details.errors) ? event.details.errors : []) as { code?: unknown; title?: unknown }[];
    // Only digit codes become label values (a label per arbitrary string would grow the series).
    const codes = errors.map((e) => (/^\d{1,10}$/.test(String(e?.code)) ? String(e.code) : 'other'));
    for (const code of codes.length ? codes : ['unknown']) changeErrors.inc({ tenant: event.tenantId, code });
    this.logger.warn(
      { tenantId: event.tenantId, phoneNumberId: event.phoneNumberId, codes, title: event.reason, rawEventId: event.rawEventId },
      'Meta reported an error for a webhook change',
    );
  }

  private count(items: NormalizedItem[], outcome: string): void {
    for (const item of items) normalizedEvents.inc({ tenant: item.tenantId, topic: item.topic, outcome });
  }
}
