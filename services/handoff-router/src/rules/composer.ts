import { isWindowOpen, windowClosesAt } from '@wa/conversation';

/**
 * What the agent's composer may send. Within the 24-hour window: text, media or a template.
 * Outside: only approved templates in the citizen's language; a free reply is accepted but held,
 * the `agent_replied` template goes out once, and the held replies are delivered when the
 * citizen answers.
 */
export const REENGAGE_TEMPLATE = 'agent_replied';
export const FREE_KINDS = ['text', 'image', 'document', 'video', 'audio'] as const;
export type ReplyKind = (typeof FREE_KINDS)[number] | 'template';

export interface ComposerState {
  window: 'open' | 'closed';
  closesAt: string | null;
  allowed: ReplyKind[];
  /** What a free reply does now. */
  freeReply: 'send' | 'hold';
}

export function composerState(lastInboundAt: Date | null, now: Date): ComposerState {
  const open = isWindowOpen(lastInboundAt, now);
  return {
    window: open ? 'open' : 'closed',
    closesAt: windowClosesAt(lastInboundAt)?.toISOString() ?? null,
    allowed: open ? [...FREE_KINDS, 'template'] : ['template'],
    freeReply: open ? 'send' : 'hold',
  };
}

export type ReplyPlan = { action: 'send' } | { action: 'hold'; reengage: boolean } | { action: 'refuse'; code: string; message: string };

/**
 * What happens to an agent's reply: sent, held (with the re-engagement template unless one is
 * already out and unanswered), or refused (conversation not the agent's or closed).
 */
export function replyPlan(input: {
  kind: ReplyKind;
  state: string;
  lastInboundAt: Date | null;
  reengagedAt: Date | null;
  now: Date;
}): ReplyPlan {
  if (input.state === 'closed' || input.state === 'survey')
    return { action: 'refuse', code: 'conversation_closed', message: 'the conversation is closed; the citizen is back with the bot' };
  if (input.state !== 'assigned')
    return { action: 'refuse', code: 'not_assigned', message: 'the conversation is in the queue; claim it before replying' };
  if (input.kind === 'template' || isWindowOpen(input.lastInboundAt, input.now)) return { action: 'send' };
  const pending = input.reengagedAt !== null && (input.lastInboundAt === null || input.reengagedAt > input.lastInboundAt);
  return { action: 'hold', reengage: !pending };
}
