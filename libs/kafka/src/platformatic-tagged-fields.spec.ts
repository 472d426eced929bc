import { Reader } from '@platformatic/kafka';
import { installTaggedFieldsReader } from './platformatic-tagged-fields';

describe("@platformatic/kafka's reader of tagged fields (patched)", () => {
  beforeAll(() => installTaggedFieldsReader());

  it('skips each field by its own size, so what follows is read where it is', () => {
    // Two fields (tag 0, 3 bytes; tag 1, 130 bytes: a two-byte varint size), then an INT32.
    const bytes = Buffer.concat([
      Buffer.from([2, 0, 3, 0xaa, 0xbb, 0xcc, 1, 0x82, 0x01]),
      Buffer.alloc(130, 0xee),
      Buffer.from([0, 0, 0, 42]),
    ]);
    const reader = Reader.from(bytes);
    reader.readTaggedFields();
    expect(reader.readInt32()).toBe(42);
    expect(reader.remaining).toBe(0);
  });

  it('reads an empty set as one zero byte', () => {
    const reader = Reader.from(Buffer.from([0, 0, 0, 0, 7]));
    reader.readTaggedFields();
    expect(reader.readInt32()).toBe(7);
  });
});
