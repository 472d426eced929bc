import { Injectable, Logger } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  Topics,
  citizenKeyOf,
  type AgencyCaseV1,
  type CitizenConsentV1,
  type CitizenPreferenceV1,
  type ContactRef,
  type ConversationOwnerV1,
  type HandoffMessageV1,
  type HandoffRequestV1,
  type InboundMessageV1,
  type TranscriptLine,
} from '@wa/contracts';
import { ReplyClient, ReplyContentError, applyOwnerChange, botAnswers, uuidV5, type OwnerSnapshot, type ReplyTo } from '@wa/conversation';
import { NonRetriableError, Outbox, processOnce, type OutboxEntry } from '@wa/kafka';
import { counter } from '@wa/observability';
import { InjectEnv } from '@wa/service-kit';
import { TenantRegistry, type TenantConfig } from '@wa/tenancy';
import type { ChatbotEnv } from '../config/env';
import { Effects } from '../effects/effects';
import { consentKeyword, guessLanguage, runTurn, type OutgoingMessage, type Session, type TurnInput, type TurnOutput } from '../flows';
import { CaseSequenceRepository, formatCaseReference } from '../store/case-sequences.repository';
import { FlowVersionRepository, type FlowVersionRow } from '../store/flow-versions.repository';
import { OwnerRepository } from '../store/owners.repository';
import { ProfileRepository, type CitizenProfile } from '../store/profiles.repository';
import { SessionRepository, type SessionRow } from '../store/sessions.repository';
import { appendTranscript, botLine, citizenLine, classify, replyContact } from './inbound-input';
import { notice } from './notices';

/** The flow a new session starts in when the tenant has several published flows. */
export const ENTRY_FLOW = 'main';
const MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

const turns = counter('chatbot_turns_total', 'Citizen messages handled, by outcome', ['tenant', 'outcome']);

/** Who a turn is for and how to answer them. */
interface Party {
  tenant: TenantConfig;
  citizenKey: string;
  contact: ContactRef;
  profileName?: string;
  target: ReplyTo;
}

/**
 * One citizen message, handled once: consent keywords, then (while the bot owns the conversation)
 * the flow engine, else forwarding to the agent. The session, the answers and every event of the
 * turn commit in one transaction with the inbox row of the message (so a redelivered message
 * changes nothing and is answered once; request ids also derive from the wamid and step).
 */
