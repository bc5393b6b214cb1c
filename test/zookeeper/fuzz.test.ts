// Goal: no request frame — random, mutated, truncated, or one op's body under another op's
// header — makes the decoder do anything but return a value or throw a typed RequestDecodeError:
// no other exception, no allocation beyond what the frame holds, no hang. Method: the harness in
// tools/zk-fuzz.ts with a fixed seed (printed), 50,000 frames for each of the 29 client op codes;
// then the same harness against deliberately broken decoders, to show each check can fail.
// `npm run fuzz:zk -- --seed N --per-op N` runs longer campaigns.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fuzzFrameReader, fuzzRequestDecoder } from "../../tools/zk-fuzz.js";
import { decodeRequest } from "../../src/zookeeper/protocol/requests.js";

const SEED = 7_700_001;

test("50,000 random and mutated frames per op code: typed errors only, bounded results, no hang", () => {
  console.log(`zk-fuzz seed ${SEED}`);
  // A "hang" is a decode over 5 s: generous for a loaded shared machine (GC and descheduling
  // reach a few hundred ms), tiny next to a loop driven by a hostile count.
  const report = fuzzRequestDecoder({ seed: SEED, framesPerOp: 50_000, decodeMsMax: 5000 });
  console.log(JSON.stringify({ ...report, failures: report.failures.slice(0, 3) }));
  assert.equal(report.frames, 50_000 * 29);
  assert.deepEqual(report.failures, []);
  // The campaign reached every stage: bodies decoded, and each rejection class seen.
  assert.ok(report.decoded > 100_000, "enough frames decode successfully");
  assert.ok(report.rejected.body > 100_000 && report.rejected.header > 0 && report.rejected["unknown-op"] > 0);
});

test("random streams through the frame reader: frames within the limit or FrameTooLargeError", () => {
  const result = fuzzFrameReader({ seed: SEED, streams: 3000 });
  assert.deepEqual(result.failures, []);
  assert.ok(result.frames > 1000 && result.rejected > 100);
});

test("the fuzzer catches a decoder that throws an untyped error", () => {
  const report = fuzzRequestDecoder({
    seed: 1,
    framesPerOp: 50,
    decode: (frame) => {
      const value = decodeRequest(frame);
      frame.readInt32BE(frame.length); // reads past the end: RangeError
      return value;
    },
  });
  assert.ok(report.failureCount > 0 && report.failures[0].includes("untyped RangeError"), report.failures[0]);
});

test("the fuzzer catches a decoder that allocates from a hostile length", () => {
  const report = fuzzRequestDecoder({
    seed: 2,
    framesPerOp: 50,
    decode: (frame) => ({ value: decodeRequest(frame), scratch: new Uint8Array(frame.length >= 8 ? frame.readUInt16BE(6) * 64 : 0) }),
  });
  assert.ok(report.failureCount > 0 && report.failures.some((f) => f.includes("holds")), report.failures[0]);
});

test("the fuzzer catches a decoder that hangs on a frame", () => {
  const report = fuzzRequestDecoder({
    seed: 3,
    framesPerOp: 2,
    decodeMsMax: 5,
    decode: (frame) => {
      const until = performance.now() + (frame.length % 2 === 0 ? 20 : 0);
      while (performance.now() < until);
      return decodeRequest(frame);
    },
  });
  assert.ok(report.failures.some((f) => f.includes("took")), report.failures[0]);
});
