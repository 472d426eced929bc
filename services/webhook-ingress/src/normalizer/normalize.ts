import {
  AccountEventV1,
  InboundMessageV1,
  INBOUND_MESSAGE_TYPES,
  MESSAGE_STATUSES,
  MessageStatusV1,
  validatePayload,
  WebhookQuarantineV1,
  type InboundContact,
  type InboundMessageType,
  type InteractiveReply,
  type MediaRef,
  type MessageStatus,
  type QuarantineReason,
  UNROUTED_TENANT,
  type WebhookError,
} from '@wa/contracts';
import { sha256Hex } from './deterministic-id';
import {
  asArray,
  asBoolean,
  asInteger,
  asNumber,
  asObject,
  asString,
  camelize,
  isoFromUnixSeconds,
  nonEmpty,
  parsePreservingBigIds,
  type Json,
} from './json-shapes';

/** The part of the tenant registry the normalizer needs (TenantRegistry satisfies it). */
export interface TenantDirectory {
  tenantByPhoneNumberId(phoneNumberId: string): { tenant: TenantRef } | undefined;
  tenantByWabaId(wabaId: string): TenantRef | undefined;
}

export interface TenantRef {
  id: string;
  appId: string;
  wabaId: string;
}

export interface RawWebhookMeta {
  appId: string;
  receivedAt: string;
  /** ce_id of the raw record. */
  rawEventId: string;
}

export type DedupeKind = 'message' | 'status' | 'account' | 'quarantine';

interface ItemBase {
  tenantId: string;
  /** With tenantId, the unique key of the downstream event: the wamid, wamid:status, or a content hash. */
  dedupeKind: DedupeKind;
  dedupeKey: string;
  /**
   * The normalizer has checked `data` against its contract class (it must: what fails is degraded
   * or quarantined), so publishing need not check it again: skipping the second class-validator
   * pass cut a normalizer's CPU per raw record by about a quarter (bench:ingress, alternating runs).
   * Quarantine records are not checked here; the outbox checks them.
   */
  contractChecked: boolean;
}

export type NormalizedItem =
  | (ItemBase & { topic: 'inboundMessage'; data: InboundMessageV1 })
  | (ItemBase & { topic: 'messageStatus'; data: MessageStatusV1 })
  | (ItemBase & { topic: 'accountEvent'; data: AccountEventV1 })
  | (ItemBase & { topic: 'webhookQuarantine'; data: WebhookQuarantineV1 });

const MEDIA_TYPES = new Set(['image', 'audio', 'video', 'document', 'sticker']);
const KNOWN_TYPES = new Set<string>(INBOUND_MESSAGE_TYPES.filter((t) => t !== 'unknown'));
const STATUSES = new Set<string>(MESSAGE_STATUSES);

const FIELD_KINDS: Record<string, string> = {
  message_template_status_update: 'template_status',
  message_template_quality_update: 'template_quality',
  template_category_update: 'template_category',
  message_template_components_update: 'template_components',
  phone_number_quality_update: 'phone_number_quality',
  account_update: 'account_update',
  account_alerts: 'account_alert',
  business_capability_update: 'business_capability',
  user_preferences: 'user_preference',
};

/** Meta's examples show `en-US` in template webhooks; the template API and our registry use `en_US`. */
export function normalizeTemplateLanguage(language: string | undefined): string | undefined {
  return language?.replace(/-/g, '_');
}

function errorsOf(value: unknown): WebhookError[] | undefined {
  const errors = asArray(value).flatMap((e): WebhookError[] => {
    const error = asObject(e);
    const code = asInteger(error?.code);
    if (!error || code === undefined) return [];
    return [
      {
        code,
        title: asString(error.title),
        message: asString(error.message),
        details: asString(asObject(error.error_data)?.details),
        href: asString(error.href),
      },
    ];
  });
  return errors.length ? errors : undefined;
}

function phoneFromWaId(waId: string | undefined): string | undefined {
  return waId && /^[1-9]\d{6,14}$/.test(waId) ? `+${waId}` : undefined;
}

const clip = (text: string | undefined, max: number) => (text === undefined ? undefined : text.slice(0, max));

/**
 * The citizen behind a message. `wa_id` may be empty for people with a username (2026), when the
 * business-scoped `user_id` is the stable id; `from` is not assumed to be a phone number. The
 * BSUID's companions (username, country code, parent BSUID) travel with it when Meta sends them.
 */
