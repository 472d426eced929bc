// Citizens for the chatbot benchmark: signed webhooks carrying a citizen's text, as Meta posts them
// to the ingress, sent at a paced rate over keep-alive connections, each 200 timed.
import { createHmac } from 'node:crypto';
import { Agent, request } from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { cpuSeconds, sandboxSecrets } from './ingress-load';

/** Meta's bytes: non-ASCII as \uXXXX escapes. */
function metaJson(payload: unknown): string {
  return JSON.stringify(payload).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export interface BusinessNumber {
  appId: string;
  secret: string;
  wabaId: string;
  phoneNumberId: string;
  displayNumber: string;
}

/** The roads agency's number in config/tenants.sandbox.yaml, with its sandbox app secret. */
export const ROADS_NUMBER: BusinessNumber = {
  appId: 'roads-app',
  secret: sandboxSecrets().ROADS_APP_SECRET,
  wabaId: '100000000000001',
  phoneNumberId: '310000000000001',
  displayNumber: '5716010100',
};

/** One citizen's text as Meta's webhook, signed with the app secret. */
export function citizenText(
  business: BusinessNumber,
  from: string,
  wamid: string,
  text: string,
  at: number,
): { body: string; signature: string } {
  const body = metaJson({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: business.wabaId,
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: business.displayNumber, phone_number_id: business.phoneNumberId },
              contacts: [{ profile: { name: 'Ciudadana' }, wa_id: from }],
              messages: [{ from, id: wamid, timestamp: String(Math.floor(at / 1000)), type: 'text', text: { body: text } }],
            },
          },
        ],
      },
    ],
  });
  return { body, signature: `sha256=${createHmac('sha256', business.secret).update(body).digest('hex')}` };
}

/** Posts webhooks over keep-alive connections; resolves with the status and when the answer ended. */
export class WebhookPoster {
  private readonly agent: Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(
    ingressUrl: string,
    private readonly path: string,
    connections: number,
  ) {
    const url = new URL(ingressUrl);
    this.host = url.hostname;
    this.port = Number(url.port);
    this.agent = new Agent({ keepAlive: true, maxSockets: connections });
  }

  post(body: string, signature: string): Promise<{ status: number; at: number }> {
    return new Promise((resolve) => {
      const req = request(
        {
          host: this.host,
          port: this.port,
          path: this.path,
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-hub-signature-256': signature },
        },
        (res) => {
          res.resume();
          res.once('end', () => resolve({ status: res.statusCode ?? 0, at: Date.now() }));
        },
      );
      req.once('error', () => resolve({ status: 0, at: Date.now() }));
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The Kafka broker's process (the JVM whose command line names kafka.Kafka), found in /proc. */
export function kafkaBrokerPid(): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('kafka.Kafka')) return Number(entry);
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return undefined;
}

/** CPU seconds of this process (the load generator and the measuring). */
export const ownCpuSeconds = () => cpuSeconds(process.pid) ?? 0;

/** The value at quantile q (0..1) of sorted numbers. */
export function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
