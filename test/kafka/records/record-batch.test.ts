// Goal: the record batch v2 codec is exact and rejects what is wrong with a typed error. Method:
// fast-check batches (random records, headers, producer fields, every compression including raw
// and xerial snappy) round-trip through encode → validate → decode; control batches carry their
// markers; in-place rewrites of baseOffset/partitionLeaderEpoch keep the CRC valid; flipped bits,
// wrong counts, truncation, old magics and zip bombs are each caught with their own error code;
// random mutations of valid batches never escape as untyped exceptions. Seed fixed and printed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { crc32c } from "@node-rs/crc32";
import { SeededRandom } from "../../../src/util/random.js";
import { Compression, compress, decompress } from "../../../src/kafka/records/compression.js";
import { RecordBatchError } from "../../../src/kafka/records/errors.js";
import { ControlType, decodeControlKey, decodeEndTxnMarker, type KafkaRecord } from "../../../src/kafka/records/record.js";
import {
  BatchField,
  compressionOf,
  decodeRecordBatch,
  encodeControlBatch,
  encodeRecordBatch,
  isControl,
  isTransactional,
  readBatchHeader,
  setBaseOffset,
  setPartitionLeaderEpoch,
  splitBatches,
  timestampType,
  validateBatch,
} from "../../../src/kafka/records/record-batch.js";

const seed = Number(process.env.SEED ?? 20260402);
console.log(`record batch properties: seed ${seed} (SEED=<n> to vary)`);

function failsWith(code: string) {
  return (error: unknown) => error instanceof RecordBatchError && error.code === code;
}

const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((b) => Buffer.from(b));
const recordArbitrary = fc.record(
  {
    attributes: fc.constant(0),
    timestampDelta: fc.integer({ min: 0, max: 2 ** 40 }),
    offsetDelta: fc.constant(0),
    key: fc.option(bytes(20), { nil: null }),
    value: fc.option(bytes(200), { nil: null }),
    headers: fc.array(fc.record({ key: fc.string({ unit: "grapheme", maxLength: 8 }), value: fc.option(bytes(10), { nil: null }) }, { noNullPrototype: true }), { maxLength: 3 }),
  },
  { noNullPrototype: true },
);
const recordsArbitrary = fc.array(recordArbitrary, { minLength: 1, maxLength: 12 }).map((records) => records.map((r, i): KafkaRecord => ({ ...r, offsetDelta: i })));
const codecArbitrary = fc.constantFrom(
  { compression: Compression.None, snappyFraming: undefined },
  { compression: Compression.Gzip, snappyFraming: undefined },
  { compression: Compression.Snappy, snappyFraming: "xerial" as const },
  { compression: Compression.Snappy, snappyFraming: "raw" as const },
  { compression: Compression.Lz4, snappyFraming: undefined },
  { compression: Compression.Zstd, snappyFraming: undefined },
);

test("round trip: random batches with every compression decode to what was encoded", () => {
  fc.assert(
    fc.property(
      recordsArbitrary,
      codecArbitrary,
      fc.bigInt({ min: 0n, max: 2n ** 62n }),
      fc.bigInt({ min: -1n, max: 2n ** 40n }),
      fc.integer({ min: -1, max: 32767 }),
      fc.integer({ min: -1, max: 2 ** 31 - 1 }),
      fc.boolean(),
      fc.boolean(),
      (records, codec, baseTimestamp, producerId, producerEpoch, baseSequence, transactional, logAppendTime) => {
        const buf = encodeRecordBatch(
          { baseOffset: 1000n, partitionLeaderEpoch: 7, compression: codec.compression, timestampType: logAppendTime ? "LogAppendTime" : "CreateTime", transactional, baseTimestamp, producerId, producerEpoch, baseSequence, records },
          { snappyFraming: codec.snappyFraming },
        );
        const header = validateBatch(buf, 0, { decompress: true });
        assert.equal(header.batchLength + 12, buf.length);
        const batch = decodeRecordBatch(buf);
        assert.deepStrictEqual(batch.records, records);
        assert.equal(compressionOf(batch.attributes), codec.compression);
        assert.equal(isTransactional(batch.attributes), transactional);
        assert.equal(timestampType(batch.attributes), logAppendTime ? "LogAppendTime" : "CreateTime");
        assert.equal(batch.lastOffsetDelta, records.length - 1);
        assert.equal(batch.maxTimestamp, baseTimestamp + BigInt(Math.max(...records.map((r) => r.timestampDelta))));
        assert.deepEqual([batch.baseOffset, batch.partitionLeaderEpoch, batch.producerId, batch.producerEpoch, batch.baseSequence], [1000n, 7, producerId, producerEpoch, baseSequence]);
      },
    ),
    { seed, numRuns: 300 },
  );
});

