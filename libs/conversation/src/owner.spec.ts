import { applyOwnerChange, botAnswers, BOT_OWNS, type OwnerChangeEvent, type OwnerSnapshot } from './owner';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
function fold(events: OwnerChangeEvent[], start?: OwnerSnapshot) {
  let state = start;
  const refused: string[] = [];
  for (const e of events) {
    const d = applyOwnerChange(state, e);
    if (d.applied) state = d.next;
    else refused.push(d.reason);
  }
  return { state: state ?? BOT_OWNS, refused };
}

describe('owner of a conversation', () => {
  it('goes bot → queued → agent → bot', () => {
    const { state, refused } = fold([
      { change: 'handoff_requested', conversationId: 'c1', department: 'licensing', occurredAt: at(1) },
      { change: 'assigned', conversationId: 'c1', agentId: 'a1', occurredAt: at(2) },
    ]);
    expect(refused).toEqual([]);
    expect(state).toEqual({ owner: 'agent', conversationId: 'c1', agentId: 'a1', department: 'licensing', since: at(2) });
    expect(botAnswers(state)).toBe(false);
    const closed = applyOwnerChange(state, { change: 'released', conversationId: 'c1', occurredAt: at(3) });
    expect(closed).toEqual({ applied: true, next: { owner: 'bot', conversationId: null, agentId: null, department: null, since: at(3) } });
    expect(botAnswers(closed.applied ? closed.next : undefined)).toBe(true);
  });

  it('refuses changes from states they do not leave, and changes of another episode', () => {
    const { state, refused } = fold([
      { change: 'assigned', conversationId: 'c1', agentId: 'a1', occurredAt: at(1) },
      { change: 'handoff_requested', conversationId: 'c2', occurredAt: at(2) },
      { change: 'handoff_requested', conversationId: 'c3', occurredAt: at(3) },
      { change: 'assigned', conversationId: 'c1', agentId: 'a1', occurredAt: at(4) },
      { change: 'released', conversationId: 'c1', occurredAt: at(5) },
    ]);
    expect(refused).toEqual([
      'assigned does not apply while bot owns the conversation',
      'handoff_requested does not apply while queued owns the conversation',
      'assigned names conversation c1, the current one is c2',
      'released names conversation c1, the current one is c2',
    ]);
    expect(state.owner).toBe('queued');
    expect(state.conversationId).toBe('c2');
  });

  it('requeues an agent conversation and keeps the department; expiry closes from anywhere', () => {
    const { state } = fold([
      { change: 'handoff_requested', conversationId: 'c1', department: 'visas', occurredAt: at(1) },
      { change: 'assigned', conversationId: 'c1', agentId: 'a1', occurredAt: at(2) },
      { change: 'requeued', conversationId: 'c1', occurredAt: at(3) },
    ]);
    expect(state).toMatchObject({ owner: 'queued', agentId: null, department: 'visas' });
    const expired = applyOwnerChange(state, { change: 'expired', conversationId: 'whatever', occurredAt: at(4) });
    expect(expired.applied && expired.next.owner).toBe('closed');
    expect(botAnswers(expired.applied ? expired.next : undefined)).toBe(true);
  });
});