function contactOf(message: Json, contacts: Json[]): InboundContact {
  const from = nonEmpty(asString(message.from));
  const fromUserId = nonEmpty(asString(message.from_user_id)) ?? nonEmpty(asString(message.user_id));
  const match =
    contacts.find((c) => from !== undefined && asString(c.wa_id) === from) ??
    contacts.find((c) => fromUserId !== undefined && asString(c.user_id) === fromUserId) ??
    (contacts.length === 1 ? contacts[0] : undefined);
  const waId = nonEmpty(asString(match?.wa_id)) ?? (from && /^\d+$/.test(from) ? from : undefined);
  const bsuid = nonEmpty(asString(match?.user_id)) ?? fromUserId ?? (from && !/^\+?\d+$/.test(from) ? from : undefined);
  const profile = asObject(match?.profile);
  return {
    waId: waId && waId.length <= 32 ? waId : undefined,
    bsuid: clip(bsuid, 256),
    phone: phoneFromWaId(waId),
    profileName: clip(nonEmpty(asString(profile?.name)), 256),
    username: clip(nonEmpty(asString(profile?.username)) ?? nonEmpty(asString(match?.username)), 256),
    countryCode: clip(nonEmpty(asString(match?.country_code)), 256),
    parentUserId: clip(nonEmpty(asString(match?.parent_user_id)) ?? nonEmpty(asString(message.from_parent_user_id)), 256),
  };
}

function mediaOf(type: string, message: Json): MediaRef | undefined {
  const media = asObject(message[type]);
  const mediaId = asString(media?.id);
  if (!media || !mediaId) return undefined;
  return {
    mediaId,
    mimeType: asString(media.mime_type),
    sha256: asString(media.sha256),
    caption: asString(media.caption),
    filename: asString(media.filename),
    url: asString(media.url),
    voice: asBoolean(media.voice),
    animated: asBoolean(media.animated),
  };
}

function interactiveOf(message: Json): InteractiveReply | undefined {
  const interactive = asObject(message.interactive);
  if (!interactive) return undefined;
  const kind = asString(interactive.type);
  if (kind === 'button_reply' || kind === 'list_reply') {
    const reply = asObject(interactive[kind]);
    return { kind, id: asString(reply?.id), title: asString(reply?.title), description: asString(reply?.description) };
  }
  if (kind === 'nfm_reply') {
    const reply = asObject(interactive.nfm_reply);
    const responseJson = asString(reply?.response_json);
    let response: Json | undefined;
    if (responseJson !== undefined) {
      try {
        response = asObject(JSON.parse(responseJson)) ?? { value: JSON.parse(responseJson) as unknown };
      } catch {
        // Keep what the citizen submitted even when it is not JSON.
        response = { raw: responseJson };
      }
    }
    return {
      kind,
      id: asString(response?.flow_token),
      name: asString(reply?.name),
      title: asString(reply?.body),
      response,
      responseJson,
    };
  }
  return { kind: 'unknown' };
}

function contextOf(message: Json): InboundMessageV1['context'] {
  const context = asObject(message.context);
  if (!context) return undefined;
  const product = asObject(context.referred_product);
  const frequentlyForwarded = asBoolean(context.frequently_forwarded);
  return {
    from: asString(context.from),
    messageId: asString(context.id),
    // Meta sends `frequently_forwarded` alone for a message forwarded more than five times.
    forwarded: frequentlyForwarded === true ? true : asBoolean(context.forwarded),
    frequentlyForwarded,
    referredProduct: product
      ? { catalogId: asString(product.catalog_id), productRetailerId: asString(product.product_retailer_id) }
      : undefined,
  };
}

