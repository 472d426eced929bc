import { Reader } from '@platformatic/kafka';

/**
 * Reads (and discards) a flexible-version structure's tagged fields as the Kafka protocol defines
 * them: an unsigned varint count, then per field an unsigned varint tag, an unsigned varint size
 * and that many bytes.
 *
 * @platformatic/kafka 1.x instead skips as many bytes as its signed reading of the count (upstream
 * marks tagged fields "not supported yet"). That only goes wrong when a broker sends some, and
 * Kafka 4 does so with errors: a Produce answered NOT_LEADER_OR_FOLLOWER names the new leader in
 * tagged fields. The client then failed that response as "Out of bounds" instead of retrying
 * against the new leader, so a leader move (a fresh topic, a broker's restart) failed the webhook
 * producer's sends until its metadata cache expired. With no tagged fields (a single zero byte,
 * nearly every response) both readings consume the same byte. Newer releases need Node 22.
 */
function readTaggedFieldsPerProtocol(this: Reader): void {
  const count = this.readUnsignedVarInt();
  for (let field = 0; field < count; field++) {
    this.readUnsignedVarInt(); // tag: nothing here reads tagged fields, they are skipped
    this.skip(this.readUnsignedVarInt());
  }
}

/** Idempotent; installed by the platformatic wire before its client parses any response. */
export function installTaggedFieldsReader(): void {
  Reader.prototype.readTaggedFields = readTaggedFieldsPerProtocol;
}
