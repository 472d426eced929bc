import type { FastifyInstance } from 'fastify';
import { onePagePdf } from './pdf';
import { APPLICATIONS, CHECKLISTS, GARBAGE_REFERENCE, SLOW_REFERENCE, UNAVAILABLE_REFERENCE } from './samples';

/**
 * The sample agencies' own web: what their chatbot flows link to and call, served by the sandbox so
 * that a local run needs nothing outside the machine.
 *
 * Links in messages must be https (the outbound contract and Meta both demand it), but the sandbox
 * is plain HTTP on loopback. Flows therefore link to the stand-in origin
 * `https://agency.example.gov/<path>`, which this part serves as `/agency/<path>`: the Cloud API
 * sandbox, like Meta, only records a link it is sent, and a person (or `npm run chat`) opens it
 * locally through `localAgencyUrl`. Server-to-server calls (the chatbot's integrations) use the
 * sandbox's own http URL directly.
 */
export const AGENCY_PUBLIC_ORIGIN = 'https://agency.example.gov';

/** The sandbox URL that serves a stand-in agency link, or undefined for any other link. */
export function localAgencyUrl(link: string, sandboxUrl: string): string | undefined {
  if (!link.startsWith(`${AGENCY_PUBLIC_ORIGIN}/`)) return undefined;
  return `${sandboxUrl.replace(/\/+$/, '')}/agency/${link.slice(AGENCY_PUBLIC_ORIGIN.length + 1)}`;
}

export interface AgencyOptions {
  /** When set, the status lookup wants it in `x-api-key` (default: IMMIGRATION_STATUS_API_KEY). */
  statusApiKey?: string;
  /** How long the slow sample reference takes to answer; longer than the chatbot's timeout. */
  slowMs?: number;
}

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>` +
  `<body style="font-family:sans-serif;max-width:40em;margin:2em auto"><h1>${title}</h1>${body}` +
  `<p><small>Sample page of the Cloud API sandbox: nothing here is charged or booked.</small></p></body></html>`;

export async function registerAgency(root: FastifyInstance, options: AgencyOptions = {}): Promise<void> {
  const apiKey = options.statusApiKey ?? process.env.IMMIGRATION_STATUS_API_KEY;
  const slowMs = options.slowMs ?? 10000;
  // Drawn once at start: the same bytes on every download.
  const checklists = new Map(Object.entries(CHECKLISTS).map(([lang, content]) => [lang, onePagePdf(content)]));
  const timers = new Set<NodeJS.Timeout>();

  await root.register(async (app) => {
    app.addHook('onClose', async () => timers.forEach(clearTimeout));

    app.get('/agency/roads/pay', async (_request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .send(page('National Roads and Transport Agency – online payment', '<p>Enter your ID number to see what you owe.</p>')),
    );
    app.get('/agency/roads/appointments', async (_request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .send(page('National Roads and Transport Agency – appointments', '<p>Choose an office, a procedure and a time.</p>')),
    );

    app.get<{ Params: { file: string } }>('/agency/immigration/files/:file', async (request, reply) => {
      const lang = /^visa-renewal-checklist-([a-zA-Z_]+)\.pdf$/.exec(request.params.file)?.[1];
      const pdf = lang ? checklists.get(lang) : undefined;
      if (!pdf) return reply.status(404).send({ code: 'not_found', message: `no file ${request.params.file}` });
      return reply
        .type('application/pdf')
        .header('content-disposition', `inline; filename="${request.params.file}"`)
        .header('cache-control', 'public, max-age=3600')
        .send(pdf);
    });

    app.get<{ Params: { reference: string } }>('/agency/immigration/applications/:reference', async (request, reply) => {
      if (apiKey && request.headers['x-api-key'] !== apiKey) return reply.status(401).send({ code: 'unauthorized', message: 'x-api-key' });
      const reference = request.params.reference.trim().toUpperCase();
      if (reference === UNAVAILABLE_REFERENCE) return reply.status(503).send({ code: 'unavailable', message: 'down for maintenance' });
      if (reference === GARBAGE_REFERENCE) return reply.type('application/json').send('{"reference":"IMM-2026-000005","state":"appr');
      if (reference === SLOW_REFERENCE) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            timers.delete(timer);
            resolve();
          }, slowMs);
          timers.add(timer);
        });
        return { reference, kind: 'residence_visa_renewal', state: 'in_review', updated_on: '2026-12-02' };
      }
      const found = APPLICATIONS.find((a) => a.reference === reference);
      return found ?? reply.status(404).send({ code: 'not_found', message: `no application ${reference}` });
    });
  });
}
