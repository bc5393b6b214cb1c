// Goal: the frame and index codecs are exact and every damage to a frame is detected.
// Method: fast-check round trips (fixed seed, printed) for 64-bit fields, frames and index files;
// exhaustive single-bit flips over a whole frame; a sparse-index property that compares the
// index-guided start points with a brute-force scan.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { FRAME_HEADER_BYTES, readInt64LE, sealFrame, verifyFrame, writeInt64LE } from "../../src/storage/frame.js";
import { SegmentIndex, lastWhere } from "../../src/storage/segment-index.js";

const seed = Number(process.env.SYNOD_TEST_SEED ?? 20250101);

test("int64 fields round-trip every safe integer, and reject unsafe ones", (t) => {
  t.diagnostic(`fast-check seed ${seed}`);
  const buffer = Buffer.alloc(8);
  fc.assert(
    fc.property(fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.constantFrom(0, -1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 32, -(2 ** 32))), (value) => {
      writeInt64LE(buffer, 0, value);
      assert.equal(readInt64LE(buffer, 0), value);
      assert.equal(buffer.readBigInt64LE(0), BigInt(value), "the bytes are a standard little-endian i64");
    }),
    { seed, numRuns: 2000 },
  );
  buffer.writeBigInt64LE(2n ** 60n);
  assert.ok(Number.isNaN(readInt64LE(buffer, 0)));
});

test("frames round-trip their header fields and payload", (t) => {
  t.diagnostic(`fast-check seed ${seed}`);
  fc.assert(
    fc.property(fc.nat({ max: 2 ** 40 }), fc.maxSafeInteger(), fc.maxSafeInteger(), fc.uint8Array({ maxLength: 300 }), (index, timestamp, key, payload) => {
      const frame = Buffer.alloc(FRAME_HEADER_BYTES + payload.length);
      frame.set(payload, FRAME_HEADER_BYTES);
      const durableEnd = Math.floor(index / 2);
      sealFrame(frame, 0, { frameBytes: frame.length, index, timestamp, key, durableEnd });
      assert.deepEqual(verifyFrame(frame, 0), { frameBytes: frame.length, index, timestamp, key, durableEnd });
    }),
    { seed, numRuns: 500 },
  );
});

test("every single-bit flip anywhere in a frame is detected", () => {
  const frame = Buffer.alloc(FRAME_HEADER_BYTES + 64, 0xa5);
  sealFrame(frame, 0, { frameBytes: frame.length, index: 12345, timestamp: 1_700_000_000_000, key: 99, durableEnd: 12000 });
  for (let bit = 0; bit < frame.length * 8; bit++) {
    frame[bit >> 3] ^= 1 << (bit & 7);
    assert.equal(typeof verifyFrame(frame, 0), "string", `flip of bit ${bit} went unnoticed`);
    frame[bit >> 3] ^= 1 << (bit & 7);
  }
  assert.equal(typeof verifyFrame(frame, 0), "object");
});

test("sparse index start points never skip the answer and stay within one interval of it", (t) => {
  t.diagnostic(`fast-check seed ${seed}`);
  const entryArb = fc.record({ bytes: fc.integer({ min: FRAME_HEADER_BYTES, max: 700 }), keyStep: fc.integer({ min: 0, max: 3 }), timestamp: fc.integer({ min: 0, max: 100 }) });
  fc.assert(
    fc.property(fc.array(entryArb, { minLength: 1, maxLength: 200 }), fc.integer({ min: 1, max: 2000 }), fc.integer({ min: -5, max: 700 }), (specs, interval, probe) => {
      const index = new SegmentIndex(interval);
      const entries: Array<{ position: number; key: number; timestamp: number; bytes: number }> = [];
      let position = 0;
      let key = 0;
      for (const spec of specs) {
        key += spec.keyStep;
        index.addEntry(position, spec.bytes, key, spec.timestamp);
        entries.push({ position, key, timestamp: spec.timestamp, bytes: spec.bytes });
        position += spec.bytes;
      }
      const within = (start: { rel: number; position: number }, answer: number): void => {
        assert.equal(entries[start.rel]?.position ?? 0, start.position);
        assert.ok(start.rel <= answer, `start ${start.rel} after the answer ${answer}`);
        const scanned = entries[answer].position - start.position;
        assert.ok(scanned <= interval + 700, `scan of ${scanned} bytes for interval ${interval}`);
      };
      const rel = Math.min(Math.max(probe, 0), entries.length - 1);
      within(index.startForRel(rel), rel);
      const byKey = lastWhere(entries.length, (i) => entries[i].key <= probe);
      if (byKey >= 0) within(index.startForKey(probe), byKey);
      const byTime = entries.findIndex((e) => e.timestamp >= probe);
      if (byTime >= 0) within(index.startForTimestamp(probe), byTime);
      const decoded = SegmentIndex.decode(index.encode(5).offsetFile, index.encode(5).timeFile, { intervalBytes: interval, baseIndex: 5, segmentBytes: position });
      assert.ok(typeof decoded !== "string", String(decoded));
      assert.deepEqual(decoded.summary(), index.summary());
      assert.deepEqual(decoded.startForTimestamp(probe), index.startForTimestamp(probe));
    }),
    { seed, numRuns: 300 },
  );
});

test("index files that were tampered with are refused with a reason", () => {
  const index = new SegmentIndex(64);
  for (let i = 0; i < 50; i++) index.addEntry(i * 100, 100, i, i);
  const { offsetFile, timeFile } = index.encode(0);
  const decode = (a: Buffer, b: Buffer, baseIndex = 0, segmentBytes = 5000): string | SegmentIndex =>
    SegmentIndex.decode(a, b, { intervalBytes: 64, baseIndex, segmentBytes });
  assert.equal(typeof decode(offsetFile, timeFile), "object");
  const flipped = Buffer.from(offsetFile);
  flipped[3] ^= 1;
  assert.match(String(decode(flipped, timeFile)), /CRC/);
  assert.match(String(decode(offsetFile, timeFile, 0, 4999)), /describes 5000 bytes/);
  assert.match(String(decode(offsetFile, timeFile, 7)), /belong to the segment at 0/);
  assert.match(String(decode(offsetFile.subarray(16), timeFile)), /points|size|CRC/);
  assert.match(String(decode(timeFile, offsetFile)), /wrong kind|size/);
});
