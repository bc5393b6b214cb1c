// Goal: our codecs agree byte for byte with a real client. Method: kafkajs 2.2.4 runs its admin,
// producer (every compression, acks 0/1/-1, idempotent, transactional) and consumer-group flows
// against a fake broker that answers with OUR encoders (test/helpers/kafkajs-capture.ts, real TCP
// on 127.0.0.1) and records each request frame. Every frame, live and from the committed capture
// (test/fixtures/kafkajs/captures.json, refreshed by `npm run capture:kafkajs`), must decode and
// re-encode to identical bytes; every record batch kafkajs produced must pass CRC and decode with
// the compression it was sent with. Planted corruptions show both checks can fail.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { encodeMessage, type MessageCodec } from "../../../src/kafka/protocol/codec.js";
import { KafkaDecodeError } from "../../../src/kafka/protocol/errors.js";
import { decodeRequest, isRequest } from "../../../src/kafka/protocol/request.js";
import { RequestHeaderCodec } from "../../../src/kafka/protocol/generated/request-header.js";
import { APIS, ApiKey } from "../../../src/kafka/protocol/generated/registry.js";
import { Compression } from "../../../src/kafka/records/compression.js";
import { RecordBatchError } from "../../../src/kafka/records/errors.js";
import { compressionOf, decodeRecordBatch, isTransactional, splitBatches, validateBatch } from "../../../src/kafka/records/record-batch.js";
import { repoRoot } from "../../helpers/process.js";
import { captureKafkajs, type Capture } from "../../helpers/kafkajs-capture.js";

const committed = JSON.parse(readFileSync(join(repoRoot, "test", "fixtures", "kafkajs", "captures.json"), "utf8")) as { kafkajs: string; captures: Capture[] };

/** The APIs the committed capture must cover (the list). */
const REQUIRED = ["ApiVersions", "Metadata", "Produce", "Fetch", "ListOffsets", "FindCoordinator", "JoinGroup", "SyncGroup", "Heartbeat", "LeaveGroup", "OffsetCommit", "OffsetFetch", "CreateTopics", "DeleteTopics", "DescribeConfigs", "InitProducerId"];

/** Decodes a request frame and encodes header and body again; returns the new bytes. */
function reencode(frame: Buffer): Buffer {
  const request = decodeRequest(frame);
  const api = APIS[request.apiKey];
  return Buffer.concat([encodeMessage(RequestHeaderCodec, request.headerVersion, request.header), encodeMessage(api.request as MessageCodec<unknown>, request.apiVersion, request.body)]);
}

function checkCaptures(captures: Capture[]): void {
  for (const capture of captures) {
    const frame = Buffer.from(capture.frame, "hex");
    const again = reencode(frame);
    assert.ok(again.equals(frame), `${capture.label} ${capture.apiName} v${capture.apiVersion}: re-encoded bytes differ`);
  }
}

const EXPECTED_CODEC: Record<string, Compression> = {
  "produce-none": Compression.None,
  "produce-gzip": Compression.Gzip,
  "produce-snappy": Compression.Snappy,
  "produce-lz4": Compression.Lz4,
  "produce-zstd": Compression.Zstd,
};

function checkProducedBatches(captures: Capture[]): number {
  let batches = 0;
  for (const capture of captures.filter((c) => c.apiKey === ApiKey.Produce)) {
    const request = decodeRequest(Buffer.from(capture.frame, "hex"));
    assert.ok(isRequest(request, ApiKey.Produce));
    const records = request.body.topicData[0].partitionData[0].records!;
    const { batches: slices, partialBytes } = splitBatches(records);
    assert.equal(partialBytes, 0);
    for (const slice of slices) {
      const header = validateBatch(slice, 0, { decompress: true });
      const batch = decodeRecordBatch(slice);
      batches++;
      if (capture.label in EXPECTED_CODEC) {
        assert.equal(compressionOf(header.attributes), EXPECTED_CODEC[capture.label], capture.label);
        assert.equal(batch.records.length, 2);
        assert.equal(batch.records[0].key?.toString(), "key-1");
        assert.match(batch.records[0].value!.toString(), /^value-1 compressed with /);
        assert.deepEqual(batch.records[0].headers.map((h) => [h.key, h.value?.toString()]), [["header-a", "1"]]);
        assert.equal(batch.records[1].key, null);
        assert.equal(batch.baseTimestamp, 1700000000000n);
        assert.equal(batch.records[1].timestampDelta, 1);
      }
      if (capture.label === "idempotent" || capture.label === "transaction") {
        assert.equal(batch.producerId, 4242n, "the producer id our InitProducerId handed out");
        assert.equal(batch.producerEpoch, 0);
        assert.equal(batch.baseSequence, 0);
        assert.equal(isTransactional(batch.attributes), capture.label === "transaction");
      }
    }
  }
  return batches;
}

test("committed kafkajs captures cover the client's APIs and re-encode byte-identically", () => {
  const apis = new Set(committed.captures.map((c) => c.apiName));
  for (const name of REQUIRED) assert.ok(apis.has(name), `the capture has no ${name} request`);
  checkCaptures(committed.captures);
  console.log(`${committed.captures.length} committed kafkajs ${committed.kafkajs} frames over ${apis.size} APIs re-encode identically`);
});

test("committed kafkajs record batches decode: every compression, idempotent and transactional", () => {
  const batches = checkProducedBatches(committed.captures);
  assert.ok(batches >= 9, `only ${batches} batches`);
});

test("live: kafkajs against a fake broker speaking our codecs; every request frame re-encodes identically", async () => {
  const live = await captureKafkajs();
  checkCaptures(live);
  checkProducedBatches(live);
  // The same steps must produce the same requests as the committed capture (else refresh it).
  const shape = (captures: Capture[]) => captures.map((c) => `${c.label} ${c.apiName} v${c.apiVersion}`).sort();
  assert.deepEqual(shape(live), shape(committed.captures));
});

test("the checks catch planted corruption: a bad length in a frame, a flipped bit in a batch", () => {
  const metadata = committed.captures.find((c) => c.apiName === "Metadata")!;
  const frame = Buffer.from(metadata.frame, "hex");
  // Byte 8 starts the client id's int16 length: make it claim more bytes than the frame holds.
  const broken = Buffer.from(frame);
  broken.writeInt16BE(0x7fff, 8);
  assert.throws(() => reencode(broken), KafkaDecodeError);

  const produce = committed.captures.find((c) => c.label === "produce-none" && c.apiKey === ApiKey.Produce)!;
  const request = decodeRequest(Buffer.from(produce.frame, "hex"));
  assert.ok(isRequest(request, ApiKey.Produce));
  const batch = Buffer.from(request.body.topicData[0].partitionData[0].records!);
  batch[batch.length - 3] ^= 0x01;
  assert.throws(() => validateBatch(batch), (error: unknown) => error instanceof RecordBatchError && error.code === "CRC_MISMATCH");
});
