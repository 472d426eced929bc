/**
 * Who answers a citizen right now. Every change is an event on `conversation.owner.v1`, keyed
 * `tenant:citizenKey`, so all changes for one citizen are ordered on one partition; the chatbot and
 * the handoff router each fold that stream with {@link applyOwnerChange} and therefore agree.
 *
 *   bot ──handoff_requested──▶ queued ──assigned──▶ agent
 *    ▲                           ▲  ◀──requeued────┘  │
 *    └──────────released─────────┴────────────────────┘
 *   any ──expired──▶ closed (the next message starts a new conversation with the bot)
 *
 * The bot answers only while it owns the conversation (`bot` or `closed`); otherwise it stays
 * silent and forwards the citizen's messages. STOP/START work in every state.
 */
export const OWNERS = ['bot', 'queued', 'agent', 'closed'] as const;
export type Owner = (typeof OWNERS)[number];

export const OWNER_CHANGES = ['handoff_requested', 'assigned', 'requeued', 'released', 'expired'] as const;
export type OwnerChange = (typeof OWNER_CHANGES)[number];

/** From which owners each change is allowed, and the owner it leads to. */
const TRANSITIONS: Readonly<Record<OwnerChange, { from: readonly Owner[]; to: Owner }>> = {
  handoff_requested: { from: ['bot', 'closed'], to: 'queued' },
  assigned: { from: ['queued', 'agent'], to: 'agent' },
  requeued: { from: ['agent', 'queued'], to: 'queued' },
  released: { from: ['queued', 'agent'], to: 'bot' },
  expired: { from: ['bot', 'queued', 'agent', 'closed'], to: 'closed' },
};

export interface OwnerSnapshot {
  owner: Owner;
  /** The handoff episode the state belongs to (null while the bot owns the conversation). */
  conversationId: string | null;
  agentId: string | null;
  department: string | null;
  since: string;
}

export interface OwnerChangeEvent {
  change: OwnerChange;
  conversationId: string;
  agentId?: string | null;
  department?: string | null;
  occurredAt: string;
}

export const BOT_OWNS: OwnerSnapshot = Object.freeze({
  owner: 'bot',
  conversationId: null,
  agentId: null,
  department: null,
  since: '1970-01-01T00:00:00.000Z',
});

export type OwnerDecision = { applied: true; next: OwnerSnapshot } | { applied: false; reason: string };

/**
 * The state after `event`, or why the event does not apply (a change from a state it does not
 * leave, or about another handoff episode than the current one). Pure: the same stream folds to
 * the same state in every consumer.
 */
export function applyOwnerChange(current: OwnerSnapshot | undefined, event: OwnerChangeEvent): OwnerDecision {
  const state = current ?? BOT_OWNS;
  const rule = TRANSITIONS[event.change];
  if (!rule) return { applied: false, reason: `unknown change ${String(event.change)}` };
  if (!rule.from.includes(state.owner))
    return { applied: false, reason: `${event.change} does not apply while ${state.owner} owns the conversation` };
  const episodeBound = event.change !== 'handoff_requested' && event.change !== 'expired';
  if (episodeBound && state.conversationId !== null && state.conversationId !== event.conversationId) {
    return {
      applied: false,
      reason: `${event.change} names conversation ${event.conversationId}, the current one is ${state.conversationId}`,
    };
  }
  const to = rule.to;
  return {
    applied: true,
    next: {
      owner: to,
      conversationId: to === 'bot' || to === 'closed' ? null : event.conversationId,
      agentId: to === 'agent' ? (event.agentId ?? null) : null,
      department: to === 'bot' || to === 'closed' ? null : (event.department ?? state.department),
      since: event.occurredAt,
    },
  };
}

/** Whether the bot answers (flows, menus, FAQ) in this state. */
export function botAnswers(state: OwnerSnapshot | undefined): boolean {
  const owner = (state ?? BOT_OWNS).owner;
  return owner === 'bot' || owner === 'closed';
}
