import { randomBytes } from 'node:crypto';
import { INBOUND_MESSAGE_TYPES } from '@wa/contracts';
import type { PhoneNumberConfig, TenantConfig, TenantRegistry } from '@wa/tenancy';

/** Every inbound message type the Cloud API documents (the contract's list, minus our own "unknown"). */
export const INBOUND_TYPES = INBOUND_MESSAGE_TYPES.filter((type) => type !== 'unknown');
export const MEDIA_TYPES = ['image', 'audio', 'video', 'document', 'sticker'] as const;

export interface MediaSpec {
  mimeType?: string;
  caption?: string;
  filename?: string;
  voice?: boolean;
  animated?: boolean;
  /** The file's bytes; the sandbox makes up a small file when absent. */
  dataBase64?: string;
  /** Add the `url` field Meta started sending in 2025-11 (absent by default, as on older webhooks). */
  includeUrl?: boolean;
}

/** A citizen's message to inject, in camelCase; built into Meta's exact shape. */
export interface InboundMessageSpec {
  /** Tenant id; with no phoneNumberId the message goes to the tenant's first number. */
  tenant?: string;
  phoneNumberId?: string;
  /** The citizen's number (+E.164 or digits). Empty or absent with `userId` = a username user (2026). */
  from?: string;
  /** Business-scoped user id (BSUID). */
  userId?: string;
  profileName?: string;
  /** One of INBOUND_TYPES, or any other string to simulate a type Meta adds later. */
  type: string;
  id?: string;
  /** Unix seconds; defaults to now. */
  timestamp?: number;
  text?: string;
  media?: MediaSpec;
  location?: { latitude: number; longitude: number; name?: string; address?: string; url?: string };
  /** vCard-like objects exactly as Meta sends them. */
  contacts?: Record<string, unknown>[];
  interactive?: {
    kind: 'button_reply' | 'list_reply' | 'nfm_reply';
    id?: string;
    title?: string;
    description?: string;
    /** nfm_reply: `flow` or `address_message`. */
    name?: string;
    body?: string;
    /** nfm_reply: the form data; sent JSON-encoded as `response_json`, like Meta. */
    response?: Record<string, unknown>;
  };
  button?: { text: string; payload?: string };
  /** No emoji = the citizen removed the reaction. */
  reaction?: { messageId: string; emoji?: string };
  order?: {
    catalogId: string;
    text?: string;
    items: { productRetailerId: string; quantity: number; itemPrice: number; currency: string }[];
  };
  system?: { newWaId: string; body?: string };
  unsupported?: { type?: string };
  context?: { messageId?: string; forwarded?: boolean; frequentlyForwarded?: boolean };
  referral?: Record<string, unknown>;
  /** Merged last into the message object: Meta's raw fields for anything the spec does not cover. */
  extra?: Record<string, unknown>;
}

export interface RegisteredMedia {
  mediaId: string;
  mimeType: string;
  sha256: string;
  url?: string;
}

/** Where built messages get media ids (the sandbox media store, which also serves them back). */
export interface MediaRegistrar {
  register(tenantId: string, phoneNumberId: string, type: string, media: MediaSpec): RegisteredMedia;
}

export interface BuiltMessage {
  tenant: TenantConfig;
  phone: PhoneNumberConfig;
  message: Record<string, unknown>;
  /** Absent for system messages, which Meta sends without contacts. */
  contact?: Record<string, unknown>;
  wamid: string;
}

export class SpecError extends Error {}

/** What a reply answers: the business's interactive button or list message, or a template (quick-reply buttons). */
export type AnsweredKind = 'button' | 'list' | 'template';

/**
 * The wamid of the last message of that kind the business sent this citizen from this number (the
 * sandbox's record of accepted sends), for replies injected without `context.messageId`.
 */
export type LastSentLookup = (phoneNumberId: string, waId: string, kind: AnsweredKind) => string | undefined;

/** Button and list replies, and quick-reply buttons, always answer a message: Meta sends the context. */
function answeredKind(spec: InboundMessageSpec): AnsweredKind | undefined {
  if (spec.type === 'button') return 'template';
  if (spec.type !== 'interactive') return undefined;
  if (spec.interactive?.kind === 'button_reply') return 'button';
  if (spec.interactive?.kind === 'list_reply') return 'list';
  return undefined;
}

const DEFAULT_MIME: Record<string, string> = {
  image: 'image/jpeg',
  audio: 'audio/ogg; codecs=opus',
  video: 'video/mp4',
  document: 'application/pdf',
  sticker: 'image/webp',
};

/** Meta's wamids are base64 of an opaque structure; ours only need to look alike and be unique. */
export function newWamid(): string {
  return `wamid.${randomBytes(24).toString('base64')}`;
}