function typeSpecific(type: string, message: Json): Partial<InboundMessageV1> {
  if (type === 'text') return { text: asString(asObject(message.text)?.body) };
  if (MEDIA_TYPES.has(type)) return { media: mediaOf(type, message) };
  if (type === 'location') {
    const location = asObject(message.location);
    const latitude = asNumber(location?.latitude);
    const longitude = asNumber(location?.longitude);
    if (latitude === undefined || longitude === undefined) return {};
    return {
      location: { latitude, longitude, name: asString(location?.name), address: asString(location?.address), url: asString(location?.url) },
    };
  }
  if (type === 'contacts') return { contacts: asArray(message.contacts).map((c) => camelize(c) as Json) };
  if (type === 'interactive') return { interactive: interactiveOf(message) };
  if (type === 'button') {
    const button = asObject(message.button);
    return { button: { text: asString(button?.text), payload: asString(button?.payload) } };
  }
  if (type === 'reaction') {
    const reaction = asObject(message.reaction);
    const messageId = asString(reaction?.message_id);
    // An absent (or empty) emoji means the citizen removed the reaction.
    return messageId ? { reaction: { messageId, emoji: nonEmpty(asString(reaction?.emoji)) } } : {};
  }
  if (type === 'order') return { order: asObject(camelize(message.order)) };
  if (type === 'system') {
    const system = asObject(message.system);
    return {
      system: {
        type: asString(system?.type),
        body: asString(system?.body),
        newWaId: asString(system?.wa_id) ?? asString(system?.new_wa_id) ?? asString(system?.customer),
      },
    };
  }
  return {};
}

/** Is the type's essential content present? If not, the message travels as `unknown` with its original. */
function hasContent(type: string, fields: Partial<InboundMessageV1>): boolean {
  if (type === 'text') return fields.text !== undefined;
  if (MEDIA_TYPES.has(type)) return fields.media !== undefined;
  if (type === 'location') return fields.location !== undefined;
  if (type === 'interactive') return fields.interactive !== undefined;
  if (type === 'reaction') return fields.reaction !== undefined;
  if (type === 'order') return fields.order !== undefined;
  return true;
}

/** Unsupported messages and interactive replies of a kind we do not know travel with Meta's object. */
function keepsOriginal(type: string, fields: Partial<InboundMessageV1>): boolean {
  return type === 'unsupported' || fields.interactive?.kind === 'unknown';
}

function withoutUndefined<T extends object>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Statuses keep their order; `failed` is terminal and `read` may arrive without `delivered`. */
function statusOf(value: unknown): MessageStatus | undefined {
  const status = asString(value);
  return status !== undefined && STATUSES.has(status) ? (status as MessageStatus) : undefined;
}

class Normalizer {
  readonly items: NormalizedItem[] = [];

  constructor(
    private readonly meta: RawWebhookMeta,
    private readonly directory: TenantDirectory,
  ) {}

  quarantine(tenantId: string, reason: QuarantineReason, detail: string, fragment: unknown, path?: string): void {
    const body = typeof fragment === 'string' ? fragment : JSON.stringify(fragment ?? null);
    const data: WebhookQuarantineV1 = {
      tenantId,
      appId: this.meta.appId.slice(0, 128),
      reason,
      detail,
      receivedAt: this.meta.receivedAt,
      body,
      rawEventId: this.meta.rawEventId,
      path,
    };
    this.items.push({
      topic: 'webhookQuarantine',
      tenantId,
      dedupeKind: 'quarantine',
      dedupeKey: sha256Hex(`${this.meta.appId}\u0000${reason}\u0000${body}`),
      data,
      contractChecked: false,
    });
  }

  run(body: string): void {
    let payload: Json | undefined;
    try {
      payload = asObject(parsePreservingBigIds(body));
    } catch (error) {
      this.quarantine(UNROUTED_TENANT, 'unparseable', (error as Error).message, body);
      return;
    }
    if (!payload || payload.object !== 'whatsapp_business_account' || !Array.isArray(payload.entry)) {
      this.quarantine(UNROUTED_TENANT, 'not-whatsapp', 'expected {"object":"whatsapp_business_account","entry":[...]}', body);
      return;
    }
    payload.entry.forEach((entry, e) => this.entry(entry, `entry[${e}]`));
  }

  private entry(value: unknown, path: string): void {
    const entry = asObject(value);
    if (!entry) {
      this.quarantine(UNROUTED_TENANT, 'normalize-failed', 'entry is not an object', value, path);
      return;
    }
    const wabaId = asString(entry.id);
    asArray(entry.changes).forEach((change, c) => this.change(entry, wabaId, change, `${path}.changes[${c}]`));
    if (!Array.isArray(entry.changes)) {
      this.quarantine(this.wabaTenant(wabaId)?.id ?? UNROUTED_TENANT, 'normalize-failed', 'entry has no changes array', entry, path);
    }
  }