@Injectable()
export class TurnService {
  private readonly log = new Logger('Turn');
  readonly replies: ReplyClient;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
    private readonly registry: TenantRegistry,
    private readonly flows: FlowVersionRepository,
    private readonly sessions: SessionRepository,
    private readonly owners: OwnerRepository,
    private readonly profiles: ProfileRepository,
    private readonly cases: CaseSequenceRepository,
    private readonly effects: Effects,
    @InjectEnv() private readonly env: ChatbotEnv,
  ) {
    this.replies = new ReplyClient(outbox, 'chatbot');
  }

  /** Returns false when the message had been handled before. */
  async onInbound(message: InboundMessageV1): Promise<boolean> {
    const tenant = this.registry.tenant(message.tenantId);
    if (!tenant) throw new NonRetriableError(`tenant ${message.tenantId} is not configured`, 'unknown-tenant');
    const citizenKey = citizenKeyOf(message.contact);
    if (!citizenKey) throw new NonRetriableError('the message names no citizen (no wa_id, phone or bsuid)', 'no-citizen');
    const contact = replyContact(message.contact);
    const party: Party = {
      tenant,
      citizenKey,
      contact,
      profileName: message.contact.profileName,
      target: { tenantId: tenant.id, to: contact, inboundMessageId: message.messageId, phoneNumberId: message.phoneNumberId },
    };
    let outcome = 'repeat';
    const applied = await processOnce(this.dataSource, 'chatbot.inbound', `${tenant.id}:${message.messageId}`, async (manager) => {
      outcome = await this.turn(manager, party, message);
    });
    // Counted once committed, so a turn that rolled back and is retried counts once.
    turns.inc({ tenant: tenant.id, outcome });
    return applied;
  }

  private async turn(manager: EntityManager, party: Party, message: InboundMessageV1): Promise<string> {
    const { tenant, citizenKey } = party;
    const now = new Date();
    const profile = await this.profiles.recordInbound(manager, {
      tenantId: tenant.id,
      citizenKey,
      contact: party.contact,
      profileName: message.contact.profileName,
      phoneNumberId: message.phoneNumberId,
      at: new Date(message.sentAt),
      messageId: message.messageId,
    });
    const classified = classify(message);
    if (classified.kind === 'ignore') return `ignored:${classified.why.split(':')[0]}`;
    const owner = await this.owners.lock(manager, tenant.id, citizenKey);
    const entries: OutboxEntry[] = [];

    // STOP/START work whoever answers the citizen, in every language the tenant serves.
    const consent = classified.text ? consentKeyword(classified.text, tenant.languages) : undefined;
    if (consent) {
      const state = consent === 'opt_out' ? 'opted_out' : 'opted_in';
      const running = await this.sessions.lock(manager, tenant.id, citizenKey);
      const language = this.noticeLanguage(tenant, profile, running?.state, citizenKey);
      entries.push(this.consentEntry(party, state, 'chatbot_keyword', classified.text!.trim(), message.messageId, message.sentAt));
      entries.push(...this.safeReplies(party.target, [textMessage(notice(state, language, tenant.languages))], 0, language, tenant));
      if (!botAnswers(owner)) entries.push(this.forwardEntry(party, owner!, message));
      else if (state === 'opted_out' && running) await this.sessions.delete(manager, tenant.id, citizenKey);
      await this.outbox.addMany(manager, entries);
      return state;
    }

    if (!botAnswers(owner)) {
      await this.outbox.addMany(manager, [this.forwardEntry(party, owner!, message)]);
      return 'forwarded';
    }

    const running = await this.sessions.lock(manager, tenant.id, citizenKey);
    const live = running && running.expiresAt.getTime() > now.getTime() && running.state.waiting ? running : undefined;
    const flow = live ? await this.flows.get(tenant.id, live.flow, live.version, manager) : await this.entryFlow(tenant.id, manager);
    if (!flow) {
      // No published flow: say so politely rather than leave a question unanswered.
      const language = this.noticeLanguage(tenant, profile, undefined, citizenKey);
      await this.outbox.addMany(manager, this.safeReplies(party.target, [textMessage(notice('broken', language))], 0, language, tenant));
      this.log.warn({ tenant: tenant.id }, 'no published flow; answered with the built-in apology');
      return 'no-flow';
    }
    const seed = live?.state ?? this.seedSession(profile, flow);
    const languages = flow.definition.languages;
    const transcript = appendTranscript(live?.transcript ?? [], [citizenLine(message)]);
    await this.runAndWrite(manager, party, flow, seed, classified.input, transcript, now, {
      language: profile.language ?? guessLanguage(citizenKey, languages, languages[0]),
      contactName: profile.profileName ?? undefined,
      media: { phoneNumberId: message.phoneNumberId, filename: message.media?.filename },
      sourceMessageId: message.messageId,
      occurredAt: message.sentAt,
    });
    return live ? 'flow' : 'flow-started';
  }

  /**
   * A sweeper turn: the waiting question timed out. Answers go out only while the customer-service
   * window is open (the caller checks); request ids derive from the session's timeout.
   */
  async onTimeout(manager: EntityManager, row: SessionRow, profile: CitizenProfile, now: Date): Promise<void> {
    const tenant = this.registry.tenant(row.tenantId);
    const flow = tenant && (await this.flows.get(row.tenantId, row.flow, row.version, manager));
    if (!tenant || !flow) {
      await this.sessions.delete(manager, row.tenantId, row.citizenKey);
      return;
    }
    const contact = replyContact(profile.contact);
    const party: Party = {
      tenant,
      citizenKey: row.citizenKey,
      contact,
      profileName: profile.profileName ?? undefined,
      target: {
        tenantId: tenant.id,
        to: contact,
        inboundMessageId: `timeout:${row.citizenKey}:${row.timeoutAt?.toISOString() ?? ''}`,
        phoneNumberId: profile.phoneNumberId ?? undefined,
      },
    };
    await this.runAndWrite(manager, party, flow, row.state, { kind: 'timeout' }, row.transcript, now, {
      language: row.state.language,
      contactName: profile.profileName ?? undefined,
      media: { phoneNumberId: profile.phoneNumberId ?? undefined },
      sourceMessageId: party.target.inboundMessageId,
      occurredAt: now.toISOString(),
    });
    await this.sessions.clearDueTimeout(manager, row.tenantId, row.citizenKey, now);
  }

  private async runAndWrite(
    manager: EntityManager,
    party: Party,
    flow: FlowVersionRow,
    seed: Session | null,
    input: TurnInput,
    transcript: TranscriptLine[],
    now: Date,
    turn: {
      language?: string;
      contactName?: string;
      media: { phoneNumberId?: string; filename?: string };
      sourceMessageId: string;
      occurredAt: string;
    },
  ): Promise<void> {
    const { tenant, citizenKey } = party;
    // The effects (media download, integration call) run inside the turn's transaction: the case
    // number, the session and the answers must commit together, and each effect has its own
    // timeout, so a connection is held for at most those timeouts.
    const result = await runTurn(flow.definition, flow.version, seed, input, {
      tenantId: tenant.id,
      now,
      contactName: turn.contactName,
      language: turn.language,
      call: (integration, callInput) => this.effects.integrations.call(tenant.id, integration, callInput),
      nextCaseReference: async (prefix) => {
        const year = now.getUTCFullYear();
        return formatCaseReference(prefix, year, await this.cases.next(manager, tenant.id, prefix, year));
      },
      fetchMedia: async (mediaId) => {
        const fetched = await this.effects.media.fetch(tenant.id, mediaId, turn.media);
        if (!fetched.ok) this.log.warn({ tenant: tenant.id, mediaId, error: fetched.error }, 'media fetch failed');
        return fetched.ok ? { ok: true, ref: fetched.ref } : fetched;
      },
    });
    if (result.error) this.log.error({ tenant: tenant.id, flow: flow.flow, version: flow.version, error: result.error }, 'flow is broken');
    const session = result.session;
    const entries: OutboxEntry[] = [];
    let step = 0;
    let lines = transcript;
    for (const output of result.outputs) {
      if (output.type === 'send') {
        entries.push(...this.safeReplies(party.target, [output.message], step++, session.language, tenant));
        lines = appendTranscript(lines, [botLine(output.message, now.toISOString())]);
      } else {
        entries.push(...(await this.effect(manager, party, flow, session, output, lines, turn.sourceMessageId, turn.occurredAt)));
      }
    }
    await this.outbox.addMany(manager, entries);
    if (result.ended) await this.sessions.delete(manager, tenant.id, citizenKey);
    else {
      await this.sessions.save(
        manager,
        {
          tenantId: tenant.id,
          citizenKey,
          flow: flow.flow,
          version: flow.version,
          state: session,
          transcript: lines,
          expiresAt: session.expiresAt
            ? new Date(session.expiresAt)
            : new Date(now.getTime() + durationMs(this.env.CHATBOT_DEFAULT_EXPIRE_AFTER)),
          timeoutAt: session.timeoutAt ? new Date(session.timeoutAt) : null,
        },
        now,
      );
    }
  }

  /** The events of one non-send output (consent, case, handoff, language). */
  private async effect(
    manager: EntityManager,
    party: Party,
    flow: FlowVersionRow,
    session: Session,
    output: Exclude<TurnOutput, { type: 'send' }>,
    transcript: TranscriptLine[],
    sourceMessageId: string,
    occurredAt: string,
  ): Promise<OutboxEntry[]> {
    const { tenant, citizenKey } = party;
    switch (output.type) {
      case 'language': {
        await this.profiles.setLanguage(manager, tenant.id, citizenKey, output.language, new Date(occurredAt));
        // Published with the choice, so the scheduler uses it for notices whose agency event names no language.
        const preference: CitizenPreferenceV1 = {
          tenantId: tenant.id,
          citizenKey,
          contact: party.contact,
          language: output.language,
          chosenAt: occurredAt,
          source: 'chatbot_menu',
        };
        return [{ spec: Topics.citizenPreference, data: preference }];
      }
      case 'consent':
        return [this.consentEntry(party, output.state, 'chatbot_flow', output.keyword, sourceMessageId, occurredAt)];
      case 'case': {
        const data: AgencyCaseV1 = {
          tenantId: tenant.id,
          caseId: uuidV5(JSON.stringify([tenant.id, 'case', output.reference])),
          caseType: output.kind,
          subjectWaId: party.contact.waId ?? citizenKey,
          fields: output.fields,
          openedAt: occurredAt,
          reference: output.reference,
          citizenKey,
          contact: party.contact,
          language: session.language,
          flow: flow.flow,
          flowVersion: flow.version,
          sourceMessageId,
        };
        return [{ spec: Topics.agencyCase, data }];
      }
      case 'handoff': {
        const conversationId = uuidV5(JSON.stringify([tenant.id, 'handoff', sourceMessageId]));
        const contact = { ...party.contact, ...(party.profileName ? { profileName: party.profileName } : {}) };
        const request: HandoffRequestV1 = {
          tenantId: tenant.id,
          conversationId,
          citizenKey,
          contact,
          department: output.department,
          language: output.language,
          reason: output.reason,
          priority: Math.max(0, Math.min(100, output.priority)),
          transcript,
          requestedAt: occurredAt,
        };
        const change: ConversationOwnerV1 = {
          tenantId: tenant.id,
          citizenKey,
          contact,
          conversationId,
          change: 'handoff_requested',
          department: output.department,
          language: output.language,
          reason: output.reason,
          changedBy: 'chatbot',
          occurredAt,
        };
        // Folded here at once, so the citizen's next message already goes to the queue; the
        // event coming back on the topic is then refused by the fold (no change from `queued`).
        const current = await this.owners.lock(manager, tenant.id, citizenKey);
        const decision = applyOwnerChange(current, {
          change: 'handoff_requested',
          conversationId,
          department: output.department,
          occurredAt,
        });
        if (decision.applied) await this.owners.save(manager, tenant.id, citizenKey, decision.next);
        return [
          { spec: Topics.handoffRequest, data: request },
          { spec: Topics.conversationOwner, data: change },
        ];
      }
    }
  }

  private consentEntry(
    party: Party,
    state: 'opted_in' | 'opted_out',
    source: string,
    keyword: string,
    messageId: string,
    at: string,
  ): OutboxEntry {
    const data: CitizenConsentV1 = {
      tenantId: party.tenant.id,
      contact: party.contact,
      category: 'all',
      state,
      channel: 'whatsapp-keyword',
      wording: keyword,
      occurredAt: at,
      evidence: { source, keyword, messageId, at },
    };
    return { spec: Topics.citizenConsent, data };
  }

  private forwardEntry(party: Party, owner: OwnerSnapshot, message: InboundMessageV1): OutboxEntry {
    const data: HandoffMessageV1 = {
      tenantId: party.tenant.id,
      conversationId: owner.conversationId ?? 'unknown',
      citizenKey: party.citizenKey,
      messageId: message.messageId,
      line: citizenLine(message),
    };
    return { spec: Topics.handoffMessage, data };
  }

  /**
   * Outbox entries for answers. Content that breaks WhatsApp's limits is a flow bug the validator
   * missed: the citizen gets the built-in apology instead of silence, and the bug is logged.
   */
  private safeReplies(target: ReplyTo, messages: OutgoingMessage[], step: number, language: string, tenant: TenantConfig): OutboxEntry[] {
    try {
      return this.replies.buildReplies(target, messages, step).map((r) => this.replies.entry(r));
    } catch (error) {
      if (!(error instanceof ReplyContentError)) throw error;
      this.log.error({ tenant: tenant.id, problems: error.problems }, 'an answer breaks WhatsApp limits; sent the apology instead');
      return this.replies.buildReplies(target, [textMessage(notice('broken', language))], step).map((r) => this.replies.entry(r));
    }
  }

  /** The flow new sessions start in: `main`, else the tenant's first published flow by name. */
  private async entryFlow(tenantId: string, manager: EntityManager): Promise<FlowVersionRow | undefined> {
    const published = await this.flows.publishedOf(tenantId, manager);
    return published.find((f) => f.flow === ENTRY_FLOW) ?? published[0];
  }

  /** A finished session carrying the citizen's chosen language, so a new one keeps it. */
  private seedSession(profile: CitizenProfile, flow: FlowVersionRow): Session | null {
    if (!profile.language || !profile.languageChosenAt) return null;
    return {
      flow: flow.flow,
      version: flow.version,
      language: profile.language,
      waiting: null,
      trail: [],
      vars: {},
      retries: 0,
      fallbacks: 0,
      timeoutAt: null,
      languageChosen: true,
    };
  }

  /** The language of a notice outside a flow: chosen, else the session's, else guessed from the number. */
  noticeLanguage(tenant: TenantConfig, profile: CitizenProfile | undefined, session: Session | undefined, citizenKey: string): string {
    return profile?.language ?? session?.language ?? guessLanguage(citizenKey, tenant.languages, tenant.defaultLanguage);
  }
}

export function textMessage(body: string): OutgoingMessage {
  return { kind: 'text', content: { body } };
}

/** `30m`, `23h`, `1d` in milliseconds. */
export function durationMs(value: string): number {
  const m = /^(\d+)([smhd])$/.exec(value);
  if (!m) throw new Error(`not a duration: ${value}`);
  return Number(m[1]) * MS[m[2] as keyof typeof MS];
}
