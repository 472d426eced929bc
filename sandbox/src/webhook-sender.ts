import { createHmac } from 'node:crypto';

/** Meta sends non-ASCII characters as lowercase \uXXXX escapes and signs those exact bytes. */
export function metaJson(payload: unknown): string {
  return JSON.stringify(payload).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function signBody(appSecret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;
}

export interface DeliveryOptions {
  /** Tries after the first; Meta keeps retrying for days, the sandbox for a bounded while. */
  retries?: number;
  initialBackoffMs?: number;
  /** Deliver this many extra copies after the first success (Meta's duplicate deliveries). */
  duplicates?: number;
  timeoutMs?: number;
}

export interface DeliveryResult {
  delivered: boolean;
  attempts: number;
  statuses: number[];
}

/**
 * Posts a webhook the way Meta does: escaped JSON, X-Hub-Signature-256 over the exact bytes,
 * retried with exponential backoff on anything but 200.
 */
export class WebhookSender {
  constructor(private readonly ingressBaseUrl: string) {}

  async deliver(path: string, payload: unknown, appSecret: string, options: DeliveryOptions = {}): Promise<DeliveryResult> {
    const body = metaJson(payload);
    const signature = signBody(appSecret, body);
    const retries = options.retries ?? 8;
    let backoff = options.initialBackoffMs ?? 250;
    const statuses: number[] = [];
    for (let attempt = 1; attempt <= retries + 1; attempt++) {
      const status = await this.post(path, body, signature, options.timeoutMs ?? 10000);
      statuses.push(status);
      if (status === 200) {
        for (let i = 0; i < (options.duplicates ?? 0); i++)
          statuses.push(await this.post(path, body, signature, options.timeoutMs ?? 10000));
        return { delivered: true, attempts: attempt, statuses };
      }
      if (attempt <= retries) {
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 30000);
      }
    }
    return { delivered: false, attempts: retries + 1, statuses };
  }

  private async post(path: string, body: string, signature: string, timeoutMs: number): Promise<number> {
    try {
      const response = await fetch(new URL(path, this.ingressBaseUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      await response.arrayBuffer();
      return response.status;
    } catch {
      return 0; // connection refused or timed out: Meta treats it like any non-200
    }
  }
}