const digits = (value: string) => value.replace(/\D/g, '');
const compact = <T extends Record<string, unknown>>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

function resolvePhone(registry: TenantRegistry, spec: InboundMessageSpec): { tenant: TenantConfig; phone: PhoneNumberConfig } {
  if (spec.phoneNumberId) {
    const found = registry.tenantByPhoneNumberId(spec.phoneNumberId);
    if (!found) throw new SpecError(`no tenant has phone number id ${spec.phoneNumberId}`);
    if (spec.tenant && found.tenant.id !== spec.tenant) throw new SpecError(`${spec.phoneNumberId} is not ${spec.tenant}'s number`);
    return found;
  }
  if (!spec.tenant) throw new SpecError('tenant or phoneNumberId is required');
  const tenant = registry.tenant(spec.tenant);
  if (!tenant) throw new SpecError(`no tenant ${spec.tenant}`);
  return { tenant, phone: tenant.phoneNumbers[0] };
}

function content(spec: InboundMessageSpec, tenant: TenantConfig, phone: PhoneNumberConfig, media: MediaRegistrar): Record<string, unknown> {
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new SpecError(`type ${spec.type} needs ${what}`);
    return value;
  };
  switch (spec.type) {
    case 'text':
      return { text: { body: need(spec.text, '"text"') } };
    case 'image':
    case 'audio':
    case 'video':
    case 'document':
    case 'sticker': {
      const m = spec.media ?? {};
      const registered = media.register(tenant.id, phone.id, spec.type, { ...m, mimeType: m.mimeType ?? DEFAULT_MIME[spec.type] });
      return {
        [spec.type]: compact({
          id: registered.mediaId,
          mime_type: registered.mimeType,
          sha256: registered.sha256,
          caption: spec.type === 'audio' || spec.type === 'sticker' ? undefined : m.caption,
          filename: spec.type === 'document' ? (m.filename ?? 'document.pdf') : undefined,
          voice: spec.type === 'audio' ? (m.voice ?? false) : undefined,
          animated: spec.type === 'sticker' ? (m.animated ?? false) : undefined,
          url: m.includeUrl ? registered.url : undefined,
        }),
      };
    }
    case 'location': {
      const l = need(spec.location, '"location"');
      return { location: compact({ latitude: l.latitude, longitude: l.longitude, name: l.name, address: l.address, url: l.url }) };
    }
    case 'contacts':
      return { contacts: need(spec.contacts, '"contacts"') };
    case 'interactive': {
      const i = need(spec.interactive, '"interactive"');
      if (i.kind === 'nfm_reply') {
        return {
          interactive: {
            type: 'nfm_reply',
            nfm_reply: { name: i.name ?? 'flow', body: i.body ?? 'Sent', response_json: JSON.stringify(i.response ?? {}) },
          },
        };
      }
      const reply = compact({
        id: need(i.id, 'interactive.id'),
        title: i.title ?? i.id,
        description: i.kind === 'list_reply' ? i.description : undefined,
      });
      return { interactive: { type: i.kind, [i.kind]: reply } };
    }
    case 'button': {
      const b = need(spec.button, '"button"');
      return { button: { text: b.text, payload: b.payload ?? b.text } };
    }
    case 'reaction': {
      const r = need(spec.reaction, '"reaction"');
      return { reaction: compact({ message_id: r.messageId, emoji: r.emoji }) };
    }
    case 'order': {
      const o = need(spec.order, '"order"');
      return {
        order: compact({
          catalog_id: o.catalogId,
          text: o.text,
          product_items: o.items.map((item) => ({
            product_retailer_id: item.productRetailerId,
            quantity: item.quantity,
            item_price: item.itemPrice,
            currency: item.currency,
          })),
        }),
      };
    }
    case 'system': {
      const s = need(spec.system, '"system"');
      const name = spec.profileName ?? 'User';
      return {
        system: {
          body: s.body ?? `${name} changed from ${digits(spec.from ?? '')} to ${digits(s.newWaId)}`,
          wa_id: digits(s.newWaId),
          type: 'user_changed_number',
        },
      };
    }
    case 'unsupported':
      return {
        errors: [
          {
            code: 131051,
            title: 'Message type unknown',
            message: 'Message type unknown',
            error_data: { details: 'Message type is currently not supported.' },
          },
        ],
        unsupported: { type: spec.unsupported?.type ?? 'poll_update' },
      };
    default:
      // A type Meta might add tomorrow: sent as given, with whatever `extra` carries.
      return {};
  }
}