  private wabaTenant(wabaId: string | undefined): TenantRef | undefined {
    return wabaId ? this.directory.tenantByWabaId(wabaId) : undefined;
  }

  /** A tenant may only be spoken for by its own app (whose secret signed the body). */
  private allowed(tenant: TenantRef, fragment: unknown, path: string): boolean {
    if (tenant.appId === this.meta.appId) return true;
    this.quarantine(tenant.id, 'app-mismatch', `tenant ${tenant.id} is served by app ${tenant.appId}`, fragment, path);
    return false;
  }

  private change(entry: Json, wabaId: string | undefined, value: unknown, path: string): void {
    const change = asObject(value);
    const changeValue = asObject(change?.value);
    if (!change || !changeValue) {
      this.quarantine(this.wabaTenant(wabaId)?.id ?? UNROUTED_TENANT, 'normalize-failed', 'change has no value object', value, path);
      return;
    }
    const field = asString(change.field) ?? '';
    const metadata = asObject(changeValue.metadata);
    const messaging = field === 'messages' || metadata !== undefined;
    if (messaging) this.messagingChange(entry, wabaId, field, changeValue, change, path);
    else this.accountChange(entry, wabaId, field, changeValue, change, path);
  }

  /** `messages` changes (and any value with metadata): route on phone_number_id, then on the keys present. */
  private messagingChange(entry: Json, wabaId: string | undefined, field: string, value: Json, change: Json, path: string): void {
    const phoneNumberId = asString(asObject(value.metadata)?.phone_number_id);
    const resolved = phoneNumberId ? this.directory.tenantByPhoneNumberId(phoneNumberId) : undefined;
    if (!resolved) {
      this.quarantine(
        this.wabaTenant(wabaId)?.id ?? UNROUTED_TENANT,
        'unknown-phone-number',
        phoneNumberId ? `phone_number_id ${phoneNumberId} belongs to no tenant` : 'change has no metadata.phone_number_id',
        change,
        path,
      );
      return;
    }
    const tenant = resolved.tenant;
    if (!this.allowed(tenant, change, path)) return;
    const contacts = asArray(value.contacts)
      .map(asObject)
      .filter((c): c is Json => c !== undefined);
    const wabaOrTenant = wabaId ?? tenant.wabaId;
    asArray(value.messages).forEach((m, i) =>
      this.message(tenant.id, phoneNumberId!, wabaOrTenant, m, contacts, `${path}.value.messages[${i}]`),
    );
    asArray(value.statuses).forEach((s, i) => this.status(tenant.id, phoneNumberId!, wabaOrTenant, s, `${path}.value.statuses[${i}]`));
    const errors = errorsOf(value.errors);
    if (Array.isArray(value.errors)) {
      const first = errors?.[0];
      this.account(
        tenant.id,
        {
          wabaId: wabaOrTenant,
          field: field || 'messages',
          kind: 'webhook_error',
          event: first ? String(first.code) : undefined,
          reason: first?.title,
          details: { errors: value.errors, metadata: value.metadata },
          phoneNumberId,
        },
        isoFromUnixSeconds(entry.time),
        `${path}.value.errors`,
        value.errors,
      );
    }
    asArray(value.user_preferences).forEach((p, i) =>
      this.userPreference(tenant.id, wabaOrTenant, phoneNumberId, p, `${path}.value.user_preferences[${i}]`),
    );
    const routed = ['messages', 'statuses', 'errors', 'user_preferences'].some((k) => Array.isArray(value[k]));
    if (!routed) {
      this.account(
        tenant.id,
        {
          wabaId: wabaOrTenant,
          field,
          kind: 'other',
          details: value,
          phoneNumberId,
        },
        isoFromUnixSeconds(entry.time),
        path,
        value,
      );
    }
  }

