// Goal: the frame reader splits any chunking of a stream into exactly the frames that were sent,
// enforces its size limit before allocating, and copies a split frame once. Method: a property
// over random frames cut at random points; explicit cases for oversized and negative prefixes, a
// prefix split across chunks, empty frames; a 10,000-chunk frame checks that assembly stays linear
// (its time is compared with one-chunk assembly, loosely, so a quadratic copy cannot hide).
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { performance } from "node:perf_hooks";
import { KafkaDecodeError } from "../../../src/kafka/protocol/errors.js";
import { DEFAULT_MAX_FRAME_BYTES, FrameReader } from "../../../src/kafka/protocol/frame-reader.js";

const seed = Number(process.env.SEED ?? 20260403);

function framed(payload: Buffer): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(payload.length, 0);
  return Buffer.concat([prefix, payload]);
}

test("any chunking of a stream yields exactly the frames sent, in order", () => {
  console.log(`frame reader property: seed ${seed}`);
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 40 }), (payloads, cuts) => {
      const stream = Buffer.concat(payloads.map((p) => framed(Buffer.from(p))));
      const reader = new FrameReader({ maxFrameBytes: 1000 });
      const out: Buffer[] = [];
      let offset = 0;
      for (let i = 0; offset < stream.length; i++) {
        const size = cuts[i % cuts.length];
        out.push(...reader.push(stream.subarray(offset, offset + size)));
        offset += size;
      }
      assert.deepEqual(out.map((f) => Buffer.from(f).toString("hex")), payloads.map((p) => Buffer.from(p).toString("hex")));
      assert.equal(reader.pendingBytes, 0);
    }),
    { seed, numRuns: 500 },
  );
});

test("the size limit is enforced on the prefix, before any byte of the frame arrives", () => {
  assert.equal(new FrameReader().maxFrameBytes, DEFAULT_MAX_FRAME_BYTES);
  const reader = new FrameReader({ maxFrameBytes: 1024 });
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(1025, 0);
  assert.throws(() => reader.push(prefix), (e: unknown) => e instanceof KafkaDecodeError && e.code === "FRAME_TOO_LARGE");
  const negative = new FrameReader();
  assert.throws(() => negative.push(Buffer.from([0xff, 0xff, 0xff, 0xfe])), (e: unknown) => e instanceof KafkaDecodeError && e.code === "NEGATIVE_FRAME_SIZE");
  // A 2 GiB claim split across chunks is refused when the fourth prefix byte arrives.
  const split = new FrameReader();
  assert.deepEqual(split.push(Buffer.from([0x7f, 0xff])), []);
  assert.throws(() => split.push(Buffer.from([0xff, 0xff])), (e: unknown) => e instanceof KafkaDecodeError && e.code === "FRAME_TOO_LARGE");
  assert.throws(() => new FrameReader({ maxFrameBytes: -1 }), RangeError);
});

test("empty frames, and a frame inside one chunk comes back as a zero-copy slice", () => {
  const reader = new FrameReader();
  const chunk = Buffer.concat([framed(Buffer.alloc(0)), framed(Buffer.from("abc")), framed(Buffer.alloc(0))]);
  const frames = reader.push(chunk);
  assert.deepEqual(frames.map((f) => f.toString()), ["", "abc", ""]);
  assert.equal(frames[1].buffer, chunk.buffer);
});

test("a frame arriving in 10,000 chunks is assembled in linear time (one copy)", () => {
  const payload = Buffer.alloc(4 * 1024 * 1024, 7);
  const stream = framed(payload);
  const time = (chunkBytes: number) => {
    const reader = new FrameReader();
    const started = performance.now();
    let frames: Buffer[] = [];
    for (let offset = 0; offset < stream.length; offset += chunkBytes) frames = frames.concat(reader.push(stream.subarray(offset, offset + chunkBytes)));
    assert.equal(frames.length, 1);
    assert.ok(frames[0].equals(payload));
    return performance.now() - started;
  };
  const many = time(Math.ceil(stream.length / 10_000));
  const one = time(stream.length);
  // Quadratic re-copying would move ~20 GB here (seconds); linear assembly takes milliseconds.
  assert.ok(many < 2000, `10,000 chunks took ${many.toFixed(0)} ms (one chunk: ${one.toFixed(1)} ms)`);
});
