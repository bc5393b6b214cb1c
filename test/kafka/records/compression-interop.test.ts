// Goal: our compressed payloads are the standard formats other Kafka implementations read and
// write, not merely self-consistent. Method: round-trip through the reference command-line tools
// (lz4 for the LZ4 frame format librdkafka and Java use, zstd, gzip) in both directions, including
// the streaming forms that carry no content size; check the xerial snappy container byte by byte
// against its published layout, and read a multi-block xerial stream built by hand.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { compressSync as snappyRaw } from "snappy";
import { Compression, compress, decompress, isXerialSnappy, lz4OutputBound } from "../../../src/kafka/records/compression.js";

const sample = Buffer.from(Array.from({ length: 300_000 }, (_, i) => `record ${i % 977} says hello; `).join("").slice(0, 300_000));

function tool(command: string, args: string[], input: Buffer): Buffer {
  return execFileSync(command, args, { input, maxBuffer: 64 * 1024 * 1024 });
}

test("lz4: frames from the lz4 tool decode (independent and linked blocks, checksums), ours decode with it", () => {
  for (const flags of [["-c"], ["-c", "-BD"], ["-c", "-B4", "--content-size"], ["-c", "-B7", "--no-frame-crc"], ["-c", "-BX"]]) {
    const framed = tool("lz4", [...flags, "-"], sample);
    assert.ok(decompress(Compression.Lz4, framed).equals(sample), `lz4 ${flags.join(" ")}`);
    assert.ok(lz4OutputBound(framed) >= sample.length);
  }
  const ours = compress(Compression.Lz4, sample);
  assert.equal(ours[4] & 0x20, 0x20, "independent blocks: Kafka's Java reader decodes blocks one by one");
  assert.ok(tool("lz4", ["-d", "-c", "-"], ours).equals(sample));
});

test("zstd: streamed frames without a content size decode; ours decode with the zstd tool", () => {
  const streamed = tool("zstd", ["-c", "-q", "--no-check"], sample); // from a pipe: no content size in the header
  assert.ok(decompress(Compression.Zstd, streamed).equals(sample));
  assert.ok(decompress(Compression.Zstd, tool("zstd", ["-c", "-q", "-19"], sample)).equals(sample));
  assert.ok(tool("zstd", ["-d", "-c", "-q"], compress(Compression.Zstd, sample)).equals(sample));
});

test("gzip: the gzip tool and node's zlib agree both ways", () => {
  assert.ok(decompress(Compression.Gzip, tool("gzip", ["-c", "-9"], sample)).equals(sample));
  assert.ok(tool("gzip", ["-d", "-c"], compress(Compression.Gzip, sample)).equals(sample));
});

test("snappy: the xerial container has snappy-java's layout; raw blocks and multi-block streams decode", () => {
  const framed = compress(Compression.Snappy, sample);
  assert.ok(isXerialSnappy(framed));
  assert.equal(framed.subarray(0, 16).toString("hex"), "82534e41505059000000000100000001", "magic, version 1, compatible version 1");
  // Blocks of 32 KiB of input, each an int32 length and a raw snappy block.
  let offset = 16;
  let blocks = 0;
  while (offset < framed.length) {
    const length = framed.readInt32BE(offset);
    offset += 4 + length;
    blocks++;
  }
  assert.equal(offset, framed.length);
  assert.equal(blocks, Math.ceil(sample.length / 32768));
  assert.ok(decompress(Compression.Snappy, framed).equals(sample));
  // A stream built by hand from two raw blocks, as snappy-java would write them.
  const parts = [sample.subarray(0, 1000), sample.subarray(1000, 5000)].map((part) => snappyRaw(part));
  const handmade = Buffer.concat([framed.subarray(0, 16), ...parts.flatMap((block) => [Buffer.from([0, 0, block.length >> 8, block.length & 0xff]), block])]);
  assert.ok(decompress(Compression.Snappy, handmade).equals(sample.subarray(0, 5000)));
  // librdkafka writes raw snappy for produce: read without the container too.
  assert.ok(decompress(Compression.Snappy, snappyRaw(sample)).equals(sample));
});
