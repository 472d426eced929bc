import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Topics, type OutboundResultV1 } from '@wa/contracts';
import { counter } from '@wa/observability';
import { TurnService } from './turn.service';

const failures = counter('chatbot_reply_failures_total', 'Answers of the chatbot the gateway could not send, by reason', [
  'tenant',
  'reason',
]);

/**
 * Results of the chatbot's own answers. A failure is counted by reason (window closed, opted out,
 * invalid content: each points at a different fix) and logged with the request id only, never
 * the citizen's number.
 */
@Controller()
export class ResultsConsumer {
  private readonly log = new Logger('ReplyResults');

  constructor(private readonly turns: TurnService) {}

  @EventPattern(Topics.outboundResult.name)
  onResult(@Payload() result: OutboundResultV1): void {
    if (!this.turns.replies.isMine(result) || result.outcome !== 'failed') return;
    const reason = result.reason ?? 'unknown';
    failures.inc({ tenant: result.tenantId, reason });
    this.log.warn(
      { tenant: result.tenantId, requestId: result.requestId, reason, code: result.error?.code, detail: result.detail },
      'an answer of the chatbot was not sent',
    );
  }
}
