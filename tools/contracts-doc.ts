// Renders the topic table of docs/contracts.md from the contracts registry, so the document cannot
// drift from the code (a unit test compares them). Usage: node -r ./tools/ts-register.cjs tools/contracts-doc.ts > docs/contracts.md
import { ALL_TOPICS } from '@wa/contracts';

const DAY = 86400000;
const retention = (ms: number) => (ms < 0 ? 'forever (compacted)' : `${Math.round(ms / DAY)} d`);

export function renderContractsDoc(): string {
  const rows = ALL_TOPICS.map(
    (t) =>
      `| \`${t.name}\` | ${t.description} | ${Object.keys(t.types)
        .map((type) => `\`${type}\``)
        .join('<br>')} | \`${t.keyDescription}\` | ${t.partitions} | ${t.cleanupPolicy} | ${retention(t.retentionMs)} |`,
  );
  const valueExceptions = ALL_TOPICS.filter((t) => t.valueCodec).map((t) => `- \`${t.name}\`: ${t.valueCodec!.description}.`);
  return `# Event contracts

Generated from \`libs/contracts/src/topics.ts\` by \`tools/contracts-doc.ts\`; a unit test fails when
this file and the registry disagree. Payload classes (with their validation rules) live in
\`libs/contracts/src/events/\`.

## Envelope

Every record follows the CloudEvents 1.0 Kafka protocol binding in binary mode. Headers:

| header | meaning |
|---|---|
| \`ce_specversion\` | \`1.0\` |
| \`ce_id\` | unique id of the event; consumers deduplicate on it |
| \`ce_type\` | the payload type and version, e.g. \`wa.inbound.message.v1\` (one of the types the topic carries) |
| \`ce_source\` | the producer, e.g. \`/services/webhook-ingress\` or an agency system's URI |
| \`ce_time\` | when it happened (RFC 3339) |
| \`ce_subject\` | optional: what it is about |
| \`ce_tenant\` | extension attribute: the tenant (agency) id; equals \`tenantId\` in the payload |
| \`content-type\` | \`application/json\` |
| \`traceparent\`, \`tracestate\` | W3C trace context |

The record value is the JSON payload; the record key keeps related events in order (see below).
Except on these topics, whose value is something else and whose other payload fields are
attributes (consumers still decode and validate them into the payload class):

${valueExceptions.join('\n')}

A record that is not JSON, has an unknown \`ce_type\`, misses a header or fails validation goes to
the consuming group's DLQ (\`<group>.dlq\`) with the reason in \`x-dlq-reason\` and \`x-error\`.
A breaking change to a payload is a new version: a new \`ce_type\` and, when the shape changes for
every consumer, a new topic (\`.v2\`).

## Topics

| topic | what | ce_type | key | partitions | cleanup | retention |
|---|---|---|---|---|---|---|
${rows.join('\n')}

Each consumer group also has \`<group>.retry\` (records waiting for another try, with a
not-before time) and \`<group>.dlq\` (records that will not be retried), created by the group.
`;
}

if (require.main === module) process.stdout.write(renderContractsDoc());
