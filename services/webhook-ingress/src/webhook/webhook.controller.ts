import { Controller, Get, HttpStatus, Param, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { Public } from '@wa/auth';
import { DomainError } from '@wa/service-kit';
import { AppCredentials } from './app-credentials';
import { WEBHOOK_ROUTE_PREFIX } from './webhook-route';

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Meta's subscription handshake, one URL per app (`/webhooks/whatsapp/<appId>`), so several apps
 * and tenants share one ingress, each with its own verify token. The POST on the same URL is a raw
 * Fastify route (WebhookHttpSetup).
 */
@ApiTags('webhooks')
@Public("Meta's subscription handshake: the app's verify token is its authentication")
@Controller(WEBHOOK_ROUTE_PREFIX.slice(1))
export class WebhookController {
  constructor(private readonly credentials: AppCredentials) {}

  @Get(':appId')
  @ApiOperation({ summary: "Meta's subscription handshake: echoes hub.challenge when hub.verify_token matches the app's token" })
  @ApiResponse({ status: 200, description: 'The hub.challenge value, as plain text' })
  @ApiResponse({ status: 403, description: 'Wrong mode, token or app' })
  verify(@Param('appId') appId: string, @Query() query: Record<string, unknown>, @Res({ passthrough: true }) reply: FastifyReply): string {
    const mode = query['hub.mode'];
    const token = query['hub.verify_token'];
    const challenge = query['hub.challenge'];
    const app = this.credentials.of(appId);
    const ok =
      app !== undefined &&
      mode === 'subscribe' &&
      typeof token === 'string' &&
      sameSecret(token, app.verifyToken) &&
      typeof challenge === 'string' &&
      // Meta sends digits; anything else is not echoed (it would be reflected content).
      /^[A-Za-z0-9_-]{1,128}$/.test(challenge);
    if (!ok) throw new DomainError('verification_failed', 'Webhook verification failed', HttpStatus.FORBIDDEN);
    // Set here, not with @Header: that would also label the JSON error body as text.
    void reply.type('text/plain; charset=utf-8');
    return challenge as string;
  }
}
