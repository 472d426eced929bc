import type { TopicSpec } from './topics';

const DAY = 24 * 60 * 60 * 1000;

/**
 * How many days a consumer's inbox must remember a record id: as long as any topic it reads can
 * deliver that record again (a group reset to the earliest offset replays the topic's whole
 * retention), plus a day for records that waited in the outbox or the retry topic before they
 * arrived. A compacted topic keeps its records forever, so an inbox fed by one could never forget:
 * such consumers are idempotent by version instead, and naming one here is a mistake.
 */
export function inboxRetentionDays(topics: readonly TopicSpec[]): number {
  if (topics.length === 0) throw new Error('inboxRetentionDays needs the topics whose records the inbox remembers');
  const compacted = topics.filter((t) => t.retentionMs < 0 || t.cleanupPolicy === 'compact');
  if (compacted.length) {
    throw new Error(`${compacted.map((t) => t.name).join(', ')} keep records forever: an inbox fed by them cannot be pruned`);
  }
  return Math.ceil(Math.max(...topics.map((t) => t.retentionMs)) / DAY) + 1;
}