  private message(tenantId: string, phoneNumberId: string, wabaId: string, value: unknown, contacts: Json[], path: string): void {
    const message = asObject(value);
    const messageId = asString(message?.id);
    if (!message || !messageId) {
      this.quarantine(tenantId, 'normalize-failed', 'message has no id', value, path);
      return;
    }
    const rawType = asString(message.type) ?? '';
    const base: InboundMessageV1 = {
      tenantId,
      phoneNumberId,
      wabaId,
      messageId: messageId.slice(0, 256),
      contact: contactOf(message, contacts),
      sentAt: isoFromUnixSeconds(message.timestamp) ?? this.meta.receivedAt,
      receivedAt: this.meta.receivedAt,
      type: 'unknown',
      context: contextOf(message),
      referral: asObject(camelize(message.referral)),
      errors: errorsOf(message.errors),
      rawEventId: this.meta.rawEventId,
    };
    const fields = KNOWN_TYPES.has(rawType) ? typeSpecific(rawType, message) : {};
    const full: InboundMessageV1 =
      KNOWN_TYPES.has(rawType) && hasContent(rawType, fields)
        ? { ...base, ...fields, type: rawType as InboundMessageType, original: keepsOriginal(rawType, fields) ? message : undefined }
        : { ...base, type: 'unknown', original: message };
    // Degrade rather than lose: a known type whose content fails the contract still reaches the
    // bot as `unknown` with the original; only a message that cannot even be that is quarantined.
    for (const candidate of [full, { ...base, type: 'unknown' as const, original: message }]) {
      const data = withoutUndefined(candidate);
      const { errors } = validatePayload(InboundMessageV1, data);
      if (errors.length === 0) {
        this.items.push({
          topic: 'inboundMessage',
          tenantId,
          dedupeKind: 'message',
          dedupeKey: data.messageId,
          data,
          contractChecked: true,
        });
        return;
      }
      if (candidate.type === 'unknown') {
        this.quarantine(tenantId, 'normalize-failed', `message failed the contract: ${errors.join('; ')}`.slice(0, 4000), message, path);
        return;
      }
    }
  }

  private status(tenantId: string, phoneNumberId: string, wabaId: string, value: unknown, path: string): void {
    const status = asObject(value);
    const messageId = asString(status?.id);
    const state = statusOf(status?.status);
    if (!status || !messageId || !state) {
      this.quarantine(tenantId, 'normalize-failed', 'status without id or with an unknown status value', value, path);
      return;
    }
    const pricing = asObject(status.pricing);
    const conversation = asObject(status.conversation);
    const data = withoutUndefined<MessageStatusV1>({
      tenantId,
      phoneNumberId,
      wabaId,
      messageId,
      status: state,
      occurredAt: isoFromUnixSeconds(status.timestamp) ?? this.meta.receivedAt,
      recipientId: nonEmpty(asString(status.recipient_id)),
      recipientUserId: nonEmpty(asString(status.recipient_user_id)),
      bizOpaqueCallbackData: asString(status.biz_opaque_callback_data),
      pricing: pricing
        ? {
            billable: asBoolean(pricing.billable),
            pricingModel: asString(pricing.pricing_model),
            type: asString(pricing.type),
            category: asString(pricing.category),
          }
        : undefined,
      errors: errorsOf(status.errors),
      conversation: conversation
        ? {
            id: asString(conversation.id),
            expiresAt: isoFromUnixSeconds(conversation.expiration_timestamp),
            originType: asString(asObject(conversation.origin)?.type),
          }
        : undefined,
      rawEventId: this.meta.rawEventId,
    });
    const { errors } = validatePayload(MessageStatusV1, data);
    if (errors.length) {
      this.quarantine(tenantId, 'normalize-failed', `status failed the contract: ${errors.join('; ')}`.slice(0, 4000), status, path);
      return;
    }
    this.items.push({
      topic: 'messageStatus',
      tenantId,
      dedupeKind: 'status',
      dedupeKey: `${messageId}:${state}`,
      data,
      contractChecked: true,
    });
  }

  private userPreference(tenantId: string, wabaId: string, phoneNumberId: string | undefined, value: unknown, path: string): void {
    const preference = asObject(value);
    if (!preference) {
      this.quarantine(tenantId, 'normalize-failed', 'user_preferences item is not an object', value, path);
      return;
    }
    this.account(
      tenantId,
      {
        wabaId,
        field: 'user_preferences',
        kind: 'user_preference',
        event: asString(preference.value),
        reason: asString(preference.category),
        details: preference,
        phoneNumberId,
      },
      isoFromUnixSeconds(preference.timestamp),
      path,
      preference,
    );
  }

