import { ReplyClient } from '@wa/conversation';
import { schedulerOutbox } from '../common/outbox-batch';

/** `requestedBy` of the scheduler's send requests: the gateway's results name it back. */
export const REQUESTED_BY = 'notification-scheduler';

/**
 * The platform's client for asking the gateway to send, writing through the sweep's outbox: notices
 * are template notices whose request id (and ce_id) is the notice id, so a notice is sent once.
 */
export const noticeClient = new ReplyClient(schedulerOutbox, REQUESTED_BY);
