import { citizenKeyOf, type CitizenIdentity } from './citizen-key';
import type { AgencyCaseV1 } from './events/agency';
import * as agency from './events/agency';
import * as citizen from './events/citizen';
import * as handoff from './events/handoff';
import * as outbound from './events/outbound';
import * as privacy from './events/privacy';
import * as templates from './events/templates';
import * as webhook from './events/webhook';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type PayloadClass<T = any> = new () => T;

const DAY = 24 * 60 * 60 * 1000;

export interface TopicSpec<T extends object = object> {
  /** `<domain>.<entity>.<event>.v<N>`: a breaking change is a new topic, not an edit. */
  readonly name: string;
  readonly description: string;
  readonly partitions: number;
  readonly cleanupPolicy: 'delete' | 'compact';
  /** -1 keeps records forever (compacted read models). */
  readonly retentionMs: number;
  /** Largest record the topic accepts (`max.message.bytes`); the broker default is 1 MB. */
  readonly maxMessageBytes?: number;
  /** The CloudEvents `ce_type` values this topic carries, each with its payload class. */
  readonly types: Readonly<Record<string, PayloadClass<T>>>;
  /** Partition key: everything about one citizen (or one document) lands in one partition, in order. */
  key(data: T): string;
  readonly keyDescription: string;
  /**
   * For a topic whose record value is not the JSON of its payload: how the payload maps to the
   * value and to CloudEvents attributes (headers) and back. The decoded object is validated
   * against the payload class like any other.
   */
  readonly valueCodec?: RecordValueCodec<T>;
}

export interface RecordValueCodec<T> {
  /** For docs/contracts.md: what the value is and which attributes carry the rest. */
  readonly description: string;
  /** The value, its media type, and the attributes that carry the payload's other fields. */
  encode(data: T): { value: string; contentType: string; headers: Record<string, string> };
  /** The payload as a plain object, from the value and the record's headers (as strings). */
  decode(value: Buffer, header: (name: string) => string | undefined): unknown;
}

/** Meta's body as the value; app, signature and receipt time as CloudEvents extension attributes. */
const rawWebhookCodec: RecordValueCodec<webhook.WebhookRawV2> = {
  description:
    "the request body's bytes exactly as Meta sent them (`content-type: application/json`); `appId` and `signature` travel as `ce_waappid` and `ce_wasignature`, `receivedAt` as `ce_time`, `tenantId` as `ce_tenant`",
  encode: (d) => ({
    value: d.body,
    contentType: 'application/json',
    // The event time of a raw webhook is its receipt. Keys written out, as in the envelope's
    // headers (computed keys build the object on V8's slow path); envelope.spec pins them.
    headers: { ce_time: d.receivedAt, ce_waappid: d.appId, ce_wasignature: d.signature },
  }),
  decode: (value, header) => ({
    tenantId: header('ce_tenant'),
    appId: header('ce_waappid'),
    receivedAt: header('ce_time'),
    body: value.toString('utf8'),
    signature: header('ce_wasignature'),
  }),
};

function topic<T extends object>(spec: TopicSpec<T>): TopicSpec<T> {
  return Object.freeze(spec);
}

/** Everything about one citizen on one partition: `tenant:citizenKey` (see citizen-key.ts). */
function contactKey(tenantId: string, contact: CitizenIdentity): string {
  return `${tenantId}:${citizenKeyOf(contact) ?? 'unknown'}`;
}

type AgencySubject = { tenantId: string; document?: { documentId: string }; reference?: string; citizen: { subjectId: string } };