  /** Management fields: tenant by WABA id (entry.id); route on the shape of value as well as the field. */
  private accountChange(entry: Json, wabaId: string | undefined, field: string, value: Json, change: Json, path: string): void {
    const tenant = this.wabaTenant(wabaId);
    if (!tenant || !wabaId) {
      this.quarantine(UNROUTED_TENANT, 'unknown-waba', wabaId ? `WABA ${wabaId} belongs to no tenant` : 'entry has no id', change, path);
      return;
    }
    if (!this.allowed(tenant, change, path)) return;
    if (field === 'user_preferences' || Array.isArray(value.user_preferences)) {
      asArray(value.user_preferences).forEach((p, i) =>
        this.userPreference(tenant.id, wabaId, undefined, p, `${path}.value.user_preferences[${i}]`),
      );
      return;
    }
    // Meta's sample of a quality update is filed under the status field: the shape decides.
    const kind =
      value.new_quality_score !== undefined && field.startsWith('message_template') ? 'template_quality' : (FIELD_KINDS[field] ?? 'other');
    const templateId = asString(value.message_template_id);
    this.account(
      tenant.id,
      {
        wabaId,
        field,
        kind,
        event: asString(value.event) ?? asString(value.new_quality_score) ?? asString(value.alert_type),
        templateId,
        templateName: asString(value.message_template_name),
        templateLanguage: normalizeTemplateLanguage(asString(value.message_template_language)),
        reason: asString(value.reason) ?? asString(asObject(value.rejection_info)?.reason),
        details: value,
      },
      isoFromUnixSeconds(entry.time) ?? isoFromUnixSeconds(value.timestamp),
      path,
      value,
    );
  }

  /**
   * Account events have no natural id: the same content at the same Meta time is the same event,
   * however often delivered. Without a Meta time, the raw record stands in (a redelivery of the
   * same body dedupes; the same content in a later webhook is a new occurrence).
   */
  private account(
    tenantId: string,
    fields: Omit<AccountEventV1, 'tenantId' | 'rawEventId' | 'occurredAt'>,
    metaTime: string | undefined,
    path: string,
    fragment: unknown,
  ): void {
    const data = withoutUndefined<AccountEventV1>({
      tenantId,
      ...fields,
      occurredAt: metaTime ?? this.meta.receivedAt,
      rawEventId: this.meta.rawEventId,
    });
    const { errors } = validatePayload(AccountEventV1, data);
    if (errors.length) {
      this.quarantine(
        tenantId,
        'normalize-failed',
        `account event failed the contract: ${errors.join('; ')}`.slice(0, 4000),
        fragment,
        path,
      );
      return;
    }
    const identity = JSON.stringify([data.wabaId, data.phoneNumberId ?? '', data.field, data.kind, data.details]);
    this.items.push({
      topic: 'accountEvent',
      tenantId,
      dedupeKind: 'account',
      dedupeKey: sha256Hex(`${identity}\u0000${metaTime ?? this.meta.rawEventId}`),
      data,
      contractChecked: true,
    });
  }
}

/**
 * The quarantine record of a raw record whose signature does not verify: the whole body, of no
 * tenant (nothing in a forged record, its tenant attribute included, can be trusted).
 */
export function signatureMismatch(body: string, meta: RawWebhookMeta, detail: string): NormalizedItem[] {
  const normalizer = new Normalizer(meta, { tenantByPhoneNumberId: () => undefined, tenantByWabaId: () => undefined });
  normalizer.quarantine(UNROUTED_TENANT, 'signature-mismatch', detail, body);
  return normalizer.items;
}

/**
 * Turns one raw webhook body into typed events (and quarantine records for what cannot be typed).
 * Pure and total: it never throws, whatever the body; every event it returns passes its contract.
 */
export function normalizeWebhook(body: string, meta: RawWebhookMeta, directory: TenantDirectory): NormalizedItem[] {
  const normalizer = new Normalizer(meta, directory);
  try {
    normalizer.run(body);
    return normalizer.items;
  } catch (error) {
    // A bug here must not lose the webhook: keep all of it for inspection and replay.
    const fallback = new Normalizer(meta, directory);
    fallback.quarantine(UNROUTED_TENANT, 'normalize-failed', `normalizer error: ${(error as Error).message}`, body);
    return fallback.items;
  }
}
