// Bad input on the Kafka listener: every kind gets Kafka's error code or a closed connection,
// is logged once, and the node keeps serving other clients. Method: raw frames through our own
// codec (or plain garbage) on one connection, then a healthy request on a fresh one.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import { startTestCluster, type TestCluster } from "../../src/synod.js";
import { RawKafkaClient } from "./raw-client.js";
import { encodeRecordBatch } from "../../src/kafka/records/record-batch.js";
import { ErrorCode } from "../../src/kafka/protocol/generated/errors.js";
import type { ApiVersionsResponse } from "../../src/kafka/protocol/generated/api-versions-response.js";
import type { ProduceResponse } from "../../src/kafka/protocol/generated/produce-response.js";
import type { CreateTopicsResponse } from "../../src/kafka/protocol/generated/create-topics-response.js";
import type { MetadataResponse } from "../../src/kafka/protocol/generated/metadata-response.js";

let cluster: TestCluster;
const logLines: Array<Record<string, unknown>> = [];

before(async () => {
  const logger = pino({ level: "warn" }, { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
  cluster = await startTestCluster({ logger });
});

after(() => cluster.close());

async function stillServing(): Promise<void> {
  const client = await RawKafkaClient.connect(cluster.bootstrapServers);
  const body = await client.request<ApiVersionsResponse>(18, 2, {});
  assert.equal(body.errorCode, 0);
  client.close();
}

function frameOf(payload: Buffer): Buffer {
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(payload.length);
  return Buffer.concat([prefix, payload]);
}

function header(apiKey: number, apiVersion: number, correlationId = 7): Buffer {
  const b = Buffer.alloc(10);
  b.writeInt16BE(apiKey, 0);
  b.writeInt16BE(apiVersion, 2);
  b.writeInt32BE(correlationId, 4);
  b.writeInt16BE(-1, 8); // null client id
  return b;
}

async function expectClosed(bytes: Buffer, what: string): Promise<void> {
  const before = logLines.length;
  const client = await RawKafkaClient.connect(cluster.bootstrapServers);
  client.write(bytes);
  // Send a second bad frame on the same connection when it is still open: logged once only.
  client.write(bytes);
  assert.equal(await client.nextFrame(), undefined, `${what}: connection closed without a response`);
  const logged = logLines.slice(before).filter((l) => (l.level as number) >= 40);
  assert.equal(logged.length, 1, `${what}: logged once (${JSON.stringify(logged.map((l) => l.msg))})`);
  await stillServing();
}

const batch = (magic = 2) => {
  const b = encodeRecordBatch({ baseTimestamp: 1_700_000_000_000n, records: [{ attributes: 0, timestampDelta: 0, offsetDelta: 0, key: null, value: Buffer.from("v"), headers: [] }] });
  if (magic !== 2) b.writeInt8(magic, 16);
  return b;
};

function produceBody(topic: string, records: Buffer) {
  return { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] };
}

test("an unknown API key closes the connection", () => expectClosed(frameOf(header(999, 0)), "unknown api key"));

test("an unsupported version closes the connection (Produce v2 and v42)", async () => {
  await expectClosed(frameOf(header(0, 2)), "produce v2");
  await expectClosed(frameOf(header(0, 42)), "produce v42");
});

test("ApiVersions at an unknown version answers UNSUPPORTED_VERSION with a v0 body (KIP-511)", async () => {
  const client = await RawKafkaClient.connect(cluster.bootstrapServers);
  client.write(frameOf(header(18, 9, 55)));
  const frame = await client.nextFrame();
  assert.ok(frame);
  assert.equal(frame.readInt32BE(0), 55);
  assert.equal(frame.readInt16BE(4), ErrorCode.UNSUPPORTED_VERSION);
  assert.ok(frame.readInt32BE(6) > 10, "the ranges are listed");
  client.close();
});

test("truncated and malformed frames close the connection", async () => {
  await expectClosed(frameOf(Buffer.from([0, 3])), "shorter than a header");
  await expectClosed(frameOf(Buffer.concat([header(3, 1), Buffer.from([0, 0, 0, 5, 0, 1])])), "metadata body cut short");
  await expectClosed(frameOf(Buffer.concat([header(3, 1), Buffer.from([0, 0, 0, 0, 9, 9, 9])])), "trailing bytes");
});

test("an oversized or negative frame size closes the connection before anything is allocated", async () => {
  await expectClosed(Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 3]), "2 GiB frame");
  await expectClosed(Buffer.from([0xff, 0xff, 0xff, 0xf0]), "negative size");
});