/** The single source of topic names, partitioning and payload classes. */
export const Topics = {
  webhookRaw: topic<webhook.WebhookRawV2>({
    name: 'wa.webhook.raw.v2',
    description: "Signed webhook bodies exactly as Meta sent them, before parsing: the value is the body's bytes",
    partitions: 6,
    cleanupPolicy: 'delete',
    retentionMs: 14 * DAY,
    // Meta posts bodies up to 3 MB and the ingress accepts 4 MB; the value is the body itself.
    maxMessageBytes: 5 * 1024 * 1024,
    types: { 'wa.webhook.raw.v2': webhook.WebhookRawV2 },
    key: (d) => `${d.tenantId}:${d.appId}`,
    keyDescription: 'tenantId:appId',
    valueCodec: rawWebhookCodec,
  }),
  webhookQuarantine: topic<webhook.WebhookQuarantineV1>({
    name: 'wa.webhook.quarantine.v1',
    description: 'Signed bodies that could not be normalized, or named an unknown phone number',
    partitions: 1,
    cleanupPolicy: 'delete',
    retentionMs: 30 * DAY,
    maxMessageBytes: 8 * 1024 * 1024,
    types: { 'wa.webhook.quarantine.v1': webhook.WebhookQuarantineV1 },
    key: (d) => `${d.tenantId}:${d.reason}`,
    keyDescription: 'tenantId:reason',
  }),
  inboundMessage: topic<webhook.InboundMessageV1>({
    name: 'wa.inbound.message.v1',
    description: 'Normalized citizen messages, one per wamid',
    partitions: 6,
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY,
    types: { 'wa.inbound.message.v1': webhook.InboundMessageV1 },
    key: (d) => contactKey(d.tenantId, d.contact),
    keyDescription: 'tenantId:citizenKey',
  }),
  messageStatus: topic<webhook.MessageStatusV1>({
    name: 'wa.message.status.v1',
    description: 'Normalized status updates of our outbound messages, one per (wamid, status)',
    partitions: 6,
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY,
    types: { 'wa.message.status.v1': webhook.MessageStatusV1 },
    key: (d) => `${d.tenantId}:${citizenKeyOf({ waId: d.recipientId, bsuid: d.recipientUserId }) ?? d.messageId}`,
    keyDescription: 'tenantId:citizenKey (the message id when the status names no recipient)',
  }),
  accountEvent: topic<webhook.AccountEventV1>({
    name: 'wa.account.event.v1',
    description: 'Template, quality, account and user-preference events from Meta',
    partitions: 3,
    cleanupPolicy: 'delete',
    retentionMs: 30 * DAY,
    types: { 'wa.account.event.v1': webhook.AccountEventV1 },
    key: (d) => `${d.tenantId}:${d.wabaId}`,
    keyDescription: 'tenantId:wabaId',
  }),
  outboundRequest: topic<outbound.OutboundRequestV1>({
    name: 'wa.outbound.request.v1',
    description: 'Send commands for the outbound gateway',
    partitions: 12,
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY,
    types: { 'wa.outbound.request.v1': outbound.OutboundRequestV1 },
    key: (d) => contactKey(d.tenantId, d.to),
    keyDescription: 'tenantId:citizenKey',
  }),
  outboundResult: topic<outbound.OutboundResultV1>({
    name: 'wa.outbound.result.v1',
    description: 'Accepted (with wamid) or failed (with code and reason), one per send request',
    partitions: 6,
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY,
    types: { 'wa.outbound.result.v1': outbound.OutboundResultV1 },
    key: (d) => `${d.tenantId}:${d.requestId}`,
    keyDescription: 'tenantId:requestId',
  }),
  citizenConsent: topic<outbound.CitizenConsentV1>({
    name: 'citizen.consent.v1',
    description: 'Opt-in and opt-out per citizen and message category',
    partitions: 3,
    cleanupPolicy: 'delete',
    retentionMs: 365 * DAY,
    types: { 'citizen.consent.v1': outbound.CitizenConsentV1 },
    key: (d) => contactKey(d.tenantId, d.contact),
    keyDescription: 'tenantId:citizenKey',
  }),
  citizenPreference: topic<citizen.CitizenPreferenceV1>({
    name: 'citizen.preference.v1',
    description: "A citizen's chosen language, for notices whose agency event names none (compacted)",
    partitions: 3,
    cleanupPolicy: 'compact',
    retentionMs: -1,
    types: { 'citizen.preference.v1': citizen.CitizenPreferenceV1 },
    key: (d) => `${d.tenantId}:${d.citizenKey}`,
    keyDescription: 'tenantId:citizenKey',
  }),
  templateCatalog: topic<templates.TemplateCatalogEntryV1>({
    name: 'templates.catalog.v1',
    description: 'Latest state of every template translation (compacted read model source)',
    partitions: 3,
    cleanupPolicy: 'compact',
    retentionMs: -1,
    types: { 'templates.catalog.v1': templates.TemplateCatalogEntryV1 },
    key: (d) => `${d.tenantId}:${d.name}:${d.language}`,
    keyDescription: 'tenantId:name:language',
  }),
  agencyEvent: topic<AgencySubject & object>({
    name: 'agency.event.v1',
    description: 'Events from agency back-office systems (CloudEvents, type per event kind)',
    partitions: 12,
    cleanupPolicy: 'delete',
    retentionMs: 30 * DAY,
    types: {
      'agency.document.expiring.v1': agency.DocumentExpiringV1,
      'agency.document.renewed.v1': agency.DocumentRenewedV1,
      'agency.document.cancelled.v1': agency.DocumentCancelledV1,
      'agency.document.expiry-changed.v1': agency.DocumentExpiryChangedV1,
      'agency.payment.due.v1': agency.PaymentDueV1,
      'agency.payment.received.v1': agency.PaymentReceivedV1,
      'agency.documents.ready.v1': agency.DocumentsReadyV1,
      'agency.application.received.v1': agency.ApplicationReceivedV1,
    },
    key: (d) => `${d.tenantId}:${d.document?.documentId ?? d.reference ?? d.citizen.subjectId}`,
    keyDescription: 'tenantId:documentId (or payment/application reference)',
  }),
  notificationOutcome: topic<agency.NotificationOutcomeV1>({
    name: 'agency.notification.outcome.v1',
    description: 'What happened to each notice, so agencies can fall back to SMS or letter',
    partitions: 6,
    cleanupPolicy: 'delete',
    retentionMs: 30 * DAY,
    types: { 'agency.notification.outcome.v1': agency.NotificationOutcomeV1 },
    key: (d) => `${d.tenantId}:${d.documentId ?? d.subjectId}`,
    keyDescription: 'tenantId:documentId',
  }),
  agencyCase: topic<AgencyCaseV1>({
    name: 'agency.case.v1',
    description: 'Problem reports and forms collected by the chatbot',
    partitions: 3,
    cleanupPolicy: 'delete',
    retentionMs: 30 * DAY,
    types: { 'agency.case.v1': agency.AgencyCaseV1 },
    key: (d) => `${d.tenantId}:${d.caseId}`,
    keyDescription: 'tenantId:caseId',
  }),
  handoffRequest: topic<handoff.HandoffRequestV1>({
    name: 'handoff.request.v1',
    description: 'The bot asks for a human agent, with the transcript',
    partitions: 3,
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY,
    types: { 'handoff.request.v1': handoff.HandoffRequestV1 },
    key: (d) => `${d.tenantId}:${d.citizenKey}`,
    keyDescription: 'tenantId:citizenKey',
  }),
  handoffMessage: topic<handoff.HandoffMessageV1>({
    name: 'handoff.message.v1',
    description: 'Citizen messages forwarded to the agent handling the conversation',
    partitions: 6,
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY,
    types: { 'handoff.message.v1': handoff.HandoffMessageV1 },
    key: (d) => `${d.tenantId}:${d.citizenKey}`,
    keyDescription: 'tenantId:citizenKey',
  }),
  conversationOwner: topic<handoff.ConversationOwnerV1>({
    name: 'conversation.owner.v1',
    description: 'Who answers the citizen (bot, queued, agent, closed): the only way the owner changes',
    partitions: 6,
    cleanupPolicy: 'delete',
    retentionMs: 30 * DAY,
    types: { 'conversation.owner.v1': handoff.ConversationOwnerV1 },
    key: (d) => `${d.tenantId}:${d.citizenKey}`,
    keyDescription: 'tenantId:citizenKey',
  }),
  callcenterDeflection: topic<handoff.CallcenterDeflectionV1>({
    name: 'callcenter.deflection.v1',
    description: 'A caller in the voice queue accepted to continue on WhatsApp',
    partitions: 3,
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY,
    types: { 'callcenter.deflection.v1': handoff.CallcenterDeflectionV1 },
    key: (d) => `${d.tenantId}:${d.callId}`,
    keyDescription: 'tenantId:callId',
  }),
  callcenterDeflectionResult: topic<handoff.CallcenterDeflectionResultV1>({
    name: 'callcenter.deflection.result.v1',
    description: 'Whether the deflected caller was reached on WhatsApp',
    partitions: 3,
    cleanupPolicy: 'delete',
    retentionMs: 7 * DAY,
    types: { 'callcenter.deflection.result.v1': handoff.CallcenterDeflectionResultV1 },
    key: (d) => `${d.tenantId}:${d.callId}`,
    keyDescription: 'tenantId:callId',
  }),
  citizenErasure: topic<privacy.CitizenErasureRequestedV1>({
    name: 'citizen.erasure.v1',
    description: "A citizen's erasure request: every service erases them from its schema (docs/privacy.md)",
    partitions: 3,
    cleanupPolicy: 'delete',
    // The record names the citizen: kept only as long as a consumer outage may last.
    retentionMs: 7 * DAY,
    types: { 'citizen.erasure.v1': privacy.CitizenErasureRequestedV1 },
    key: (d) => `${d.tenantId}:${d.citizenKey}`,
    keyDescription: 'tenantId:citizenKey',
  }),
  citizenErasureResult: topic<privacy.CitizenErasureResultV1>({
    name: 'citizen.erasure.result.v1',
    description: 'One service erased a citizen: rows deleted and anonymised per table, keyed by request (never by citizen)',
    partitions: 3,
    cleanupPolicy: 'delete',
    retentionMs: 30 * DAY,
    types: { 'citizen.erasure.result.v1': privacy.CitizenErasureResultV1 },
    key: (d) => `${d.tenantId}:${d.requestId}`,
    keyDescription: 'tenantId:requestId',
  }),
} as const;

export type TopicKey = keyof typeof Topics;
export const ALL_TOPICS: readonly TopicSpec[] = Object.values(Topics) as unknown as TopicSpec[];

const byName = new Map(ALL_TOPICS.map((t) => [t.name, t]));

export function topicByName(name: string): TopicSpec | undefined {
  return byName.get(name);
}

/** The payload type a topic carries, for handler signatures. */
export type PayloadOf<S> = S extends TopicSpec<infer T> ? T : never;
