/*
 * Test helpers for the flow engine: the fixture flow, a scripted EngineContext and a conversation
 * that keeps the session between turns and checks every message against WhatsApp's limits.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkOutboundRequest, type OutboundRequestV1 } from '@wa/contracts';
import { runTurn } from './engine';
import type { EngineContext, FlowDefinition, OutgoingMessage, Session, TurnInput, TurnResult } from './flow.types';
import { parseFlow } from './parse';

export function fixtureYaml(name = 'roads.flow.yaml'): string {
  return readFileSync(join(__dirname, 'fixtures', name), 'utf8');
}

export function fixtureFlow(name?: string): FlowDefinition {
  const parsed = parseFlow(fixtureYaml(name));
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => p.message).join('\n'));
  return parsed.flow;
}

export interface FakeContext extends EngineContext {
  calls: { integration: string; input: Record<string, string> }[];
  fetched: string[];
}

export function fakeContext(over: Partial<EngineContext> = {}): FakeContext {
  const calls: FakeContext['calls'] = [];
  const fetched: string[] = [];
  let seq = 0;
  return {
    tenantId: 'roads-agency',
    now: new Date('2026-12-07T10:00:00Z'),
    contactName: 'Ana',
    calls,
    fetched,
    call: async (integration, input) => {
      calls.push({ integration, input });
      return { ok: true, data: { state: 'open' } };
    },
    nextCaseReference: async (prefix) => `${prefix}-2026-${String(++seq).padStart(6, '0')}`,
    fetchMedia: async (id) => {
      fetched.push(id);
      return { ok: true, ref: `media/${id}` };
    },
    ...over,
  };
}

interface Content {
  body?: string | { text: string };
  caption?: string;
  latitude?: number;
  longitude?: number;
  type?: string;
  action?: { buttons?: { reply: { id: string; title: string } }[]; sections?: { rows: { id: string; title: string }[] }[] };
}

/** The text a citizen reads in a message (body, caption or interactive body). */
export function textOf(m: OutgoingMessage): string {
  const c = m.content as Content;
  if (m.kind === 'text') return c.body as string;
  if (m.kind === 'interactive') return (c.body as { text: string }).text;
  if (m.kind === 'location') return `[location ${c.latitude},${c.longitude}]`;
  return c.caption ?? `[${m.kind}]`;
}

/** Reply button ids or list row ids of an interactive message. */
export function optionIds(m: OutgoingMessage): string[] {
  const c = m.content as Content;
  if (c.type === 'button') return c.action!.buttons!.map((b) => b.reply.id);
  if (c.type === 'list') return c.action!.sections!.flatMap((s) => s.rows.map((r) => r.id));
  return [];
}

/** Reply button titles or list row titles of an interactive message. */
export function optionTitles(m: OutgoingMessage): string[] {
  const c = m.content as Content;
  if (c.type === 'button') return c.action!.buttons!.map((b) => b.reply.title);
  if (c.type === 'list') return c.action!.sections!.flatMap((s) => s.rows.map((r) => r.title));
  return [];
}

export function sends(result: TurnResult): OutgoingMessage[] {
  return result.outputs.flatMap((o) => (o.type === 'send' ? [o.message] : []));
}

/** Every problem WhatsApp's limits find in a turn's messages (empty when all can be sent). */
export function sendProblems(result: TurnResult): string[] {
  return sends(result).flatMap((m) =>
    checkOutboundRequest({
      tenantId: 'roads-agency',
      requestId: '0f6b3c1e-8d2a-5b7c-9e4f-1a2b3c4d5e6f',
      to: { waId: '573001234567' },
      kind: m.kind,
      priority: 'reply',
      content: m.content,
      requestedBy: 'chatbot',
    } as OutboundRequestV1),
  );
}

/** One citizen talking to a flow: keeps the session, checks every answer can be sent. */
export class Conversation {
  session: Session | null = null;
  last!: TurnResult;

  constructor(
    readonly flow: FlowDefinition,
    readonly ctx: FakeContext = fakeContext(),
  ) {}

  async send(input: TurnInput | string): Promise<TurnResult> {
    const turn = typeof input === 'string' ? ({ kind: 'text', text: input } as const) : input;
    this.last = await runTurn(this.flow, 1, this.session, turn, this.ctx);
    const problems = sendProblems(this.last);
    if (problems.length) throw new Error(`unsendable message: ${problems.join('; ')}`);
    this.session = this.last.ended ? null : this.last.session;
    return this.last;
  }

  /** The texts of the last turn, in order. */
  get texts(): string[] {
    return sends(this.last).map(textOf);
  }

  get waiting(): string | null {
    return this.last.session.waiting;
  }

  output<T extends TurnResult['outputs'][number]['type']>(type: T) {
    return this.last.outputs.find((o) => o.type === type) as Extract<TurnResult['outputs'][number], { type: T }> | undefined;
  }
}