test("control batches carry COMMIT and ABORT markers with the coordinator epoch", () => {
  for (const type of [ControlType.Commit, ControlType.Abort]) {
    const buf = encodeControlBatch({ type, producerId: 77n, producerEpoch: 3, coordinatorEpoch: 12, timestamp: 1_700_000_000_000n, baseOffset: 55n });
    const batch = decodeRecordBatch(validateBatch(buf) && buf);
    assert.ok(isControl(batch.attributes));
    assert.ok(isTransactional(batch.attributes));
    assert.equal(batch.records.length, 1);
    assert.deepEqual(decodeControlKey(batch.records[0].key), { version: 0, type });
    assert.deepEqual(decodeEndTxnMarker(batch.records[0].value), { version: 0, coordinatorEpoch: 12 });
    assert.deepEqual([batch.baseOffset, batch.producerId, batch.producerEpoch, batch.baseSequence], [55n, 77n, 3, -1]);
  }
  assert.throws(() => decodeControlKey(Buffer.alloc(2)), failsWith("CORRUPT_RECORD"));
});

test("baseOffset and partitionLeaderEpoch are rewritten in place without touching the CRC", () => {
  const buf = encodeRecordBatch({ baseTimestamp: 1n, compression: Compression.Lz4, records: [{ attributes: 0, timestampDelta: 0, offsetDelta: 0, key: null, value: Buffer.from("v"), headers: [] }] });
  const crcBefore = buf.readUInt32BE(BatchField.crc);
  setBaseOffset(buf, 123_456_789_012n);
  setPartitionLeaderEpoch(buf, 99);
  const header = validateBatch(buf, 0, { decompress: true });
  assert.equal(header.crc, crcBefore);
  assert.equal(header.baseOffset, 123_456_789_012n);
  assert.equal(header.partitionLeaderEpoch, 99);
});

test("a flipped bit anywhere from the attributes to the end is a CRC mismatch", () => {
  const buf = encodeRecordBatch({ baseTimestamp: 5n, records: [{ attributes: 0, timestampDelta: 1, offsetDelta: 0, key: Buffer.from("key"), value: Buffer.from("value"), headers: [{ key: "h", value: null }] }] });
  for (let at = BatchField.attributes; at < buf.length; at++) {
    const broken = Buffer.from(buf);
    broken[at] ^= 0x10;
    assert.throws(() => validateBatch(broken), failsWith("CRC_MISMATCH"), `flip at byte ${at}`);
    assert.throws(() => decodeRecordBatch(broken), failsWith("CRC_MISMATCH"));
  }
});

/** Rewrites a header field and fixes the CRC, to reach the checks behind it. */
function withField(buf: Buffer, write: (b: Buffer) => void): Buffer {
  const copy = Buffer.from(buf);
  write(copy);
  copy.writeUInt32BE(crc32c(copy.subarray(BatchField.attributes)) >>> 0, BatchField.crc);
  return copy;
}

test("structural errors each have their code: count mismatch, truncation, old magic, bad codec", () => {
  const record = (i: number): KafkaRecord => ({ attributes: 0, timestampDelta: i, offsetDelta: i, key: null, value: Buffer.from(`v${i}`), headers: [] });
  const buf = encodeRecordBatch({ baseTimestamp: 0n, records: [record(0), record(1), record(2)] });
  assert.throws(() => validateBatch(withField(buf, (b) => b.writeInt32BE(4, BatchField.recordsCount))), failsWith("RECORD_COUNT_MISMATCH"));
  assert.throws(() => decodeRecordBatch(withField(buf, (b) => b.writeInt32BE(2, BatchField.recordsCount))), failsWith("RECORD_COUNT_MISMATCH"));
  assert.throws(() => decodeRecordBatch(withField(buf, (b) => b.writeInt32BE(1_000_000_000, BatchField.recordsCount))), failsWith("RECORD_COUNT_MISMATCH"));
  assert.throws(() => validateBatch(buf.subarray(0, buf.length - 1)), failsWith("TRUNCATED"));
  assert.throws(() => validateBatch(buf.subarray(0, 20)), failsWith("TRUNCATED"));
  assert.throws(() => validateBatch(withField(buf, (b) => b.writeInt16BE(5, BatchField.attributes))), failsWith("UNSUPPORTED_COMPRESSION"));
  // A magic 1 message (pre-0.11): offset, size, crc, magic 1, attributes, timestamp, key -1, value.
  const legacy = Buffer.alloc(8 + 4 + 4 + 1 + 1 + 8 + 4 + 4 + 5);
  legacy.writeInt32BE(legacy.length - 12, 8);
  legacy.writeInt8(1, 16);
  legacy.writeInt32BE(-1, 26);
  legacy.writeInt32BE(5, 30);
  assert.throws(() => validateBatch(legacy), (error: unknown) => error instanceof RecordBatchError && error.code === "UNSUPPORTED_MAGIC" && /magic 1 message set/.test(error.message));
  assert.throws(() => splitBatches(legacy), failsWith("UNSUPPORTED_MAGIC"));
  assert.equal(new RecordBatchError("UNSUPPORTED_MAGIC", "x").kafkaErrorCode, 43, "UNSUPPORTED_FOR_MESSAGE_FORMAT");
});

