import { connect, createServer, type Server, type Socket } from 'node:net';

const METADATA = 3;
const FIND_COORDINATOR = 10;

interface Pending {
  apiKey: number;
  apiVersion: number;
}

/**
 * A TCP proxy in front of the shared Kafka broker that a test can take away and bring back, so a
 * service under test sees "Kafka is down" without anyone stopping the broker other tests use.
 *
 * Kafka clients connect to whatever address the broker advertises in Metadata (and
 * FindCoordinator) responses, which would route them around a plain proxy after the first request.
 * So the proxy reads the frames it relays and rewrites those two responses to advertise itself.
 * Handled: the versions kafkajs 2.x speaks (Metadata v1-v8, FindCoordinator v0-v2) and the
 * flexible Metadata versions (v9+) of @platformatic/kafka, which the webhook producer uses.
 */
export class KafkaProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly upstreamHost: string,
    private readonly upstreamPort: number,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Listens (again) on the same port, or a free one the first time. */
  async start(): Promise<void> {
    const server = createServer((client) => this.relay(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Kafka "goes away": no new connections, and every open one is cut. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  private relay(client: Socket): void {
    const upstream = connect(this.upstreamPort, this.upstreamHost);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const pending = new Map<number, Pending>();
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', closeBoth).on('close', closeBoth);
    upstream.on('error', closeBoth).on('close', closeBoth);

    client.on(
      'data',
      framer((frame) => {
        // Request header: size, api_key int16, api_version int16, correlation_id int32, ...
        pending.set(frame.readInt32BE(8), { apiKey: frame.readInt16BE(4), apiVersion: frame.readInt16BE(6) });
        upstream.write(frame);
      }),
    );
    upstream.on(
      'data',
      framer((frame) => {
        const correlationId = frame.readInt32BE(4);
        const request = pending.get(correlationId);
        pending.delete(correlationId);
        client.write(request ? this.rewrite(frame, request) : frame);
      }),
    );
  }

  private rewrite(frame: Buffer, { apiKey, apiVersion }: Pending): Buffer {
    if (apiKey === METADATA && apiVersion >= 1 && apiVersion <= 8) return this.rewriteMetadata(frame, apiVersion);
    if (apiKey === METADATA && apiVersion >= 9) return this.rewriteFlexibleMetadata(frame);
    if (apiKey === FIND_COORDINATOR && apiVersion <= 2) return this.rewriteCoordinator(frame, apiVersion);
    return frame;
  }

  private rewriteMetadata(frame: Buffer, version: number): Buffer {
    let offset = 8 + (version >= 3 ? 4 : 0);
    const head = frame.subarray(4, offset);
    const count = frame.readInt32BE(offset);
    offset += 4;
    const brokers: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      const nodeId = frame.readInt32BE(offset);
      offset += 4;
      offset += 2 + frame.readInt16BE(offset); // host
      offset += 4; // port
      const rackLength = frame.readInt16BE(offset);
      const rack = frame.subarray(offset, offset + 2 + Math.max(rackLength, 0));
      offset += rack.length;
      brokers.push(Buffer.concat([int32(nodeId), kafkaString('127.0.0.1'), int32(this.port), rack]));
    }
    return sized(Buffer.concat([head, int32(count), ...brokers, frame.subarray(offset)]));
  }

  /** Compact strings and arrays (unsigned varint length + 1) and tagged fields after each struct. */
  private rewriteFlexibleMetadata(frame: Buffer): Buffer {
    let offset = skipTaggedFields(frame, 8); // response header v1: correlation_id, tagged fields
    offset += 4; // throttle_time_ms
    const head = frame.subarray(4, offset);
    const [countPlusOne, afterCount] = readUnsignedVarInt(frame, offset);
    offset = afterCount;
    const brokers: Buffer[] = [];
    for (let i = 0; i < countPlusOne - 1; i++) {
      const nodeId = frame.readInt32BE(offset);
      const [hostLengthPlusOne, afterHostLength] = readUnsignedVarInt(frame, offset + 4);
      offset = afterHostLength + hostLengthPlusOne - 1 + 4; // host, port
      const rackStart = offset;
      const [rackLengthPlusOne, afterRackLength] = readUnsignedVarInt(frame, offset);
      offset = skipTaggedFields(frame, afterRackLength + Math.max(rackLengthPlusOne - 1, 0));
      brokers.push(Buffer.concat([int32(nodeId), compactString('127.0.0.1'), int32(this.port), frame.subarray(rackStart, offset)]));
    }
    return sized(Buffer.concat([head, unsignedVarInt(countPlusOne), ...brokers, frame.subarray(offset)]));
  }

  private rewriteCoordinator(frame: Buffer, version: number): Buffer {
    let offset = 8;
    if (version >= 1) offset += 4; // throttle_time_ms
    offset += 2; // error_code
    if (version >= 1) {
      const messageLength = frame.readInt16BE(offset);
      offset += 2 + Math.max(messageLength, 0);
    }
    const before = frame.subarray(4, offset + 4); // ... through node_id
    offset += 4;
    offset += 2 + frame.readInt16BE(offset); // host
    offset += 4; // port
    return sized(Buffer.concat([before, kafkaString('127.0.0.1'), int32(this.port), frame.subarray(offset)]));
  }
}

function int32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(value);
  return b;
}

function kafkaString(value: string): Buffer {
  const bytes = Buffer.from(value);
  const length = Buffer.alloc(2);
  length.writeInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function compactString(value: string): Buffer {
  const bytes = Buffer.from(value);
  return Buffer.concat([unsignedVarInt(bytes.length + 1), bytes]);
}

function unsignedVarInt(value: number): Buffer {
  const bytes: number[] = [];
  while (value > 0x7f) {
    bytes.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  bytes.push(value);
  return Buffer.from(bytes);
}

function readUnsignedVarInt(frame: Buffer, offset: number): [value: number, next: number] {
  let value = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = frame[offset++];
    value |= (byte & 0x7f) << shift;
    if (!(byte & 0x80)) return [value >>> 0, offset];
  }
}

function skipTaggedFields(frame: Buffer, offset: number): number {
  let [count, next] = readUnsignedVarInt(frame, offset);
  while (count-- > 0) {
    const [, afterTag] = readUnsignedVarInt(frame, next);
    const [size, afterSize] = readUnsignedVarInt(frame, afterTag);
    next = afterSize + size;
  }
  return next;
}

function sized(body: Buffer): Buffer {
  return Buffer.concat([int32(body.length), body]);
}

/** Splits a byte stream into whole Kafka frames (int32 size prefix included). */
function framer(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let buffered: Buffer = Buffer.alloc(0);
  return (chunk) => {
    buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
    while (buffered.length >= 4) {
      const size = buffered.readInt32BE(0);
      if (buffered.length < 4 + size) break;
      onFrame(buffered.subarray(0, 4 + size));
      buffered = buffered.subarray(4 + size);
    }
  };
}
