// Goal: every generated jute codec (all 72 classes of zookeeper.jute) encodes exactly the bytes
// the jute rules prescribe and decodes them back. Method: fast-check values derived from the
// parsed definitions (fixed seed, printed); for each, the generated encoder's bytes must equal
// the table-driven reference encoder's (test/zookeeper/jute-reference.ts), the generated decoder
// must return the value and consume every byte, and every strict prefix must fail with a typed
// JuteDecodeError, never another exception.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { JUTE_SCHEMA, juteCodecs, type JuteRecordName } from "../../src/zookeeper/generated/jute.js";
import { JuteDecodeError, JuteReader, JuteWriter, type JuteCodec } from "../../src/zookeeper/jute/runtime.js";
import { arbitraryOf, plain, referenceDecode, referenceEncode } from "./jute-reference.js";

const SEED = 20260724;

test("the generated module covers every class of the schema (72 in ZooKeeper's jute file)", () => {
  assert.equal(JUTE_SCHEMA.classes.length, 72);
  assert.deepEqual(Object.keys(juteCodecs).sort(), JUTE_SCHEMA.classes.map((cls) => cls.name).sort());
  assert.equal(juteCodecs.Stat.bytesMin, 68, "Stat is 68 bytes on the wire");
});

test("round trip of every generated record against the reference codec", () => {
  console.log(`fast-check seed ${SEED}`);
  for (const cls of JUTE_SCHEMA.classes) {
    const codec = juteCodecs[cls.name as JuteRecordName] as JuteCodec<unknown>;
    const writer = new JuteWriter(16);
    fc.assert(
      fc.property(arbitraryOf({ kind: "record", name: cls.name }), (value) => {
        writer.reset();
        codec.encode(writer, value);
        const bytes = writer.toBytes();
        assert.deepEqual(Uint8Array.from(bytes), referenceEncode(cls.name, value), `${cls.name}: bytes differ from the reference`);
        assert.ok(bytes.length >= codec.bytesMin, `${cls.name}: shorter than bytesMin`);
        const reader = new JuteReader(bytes);
        assert.deepEqual(plain(codec.decode(reader)), plain(value), `${cls.name}: decode(encode(v)) ≠ v`);
        assert.equal(reader.remaining, 0, `${cls.name}: decoder left bytes`);
        assert.deepEqual(plain(referenceDecode(cls.name, bytes).value), plain(value));
        for (let cut = 0; cut < bytes.length; cut += Math.max(1, Math.floor(bytes.length / 7))) {
          assert.throws(() => codec.decode(new JuteReader(bytes, 0, cut)), JuteDecodeError, `${cls.name}: prefix of ${cut} bytes`);
        }
      }),
      { seed: SEED, numRuns: 60 },
    );
  }
});

test("a reader never looks outside the range it was given", () => {
  // Stat (68 bytes) inside a larger buffer: a reader limited to 60 bytes must fail, not read on.
  const w = new JuteWriter();
  juteCodecs.Stat.encode(w, { czxid: 1n, mzxid: 2n, ctime: 3n, mtime: 4n, version: 5, cversion: 6, aversion: 7, ephemeralOwner: 8n, dataLength: 9, numChildren: 10, pzxid: 11n });
  const padded = Buffer.concat([Buffer.from([9, 9]), w.toBytes(), Buffer.alloc(16)]);
  assert.throws(() => juteCodecs.Stat.decode(new JuteReader(padded, 2, 62)), (e: unknown) => e instanceof JuteDecodeError && e.code === "truncated");
  assert.equal(juteCodecs.Stat.decode(new JuteReader(padded, 2, 70)).pzxid, 11n);
});

test("hostile lengths fail before any allocation", () => {
  const huge = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n, 0);
    return b;
  };
  // A string claiming 2 GiB in a 4-byte input.
  assert.throws(() => new JuteReader(huge(0x7fffffff)).readString(), (e: unknown) => e instanceof JuteDecodeError && e.code === "truncated");
  assert.throws(() => new JuteReader(huge(-2)).readBuffer(), (e: unknown) => e instanceof JuteDecodeError && e.code === "bad-length");
  // A vector of 1e9 ACLs: rejected by count × minimal element size, not by running out mid-loop.
  assert.throws(() => new JuteReader(huge(1_000_000_000)).readVector(juteCodecs.ACL.bytesMin, juteCodecs.ACL.decode), (e: unknown) => e instanceof JuteDecodeError && e.code === "truncated");
  assert.throws(() => new JuteReader(huge(-5)).readStringVector(), (e: unknown) => e instanceof JuteDecodeError && e.code === "bad-length");
  assert.equal(new JuteReader(huge(-1)).readStringVector(), null);
});

test("jute booleans decode like Java's readBoolean (non-zero is true) and encode as 1", () => {
  assert.equal(new JuteReader(Buffer.from([7])).readBool(), true);
  assert.equal(new JuteReader(Buffer.from([0])).readBool(), false);
  const w = new JuteWriter();
  w.writeBool(true);
  assert.deepEqual([...w.toBytes()], [1]);
});

test("invalid UTF-8 decodes to U+FFFD as Java's new String(bytes, UTF_8) does", () => {
  assert.equal(new JuteReader(Buffer.from([0, 0, 0, 2, 0xc3, 0x28])).readString(), "\ufffd(");
});
