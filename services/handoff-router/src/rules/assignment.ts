/**
 * Who gets which queued conversation. Pure: the router loads the tenant's queue and agents under
 * its lock, asks {@link planAssignments}, and claims each pair with a conditional UPDATE.
 */
export type Presence = 'online' | 'away' | 'offline';

export interface QueuedConversation {
  id: string;
  department: string;
  language: string;
  priority: number;
  queuedAt: Date;
  /** After an SLA breach with widening configured: any language / these other departments too. */
  widenLanguages: boolean;
  widenDepartments: readonly string[];
}

export interface AgentLoad {
  id: string;
  presence: Presence;
  departments: readonly string[];
  languages: readonly string[];
  capacity: number;
  /** Conversations assigned now. */
  load: number;
  lastAssignedAt: Date | null;
}

/** Serving order: higher priority first (callers from the phone queue), then longest waiting. */
export function queueOrder(a: QueuedConversation, b: QueuedConversation): number {
  return b.priority - a.priority || a.queuedAt.getTime() - b.queuedAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Base language of a code: `pt_BR` → `pt`, so an agent with `pt` serves `pt_BR` and back. */
function base(language: string): string {
  return language.split('_')[0];
}

export function speaks(agent: Pick<AgentLoad, 'languages'>, language: string): boolean {
  return agent.languages.some((l) => l === language || base(l) === base(language));
}

/** Whether the agent may take the conversation at all (capacity aside). */
export function eligible(agent: AgentLoad, conversation: QueuedConversation): boolean {
  if (agent.presence !== 'online') return false;
  const department =
    agent.departments.includes(conversation.department) || conversation.widenDepartments.some((d) => agent.departments.includes(d));
  if (!department) return false;
  return conversation.widenLanguages || speaks(agent, conversation.language);
}

/**
 * Least-loaded first (by share of capacity, then absolute load), then the one who waited longest
 * since their last assignment, then a speaker of the exact language over a widened match, then id.
 */
export function agentOrder(conversation: QueuedConversation) {
  return (a: AgentLoad, b: AgentLoad): number => {
    const share = a.load / a.capacity - b.load / b.capacity;
    if (share !== 0) return share;
    if (a.load !== b.load) return a.load - b.load;
    const since = (a.lastAssignedAt?.getTime() ?? 0) - (b.lastAssignedAt?.getTime() ?? 0);
    if (since !== 0) return since;
    const exact = Number(speaks(b, conversation.language)) - Number(speaks(a, conversation.language));
    if (exact !== 0) return exact;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };
}

export interface Assignment {
  conversationId: string;
  agentId: string;
}

/**
 * Walks the queue in serving order and gives each conversation the best eligible agent with free
 * capacity. A conversation nobody can take now keeps its place and does not block those behind it
 * that someone else can take (another language or department).
 */
export function planAssignments(queue: readonly QueuedConversation[], agents: readonly AgentLoad[]): Assignment[] {
  const pool = agents.filter((a) => a.presence === 'online' && a.capacity > 0).map((a) => ({ ...a }));
  const plan: Assignment[] = [];
  for (const conversation of [...queue].sort(queueOrder)) {
    const candidates = pool.filter((a) => a.load < a.capacity && eligible(a, conversation));
    if (candidates.length === 0) continue;
    const chosen = candidates.sort(agentOrder(conversation))[0];
    chosen.load++;
    chosen.lastAssignedAt = new Date(8.64e15);
    plan.push({ conversationId: conversation.id, agentId: chosen.id });
  }
  return plan;
}

/** 1-based place of each queued conversation among those of its department, in serving order. */
export function queuePositions(queue: readonly QueuedConversation[]): Map<string, number> {
  const positions = new Map<string, number>();
  const counts = new Map<string, number>();
  for (const c of [...queue].sort(queueOrder)) {
    const n = (counts.get(c.department) ?? 0) + 1;
    counts.set(c.department, n);
    positions.set(c.id, n);
  }
  return positions;
}

/** Presence from the last heartbeat: online, then away, then offline after the grace period. */
export function presenceAt(
  lastSeenAt: Date | null,
  declared: Presence,
  now: Date,
  limits: { awayAfterMs: number; offlineAfterMs: number },
): Presence {
  if (!lastSeenAt || declared === 'offline') return 'offline';
  const quiet = now.getTime() - lastSeenAt.getTime();
  if (quiet >= limits.offlineAfterMs) return 'offline';
  if (quiet >= limits.awayAfterMs) return 'away';
  return declared;
}
