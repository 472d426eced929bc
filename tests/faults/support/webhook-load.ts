import { sleep } from '@wa/testing';
import { postSigned, roadsWebhook } from '../../../services/webhook-ingress/test/support/harness';

/**
 * Posts signed webhooks, one citizen message each with a unique wamid, from a few concurrent
 * clients. Like Meta, a webhook answered with anything but 200 is delivered again later, until it is
 * accepted; `accepted` holds the wamids the ingress acknowledged (answered 200), the ones it must
 * never lose.
 */
export class WebhookLoad {
  readonly accepted = new Set<string>();
  /** 5xx answers and failed connections, by when they happened. */
  readonly refusals: number[] = [];
  readonly acceptedAt: number[] = [];
  private readonly redeliver: string[] = [];
  private running = false;
  private workers: Promise<void>[] = [];
  private next = 0;

  constructor(
    private readonly url: () => string,
    private readonly label: string,
    private readonly clients = 4,
    private readonly pauseMs = 40,
  ) {}

  get sent(): number {
    return this.next;
  }

  start(): void {
    this.running = true;
    this.workers = Array.from({ length: this.clients }, () => this.work());
  }

  /** Stops sending new webhooks, then delivers the refused ones again until each is accepted. */
  async stop({ drainTimeoutMs = 120000 } = {}): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
    const deadline = Date.now() + drainTimeoutMs;
    while (this.redeliver.length > 0) {
      if (Date.now() > deadline) throw new Error(`${this.redeliver.length} webhooks never accepted after the fault`);
      const wamid = this.redeliver.shift()!;
      if (!(await this.deliver(wamid))) {
        this.redeliver.push(wamid);
        await sleep(500);
      }
    }
  }

  private async work(): Promise<void> {
    while (this.running) {
      // Redeliveries first (Meta backs off; a short pause is enough here), then new webhooks.
      const wamid = this.redeliver.length > 0 && Math.random() < 0.3 ? this.redeliver.shift()! : `wamid.${this.label}.${this.next++}`;
      if (!(await this.deliver(wamid))) this.redeliver.push(wamid);
      await sleep(this.pauseMs);
    }
  }

  private async deliver(wamid: string): Promise<boolean> {
    try {
      const response = await postSigned(this.url(), roadsWebhook([wamid]), {});
      await response.arrayBuffer();
      if (response.status === 200) {
        this.accepted.add(wamid);
        this.acceptedAt.push(Date.now());
        return true;
      }
      if (response.status >= 500) this.refusals.push(Date.now());
      else throw new Error(`webhook ${wamid} answered ${response.status}`);
    } catch (error) {
      if ((error as Error).message.startsWith('webhook ')) throw error;
      // The service is not there (killed, restarting): Meta sees a failed delivery too.
      this.refusals.push(Date.now());
      await sleep(200);
    }
    return false;
  }
}
