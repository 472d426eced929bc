import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import type { Context } from '@opentelemetry/api';
import { Topics, UNROUTED_TENANT, type QuarantineReason } from '@wa/contracts';
import { DomainError, InjectEnv } from '@wa/service-kit';
import { TenantRegistry } from '@wa/tenancy';
import type { IngressEnv } from '../config/env';
import { deterministicUuid, uuidFromDigestHex } from '../normalizer/deterministic-id';
import { asArray, asObject, asString, type Json } from '../normalizer/json-shapes';
import { AppCredentials } from './app-credentials';
import { DurablePublisher, type DurableResult } from './durable-publisher';
import { checkSignature } from './signature';
import type { WebhookOutcome, WebhookRequest } from './webhook-http';

const JSON_CONTENT_TYPE = /^application\/json\s*(;|$)/i;

/**
 * Meta's webhook POST, minus the HTTP plumbing (WebhookHttpSetup): check, store durably on Kafka,
 * answer. No business work: normalizing happens in the raw topic's consumer.
 */
@Injectable()
export class WebhookReceiver {
  private readonly logger = new Logger(WebhookReceiver.name);

  constructor(
    private readonly credentials: AppCredentials,
    private readonly registry: TenantRegistry,
    private readonly publisher: DurablePublisher,
    @InjectEnv() private readonly env: IngressEnv,
  ) {}

  /** Resolves once Kafka holds the webhook; throws a DomainError carrying the status to answer. */
  async receive(appId: string, req: WebhookRequest, trace: Context): Promise<void> {
    const receivedAt = new Date().toISOString();
    const app = this.credentials.of(appId);
    if (!app) this.reject(req, 'unknown_app', HttpStatus.NOT_FOUND, 'unknown_app', 'No such app on this ingress');
    if (!JSON_CONTENT_TYPE.test(req.headers['content-type'] ?? '')) {
      this.reject(req, 'unsupported_media_type', HttpStatus.UNSUPPORTED_MEDIA_TYPE, 'unsupported_media_type', 'Expected application/json');
    }
    const rawBody = req.rawBody ?? Buffer.alloc(0);
    const signature = req.headers['x-hub-signature-256'];
    const check = checkSignature(rawBody, signature, app.secrets);
    if (check !== 'valid') {
      this.reject(
        req,
        check === 'missing' ? 'missing_signature' : 'bad_signature',
        HttpStatus.UNAUTHORIZED,
        'invalid_signature',
        'Signature missing or invalid',
      );
    }
    const signatureValue = String(signature);
    // One id per (app, exact bytes): a redelivered webhook is recognisably the same record. The
    // verified signature is already a keyed hash of exactly that, so it names the record.
    const id = uuidFromDigestHex(signatureValue.trim().slice(7).toLowerCase());
    const body = rawBody.toString('utf8');

    let payload: Json | undefined;
    let parseError: string | undefined;
    try {
      payload = asObject(JSON.parse(body));
    } catch (error) {
      parseError = (error as Error).message;
    }
    if (!payload || payload.object !== 'whatsapp_business_account' || !Array.isArray(payload.entry)) {
      const reason = parseError ? 'unparseable' : 'not-whatsapp';
      await this.quarantine(
        req,
        trace,
        appId,
        app.tenantIds,
        id,
        receivedAt,
        body,
        reason,
        parseError ?? 'not a whatsapp_business_account payload',
      );
      const outcome = parseError ? 'not_json' : 'not_whatsapp';
      if (this.env.WEBHOOK_BAD_CONTENT_STATUS === 200) {
        req.webhookOutcome = outcome;
        return;
      }
      this.reject(
        req,
        outcome,
        HttpStatus.BAD_REQUEST,
        outcome,
        parseError ? 'Body is not JSON (kept for inspection)' : 'Not a WhatsApp Business Account payload (kept for inspection)',
      );
    }

    const tenantId = this.rawTenantOf(payload, app.tenantIds);
    const result = await this.publisher.publish(
      Topics.webhookRaw,
      { tenantId, appId, receivedAt, body, signature: signatureValue },
      // Assembled here from checked parts (known app, verified signature, registry tenant, parsed
      // envelope); class-validator would add about a tenth to the request's CPU. The normalizer validates on read.
      { id, time: receivedAt, validate: false },
      trace,
    );
    this.ensureStored(req, result, 'raw');
    req.webhookOutcome = 'accepted';
  }

  /**
   * Signed but unusable bodies are kept on the quarantine topic before answering, so nothing signed
   * is lost. Such a body names no tenant: it belongs to the app's tenant when the app serves only
   * one, and to none (UNROUTED_TENANT) when it serves several.
   */
  private async quarantine(
    req: WebhookRequest,
    trace: Context,
    appId: string,
    tenantIds: string[],
    rawId: string,
    receivedAt: string,
    body: string,
    reason: QuarantineReason,
    detail: string,
  ): Promise<void> {
    this.logger.warn({ appId, reason, bytes: body.length }, 'signed webhook quarantined');
    const result = await this.publisher.publish(
      Topics.webhookQuarantine,
      { tenantId: tenantIds.length === 1 ? tenantIds[0] : UNROUTED_TENANT, appId, reason, detail: detail.slice(0, 2000), receivedAt, body },
      { id: deterministicUuid('wa.webhook.quarantine', rawId) },
      trace,
    );
    this.ensureStored(req, result, 'quarantine');
  }

  private ensureStored(req: WebhookRequest, result: DurableResult, what: string): void {
    if (result.outcome === 'stored') return;
    this.logger.error({ what, outcome: result.outcome, err: result.error }, 'webhook not stored; answering 503 so Meta retries');
    const outcome: WebhookOutcome =
      result.outcome === 'overloaded' ? 'overloaded' : result.outcome === 'timeout' ? 'kafka_timeout' : 'kafka_failed';
    this.reject(req, outcome, HttpStatus.SERVICE_UNAVAILABLE, 'unavailable', 'Webhook not stored; retry later');
  }

  private reject(req: WebhookRequest, outcome: WebhookOutcome, status: HttpStatus, code: string, message: string): never {
    req.webhookOutcome = outcome;
    throw new DomainError(code, message, status);
  }

  /**
   * The raw record's tenant (its partition key and archive scope): the first entry that resolves
   * to one of this app's tenants; failing that, the app's tenant when it serves only one, else no
   * tenant (UNROUTED_TENANT). The normalizer resolves every change again on its own.
   */
  private rawTenantOf(payload: Json, appTenantIds: string[]): string {
    for (const entryValue of asArray(payload.entry)) {
      const entry = asObject(entryValue);
      const wabaId = asString(entry?.id);
      const byWaba = wabaId ? this.registry.tenantByWabaId(wabaId) : undefined;
      if (byWaba && appTenantIds.includes(byWaba.id)) return byWaba.id;
      for (const change of asArray(entry?.changes)) {
        const phoneNumberId = asString(asObject(asObject(asObject(change)?.value)?.metadata)?.phone_number_id);
        const byPhone = phoneNumberId ? this.registry.tenantByPhoneNumberId(phoneNumberId)?.tenant : undefined;
        if (byPhone && appTenantIds.includes(byPhone.id)) return byPhone.id;
      }
    }
    return appTenantIds.length === 1 ? appTenantIds[0] : UNROUTED_TENANT;
  }
}
