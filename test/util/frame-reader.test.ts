// Goal: the shared length-prefixed reader splits any slicing of a byte stream into the same
// frames, enforces its limits on the 4-byte prefix before the body arrives, and stays linear when
// a peer trickles bytes one at a time (the pre-fix version rescanned every buffered chunk on each
// push: a 20 KB frame sent byte by byte took 15 s, an 80 KB one 4 minutes — a cheap DoS).
// Method: exhaustive split points on a small stream, limit edge cases, and a 512 KiB frame pushed
// one byte per call under a generous time bound (linear: well under a second; quadratic: hours).
import { test } from "node:test";
import assert from "node:assert/strict";
import { FrameTooLargeError, LengthPrefixedReader } from "../../src/util/frame-reader.js";

function prefixed(...payloads: Buffer[]): Buffer {
  return Buffer.concat(
    payloads.flatMap((payload) => {
      const prefix = Buffer.alloc(4);
      prefix.writeInt32BE(payload.length, 0);
      return [prefix, payload];
    }),
  );
}

test("every way of splitting a stream in two yields the same frames", () => {
  const payloads = [Buffer.from("hello"), Buffer.alloc(0), Buffer.from("x".repeat(300)), Buffer.from([1, 2, 3])];
  const stream = prefixed(...payloads);
  for (let cut = 0; cut <= stream.length; cut++) {
    const reader = new LengthPrefixedReader(1024);
    const frames = [...reader.push(stream.subarray(0, cut)), ...reader.push(stream.subarray(cut))];
    assert.deepEqual(frames, payloads, `cut at ${cut}`);
    assert.equal(reader.bufferedBytes, 0);
  }
});

test("limits are checked on the prefix alone, before the body is buffered", () => {
  const tooLong = Buffer.alloc(4);
  tooLong.writeInt32BE(1025, 0);
  assert.throws(() => new LengthPrefixedReader(1024).push(tooLong), (e: unknown) => e instanceof FrameTooLargeError && e.frameBytes === 1025);
  const negative = Buffer.from([0xff, 0xff, 0xff, 0xfe]);
  assert.throws(() => new LengthPrefixedReader(1024).push(negative), (e: unknown) => e instanceof FrameTooLargeError && e.frameBytes === -2);
  assert.throws(() => new LengthPrefixedReader(1024, 1).push(prefixed(Buffer.alloc(0))), FrameTooLargeError);
  assert.deepEqual(new LengthPrefixedReader(1024).push(prefixed(Buffer.alloc(1024))).map((f) => f.length), [1024]);
  // Three bytes of a prefix are not yet a verdict.
  assert.deepEqual(new LengthPrefixedReader(1024).push(tooLong.subarray(0, 3)), []);
});

test("a frame trickled one byte per push stays linear", () => {
  const payload = Buffer.alloc(512 * 1024, 7);
  const stream = prefixed(payload);
  const reader = new LengthPrefixedReader(1 << 20);
  const started = performance.now();
  const frames: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) frames.push(...reader.push(stream.subarray(i, i + 1)));
  const elapsedMs = performance.now() - started;
  assert.equal(frames.length, 1);
  assert.ok(frames[0].equals(payload));
  assert.ok(elapsedMs < 30_000, `trickling 512 KiB took ${elapsedMs.toFixed(0)} ms`);
});