/**
 * Builds one message object (and its contact) exactly as Meta would put it in `value.messages[]`.
 * Button and list replies and quick-reply buttons carry `context` (`from` = the business number,
 * `id` = the wamid they answer) as Meta always sends them: given as `context.messageId`, or found
 * with `lastSent` (the last such message the sandbox accepted for this citizen); neither is an error.
 */
export function buildMessage(
  registry: TenantRegistry,
  spec: InboundMessageSpec,
  media: MediaRegistrar,
  lastSent: LastSentLookup = () => undefined,
): BuiltMessage {
  if (!spec.type || typeof spec.type !== 'string') throw new SpecError('type is required');
  const { tenant, phone } = resolvePhone(registry, spec);
  const waId = spec.from ? digits(spec.from) : '';
  if (!waId && !spec.userId) throw new SpecError('from (the citizen number) or userId (a username user) is required');
  const wamid = spec.id ?? newWamid();
  const answers = answeredKind(spec);
  let answered = spec.context?.messageId;
  // What a citizen answers or quotes is a message of the business: Meta names it by its wamid.
  if (answered !== undefined && (typeof answered !== 'string' || !answered.startsWith('wamid.')))
    throw new SpecError(`context.messageId must be the wamid of the message answered (wamid.…), not ${JSON.stringify(answered)}`);
  if (answers && !answered) {
    answered = waId ? lastSent(phone.id, waId, answers) : undefined;
    if (!answered) {
      const what = answers === 'template' ? 'template' : `interactive ${answers} message`;
      throw new SpecError(
        `a ${spec.type === 'button' ? 'button' : spec.interactive?.kind} answers a message: give context.messageId (CLI: --reply-to WAMID); ` +
          `the sandbox has sent no ${what} to ${waId || spec.userId} from ${phone.id} that it could answer`,
      );
    }
  }
  const context =
    spec.context || answered
      ? compact({
          from: answered ? digits(phone.displayNumber) : undefined,
          id: answered,
          forwarded: spec.context?.forwarded,
          frequently_forwarded: spec.context?.frequentlyForwarded,
        })
      : undefined;
  const message = compact({
    from: waId,
    ...(spec.userId ? { from_user_id: spec.userId } : {}),
    id: wamid,
    timestamp: String(spec.timestamp ?? Math.floor(Date.now() / 1000)),
    type: spec.type,
    context,
    referral: spec.referral,
    ...content(spec, tenant, phone, media),
    ...(spec.extra ?? {}),
  });
  const contact =
    spec.type === 'system'
      ? undefined
      : compact({
          profile: { name: spec.profileName ?? 'Sandbox Citizen' },
          wa_id: waId,
          user_id: spec.userId,
        });
  return { tenant, phone, message, contact, wamid };
}

export type BatchLayout = 'single-change' | 'change-per-message' | 'entry-per-message';

/**
 * Wraps built messages in Meta's envelope: entries per WABA, changes per phone number (or one per
 * message / one entry per message, as Meta sometimes batches). Everything in one POST must belong to
 * one app, since each app has its own callback URL and secret.
 */
export function buildEnvelope(messages: BuiltMessage[], layout: BatchLayout = 'single-change'): { appId: string; payload: unknown } {
  if (messages.length === 0) throw new SpecError('no messages');
  const appId = messages[0].tenant.appId;
  if (messages.some((m) => m.tenant.appId !== appId)) throw new SpecError('one webhook carries messages of one app only');
  const valueOf = (group: BuiltMessage[]) => {
    const contacts = group.map((m) => m.contact).filter((c): c is Record<string, unknown> => c !== undefined);
    const uniqueContacts = [...new Map(contacts.map((c) => [JSON.stringify(c), c])).values()];
    return compact({
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: digits(group[0].phone.displayNumber), phone_number_id: group[0].phone.id },
      contacts: uniqueContacts.length ? uniqueContacts : undefined,
      messages: group.map((m) => m.message),
    });
  };
  const change = (group: BuiltMessage[]) => ({ field: 'messages', value: valueOf(group) });
  const groupBy = <K>(items: BuiltMessage[], key: (m: BuiltMessage) => K) => {
    const groups = new Map<K, BuiltMessage[]>();
    for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
    return [...groups.values()];
  };
  let entry: unknown[];
  if (layout === 'entry-per-message') {
    entry = messages.map((m) => ({ id: m.tenant.wabaId, changes: [change([m])] }));
  } else {
    entry = groupBy(messages, (m) => m.tenant.wabaId).map((byWaba) => ({
      id: byWaba[0].tenant.wabaId,
      changes: layout === 'change-per-message' ? byWaba.map((m) => change([m])) : groupBy(byWaba, (m) => m.phone.id).map(change),
    }));
  }
  return { appId, payload: { object: 'whatsapp_business_account', entry } };
}
