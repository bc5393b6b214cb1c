// Goal: our codecs interoperate with librdkafka, the C client behind kcat, confluent-kafka and
// most non-Java clients — including the parts kafkajs never exercises: ApiVersions v3 (a flexible
// request header whose ClientId stays an int16 string, answered with a v0 response header) and
// librdkafka's own compression framing. Method: kcat (Debian's, librdkafka 2.x) produces with each
// compression to the fake broker of test/helpers/kafkajs-capture.ts (answers built by our
// encoders, real TCP); every request frame must re-encode byte-identically and every batch must
// pass its CRC and decode to the lines kcat was given. Then kcat consumes: our Fetch response
// and record batch must be readable by librdkafka.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { encodeMessage, type MessageCodec } from "../../src/kafka/protocol/codec.js";
import { decodeRequest, isRequest } from "../../src/kafka/protocol/request.js";
import { RequestHeaderCodec } from "../../src/kafka/protocol/generated/request-header.js";
import { APIS, ApiKey } from "../../src/kafka/protocol/generated/registry.js";
import { Compression } from "../../src/kafka/records/compression.js";
import { compressionOf, decodeRecordBatch, encodeRecordBatch, splitBatches, validateBatch } from "../../src/kafka/records/record-batch.js";
import { CAPTURE_TOPIC, FakeBroker } from "../helpers/kafkajs-capture.js";

const run = promisify(execFile);

async function kcat(args: string[], input?: string): Promise<string> {
  const child = run("kcat", args, { timeout: 20_000 });
  if (input !== undefined) {
    child.child.stdin!.end(input);
  }
  return (await child).stdout;
}

test("kcat (librdkafka) produces with every compression through our codecs", async () => {
  const broker = new FakeBroker();
  await broker.start();
  try {
    const codecs: Array<[string, Compression]> = [["none", Compression.None], ["gzip", Compression.Gzip], ["snappy", Compression.Snappy], ["lz4", Compression.Lz4], ["zstd", Compression.Zstd]];
    for (const [name, codec] of codecs) {
      broker.label = `kcat-${name}`;
      broker.producedRecords = null;
      const lines = [`first line via ${name} `.repeat(20), "second", "third"];
      await kcat(["-P", "-b", `127.0.0.1:${broker.port}`, "-t", CAPTURE_TOPIC, "-z", name, "-X", "linger.ms=50"], lines.join("\n") + "\n");
      assert.ok(broker.producedRecords, `kcat -z ${name} produced nothing`);
      const { batches } = splitBatches(broker.producedRecords);
      const values = batches.flatMap((batch) => {
        validateBatch(batch, 0, { decompress: true });
        assert.equal(compressionOf(decodeRecordBatch(batch).attributes), codec, name);
        return decodeRecordBatch(batch).records.map((record) => record.value!.toString());
      });
      assert.deepEqual(values, lines, name);
    }
    assert.deepEqual(broker.errors, []);
    // Every frame librdkafka sent re-encodes byte-identically; ApiVersions went out as flexible v3.
    for (const capture of broker.captures) {
      const frame = Buffer.from(capture.frame, "hex");
      const request = decodeRequest(frame);
      const again = Buffer.concat([encodeMessage(RequestHeaderCodec, request.headerVersion, request.header), encodeMessage(APIS[request.apiKey].request as MessageCodec<unknown>, request.apiVersion, request.body)]);
      assert.ok(again.equals(frame), `${capture.label} ${capture.apiName} v${capture.apiVersion}`);
    }
    const apiVersions = broker.captures.find((c) => c.apiKey === ApiKey.ApiVersions)!;
    assert.ok(apiVersions.apiVersion >= 3, `librdkafka asked ApiVersions v${apiVersions.apiVersion}`);
    const decoded = decodeRequest(Buffer.from(apiVersions.frame, "hex"));
    assert.equal(decoded.headerVersion, 2);
    assert.ok(isRequest(decoded, ApiKey.ApiVersions) && decoded.body.clientSoftwareName === "librdkafka");
    console.log(`librdkafka frames: ${[...new Set(broker.captures.map((c) => `${c.apiName} v${c.apiVersion}`))].join(", ")}`);
  } finally {
    await broker.stop();
  }
});

test("kcat (librdkafka) consumes a batch our Fetch encoder sends", async () => {
  const broker = new FakeBroker();
  await broker.start();
  try {
    broker.label = "kcat-consume";
    broker.producedRecords = encodeRecordBatch({
      baseTimestamp: 1_700_000_000_000n,
      compression: Compression.Lz4,
      records: ["alpha", "beta", "gamma"].map((value, i) => ({ attributes: 0, timestampDelta: i, offsetDelta: i, key: Buffer.from(`k${i}`), value: Buffer.from(value), headers: [{ key: "h", value: Buffer.from(String(i)) }] })),
    });
    broker.highWatermark = 3n;
    const out = await kcat(["-C", "-b", `127.0.0.1:${broker.port}`, "-t", CAPTURE_TOPIC, "-p", "0", "-o", "beginning", "-c", "3", "-e", "-f", "%k=%s\\n"]);
    assert.deepEqual(out.trim().split("\n"), ["k0=alpha", "k1=beta", "k2=gamma"]);
    assert.deepEqual(broker.errors, []);
    assert.ok(broker.captures.some((c) => c.apiKey === ApiKey.Fetch));
  } finally {
    await broker.stop();
  }
});
