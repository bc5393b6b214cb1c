// Goal: ZooKeeper's framing limits and first-bytes handling. Method: the ZooKeeper frame reader
// (jute.maxbuffer default 0xfffff) on boundary lengths, and four-letter-word sniffing on the words
// ZooKeeper knows versus ordinary ConnectRequest prefixes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FrameTooLargeError } from "../../src/util/frame-reader.js";
import { JuteWriter } from "../../src/zookeeper/jute/runtime.js";
import { PACKET_BYTES_MAX_DEFAULT } from "../../src/zookeeper/protocol/constants.js";
import { beginFrame, createFrameReader, endFrame, fourLetterWordOf, lengthPrefixed } from "../../src/zookeeper/protocol/frame.js";

test("the default maximum is jute.maxbuffer (0xfffff): that length passes, one more closes", () => {
  assert.equal(PACKET_BYTES_MAX_DEFAULT, 1_048_575);
  const header = (length: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(length, 0);
    return b;
  };
  assert.deepEqual(createFrameReader().push(header(0xfffff)), []);
  assert.throws(() => createFrameReader().push(header(0x100000)), (e: unknown) => e instanceof FrameTooLargeError && e.frameBytesMax === 0xfffff);
  assert.throws(() => createFrameReader().push(header(-1)), FrameTooLargeError);
  assert.throws(() => createFrameReader(100).push(header(101)), FrameTooLargeError);
});

test("four-letter words are recognized from the first four bytes; a ConnectRequest's length is not one", () => {
  for (const word of ["ruok", "srvr", "stat", "mntr", "conf", "cons", "envi", "isro", "wchs", "dump"]) {
    assert.equal(fourLetterWordOf(Buffer.from(word + "\n")), word);
  }
  assert.equal(fourLetterWordOf(Buffer.from("abcd")), undefined);
  assert.equal(fourLetterWordOf(Buffer.from("ruo")), undefined);
  assert.equal(fourLetterWordOf(Buffer.from([0, 0, 0, 45])), undefined);
  // As a length, every word is far beyond the default maximum, so the check must come first.
  assert.ok(Buffer.from("ruok").readInt32BE(0) > PACKET_BYTES_MAX_DEFAULT);
});

test("beginFrame/endFrame and lengthPrefixed write the same prefix", () => {
  const w = new JuteWriter();
  const at = beginFrame(w);
  w.writeString("/a");
  endFrame(w, at);
  const body = Buffer.from([0, 0, 0, 2, 0x2f, 0x61]);
  assert.deepEqual(w.toBytes(), lengthPrefixed(body));
  assert.deepEqual(createFrameReader().push(w.toBytes()), [body]);
});
