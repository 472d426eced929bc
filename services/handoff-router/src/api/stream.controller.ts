import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { CurrentPrincipal, Roles, type Principal } from '@wa/auth';
import { InjectEnv } from '@wa/service-kit';
import type { HandoffEnv } from '../config/env';
import { StreamHub } from '../stream/stream.hub';
import { Access, guarded } from './access';

/**
 * Server-sent events for the console. Each event's `id` is the tenant's event sequence number; a
 * client that reconnects with `Last-Event-ID` (header, or `?lastEventId=`) gets what it missed.
 */
@ApiTags('stream')
@Controller('v1/stream')
export class StreamController {
  constructor(
    private readonly hub: StreamHub,
    private readonly access: Access,
    @InjectEnv() private readonly env: HandoffEnv,
  ) {}

  @Get()
  @Roles('agent', 'supervisor')
  @ApiProduces('text/event-stream')
  @ApiOperation({ summary: 'Live console events of the caller’s view (text/event-stream), resumable by Last-Event-ID' })
  async stream(
    @CurrentPrincipal() principal: Principal,
    @Res() reply: FastifyReply,
    @Headers('last-event-id') lastEventId?: string,
    @Query('lastEventId') queryLastEventId?: string,
  ): Promise<void> {
    const who = await guarded(() => this.access.of(principal));
    const from = Math.max(0, Number(lastEventId ?? queryLastEventId ?? 0) || 0);
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    raw.write(`retry: 2000\n: connected\n\n`);
    const unsubscribe = await this.hub.subscribe(principal.tenant, who, from, (e) => {
      raw.write(
        `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify({ seq: e.seq, type: e.type, conversationId: e.conversationId, at: e.at, data: e.data })}\n\n`,
      );
    });
    const keepalive = setInterval(() => raw.write(': keepalive\n\n'), this.env.HANDOFF_STREAM_KEEPALIVE_MS);
    raw.on('close', () => {
      clearInterval(keepalive);
      unsubscribe();
    });
  }
}