test("splitBatches slices concatenated batches and reports a trailing partial one", () => {
  const one = encodeRecordBatch({ baseTimestamp: 0n, records: [{ attributes: 0, timestampDelta: 0, offsetDelta: 0, key: null, value: Buffer.from("a"), headers: [] }] });
  const two = encodeRecordBatch({ baseOffset: 1n, baseTimestamp: 0n, compression: Compression.Gzip, records: [{ attributes: 0, timestampDelta: 0, offsetDelta: 0, key: null, value: Buffer.from("b"), headers: [] }] });
  const joined = Buffer.concat([one, two, two.subarray(0, 30)]);
  const { batches, partialBytes } = splitBatches(joined);
  assert.equal(batches.length, 2);
  assert.ok(batches[0].equals(one) && batches[1].equals(two));
  assert.equal(batches[1].buffer, joined.buffer, "slices, not copies");
  assert.equal(partialBytes, 30);
  assert.equal(readBatchHeader(batches[1]).baseOffset, 1n);
});

test("decompression is bounded: a zip bomb in every codec is DECOMPRESSED_TOO_LARGE", () => {
  const bomb = Buffer.alloc(8 * 1024 * 1024);
  for (const codec of [Compression.Gzip, Compression.Snappy, Compression.Lz4, Compression.Zstd]) {
    const small = compress(codec, bomb);
    assert.ok(small.length < bomb.length / 20, `codec ${codec} compresses zeros`);
    assert.throws(() => decompress(codec, small, 1024 * 1024), failsWith("DECOMPRESSED_TOO_LARGE"), `codec ${codec}`);
    assert.equal(decompress(codec, small, bomb.length).length, bomb.length);
  }
  assert.throws(() => decompress(Compression.Snappy, compress(Compression.Snappy, bomb, { snappyFraming: "raw" }), 1000), failsWith("DECOMPRESSED_TOO_LARGE"));
  // A gzip stream that claims nothing up front: only streaming with a cap can stop it.
  assert.throws(() => decompress(Compression.Gzip, gzipSync(bomb), 4096), failsWith("DECOMPRESSED_TOO_LARGE"));
  const batch = encodeRecordBatch({ baseTimestamp: 0n, compression: Compression.Zstd, records: [{ attributes: 0, timestampDelta: 0, offsetDelta: 0, key: null, value: bomb, headers: [] }] });
  assert.throws(() => decodeRecordBatch(batch, { maxDecompressedBytes: 1024 * 1024 }), failsWith("DECOMPRESSED_TOO_LARGE"));
});

test("corrupt compressed payloads are CORRUPT_COMPRESSED_DATA", () => {
  const data = Buffer.from("some text that compresses ".repeat(50));
  for (const codec of [Compression.Gzip, Compression.Snappy, Compression.Lz4, Compression.Zstd]) {
    const packed = compress(codec, data);
    const broken = Buffer.from(packed.subarray(0, Math.floor(packed.length / 2)));
    assert.throws(() => decompress(codec, broken), (error: unknown) => error instanceof RecordBatchError, `codec ${codec}`);
  }
  assert.throws(() => decompress(Compression.Lz4, Buffer.from("not an lz4 frame")), failsWith("CORRUPT_COMPRESSED_DATA"));
});

test("random mutations of valid batches give only RecordBatchError", () => {
  const random = new SeededRandom(seed);
  const samples = fc.sample(fc.tuple(recordsArbitrary, codecArbitrary), { seed, numRuns: 30 });
  const valid = samples.map(([records, codec]) => encodeRecordBatch({ baseTimestamp: 0n, compression: codec.compression, records }, { snappyFraming: codec.snappyFraming }));
  let typed = 0;
  for (let i = 0; i < 5000; i++) {
    const buf = Buffer.from(valid[random.int(valid.length)]);
    const at = random.int(buf.length);
    if (random.chance(0.5)) buf[at] ^= 1 << random.int(8);
    else buf.writeUInt8(random.int(256), at);
    // Half the time fix the CRC so the record parsing behind it is exercised too.
    const candidate = random.chance(0.5) && buf.length > BatchField.attributes ? withField(buf, () => undefined) : buf;
    try {
      validateBatch(candidate, 0, { decompress: true, maxDecompressedBytes: 1 << 20 });
      decodeRecordBatch(candidate, { maxDecompressedBytes: 1 << 20 });
    } catch (error) {
      assert.ok(error instanceof RecordBatchError, `untyped ${String(error)}`);
      typed++;
    }
  }
  assert.ok(typed > 1000);
});