test("invalid topic names get INVALID_TOPIC_EXCEPTION in CreateTopics, Metadata and Produce", async () => {
  const client = await RawKafkaClient.connect(cluster.bootstrapServers);
  for (const name of ["bad name", "..", "x".repeat(250), "tópico"]) {
    const created = await client.request<CreateTopicsResponse>(19, 3, { topics: [{ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: false });
    assert.equal(created.topics[0].errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION, name);
    const metadata = await client.request<MetadataResponse>(3, 5, { topics: [{ name }], allowAutoTopicCreation: true });
    assert.equal(metadata.topics[0].errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION, name);
    const produced = await client.request<ProduceResponse>(0, 7, produceBody(name, batch()));
    assert.equal(produced.responses[0].partitionResponses[0].errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION, name);
  }
  client.close();
});

test("a corrupt batch CRC gets CORRUPT_MESSAGE and an old magic gets INVALID_RECORD; nothing is appended", async () => {
  const client = await RawKafkaClient.connect(cluster.bootstrapServers);
  const good = await client.request<ProduceResponse>(0, 7, produceBody("crc-check", batch()));
  assert.equal(good.responses[0].partitionResponses[0].errorCode, ErrorCode.NONE);
  const corrupt = batch();
  corrupt[corrupt.length - 1] ^= 0xff;
  const bad = await client.request<ProduceResponse>(0, 7, produceBody("crc-check", corrupt));
  assert.equal(bad.responses[0].partitionResponses[0].errorCode, ErrorCode.CORRUPT_MESSAGE);
  const old = await client.request<ProduceResponse>(0, 7, produceBody("crc-check", batch(1)));
  assert.equal(old.responses[0].partitionResponses[0].errorCode, ErrorCode.INVALID_RECORD);
  const truncated = await client.request<ProduceResponse>(0, 7, produceBody("crc-check", batch().subarray(0, 40)));
  assert.equal(truncated.responses[0].partitionResponses[0].errorCode, ErrorCode.CORRUPT_MESSAGE);
  const next = await client.request<ProduceResponse>(0, 7, produceBody("crc-check", batch()));
  assert.equal(next.responses[0].partitionResponses[0].baseOffset, 1n, "only the two good batches were appended");
  client.close();
  await stillServing();
});

test("a retried idempotent batch is answered with its original offset and stored once", async () => {
  const client = await RawKafkaClient.connect(cluster.bootstrapServers);
  const init = await client.request<{ errorCode: number; producerId: bigint; producerEpoch: number }>(22, 1, { transactionalId: null, transactionTimeoutMs: 60000 });
  assert.equal(init.errorCode, 0);
  const idempotent = (sequence: number) =>
    encodeRecordBatch({
      baseTimestamp: 1_700_000_000_000n,
      producerId: init.producerId,
      producerEpoch: init.producerEpoch,
      baseSequence: sequence,
      records: [{ attributes: 0, timestampDelta: 0, offsetDelta: 0, key: null, value: Buffer.from(`s${sequence}`), headers: [] }],
    });
  const first = await client.request<ProduceResponse>(0, 7, produceBody("idem-raw", idempotent(0)));
  const retry = await client.request<ProduceResponse>(0, 7, produceBody("idem-raw", idempotent(0)));
  const second = await client.request<ProduceResponse>(0, 7, produceBody("idem-raw", idempotent(1)));
  const gap = await client.request<ProduceResponse>(0, 7, produceBody("idem-raw", idempotent(5)));
  assert.equal(first.responses[0].partitionResponses[0].baseOffset, 0n);
  assert.deepEqual([retry.responses[0].partitionResponses[0].errorCode, retry.responses[0].partitionResponses[0].baseOffset], [0, 0n]);
  assert.equal(second.responses[0].partitionResponses[0].baseOffset, 1n);
  assert.equal(gap.responses[0].partitionResponses[0].errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  client.close();
});
