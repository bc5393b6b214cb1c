// A tiny fake Kafka broker on 127.0.0.1 that answers kafkajs with responses built by OUR encoders,
// just enough for kafkajs to walk through its producer, consumer-group, transaction and admin
// flows, while recording every request frame kafkajs sends. The frames are the golden vectors of
// test/kafka/protocol/kafkajs-golden.test.ts; `npm run capture:kafkajs` refreshes the committed
// copy in test/fixtures/kafkajs/. This is a test double for the BROKER side only: the client is the
// real kafkajs, talking real TCP.
import { createServer, type AddressInfo, type Socket } from "node:net";
import kafkajs from "kafkajs";
import { FrameReader } from "../../src/kafka/protocol/frame-reader.js";
import { decodeRequest, encodeResponse, isRequest, type DecodedRequest } from "../../src/kafka/protocol/request.js";
import { APIS, ApiKey } from "../../src/kafka/protocol/generated/registry.js";
import { compress, decompress, Compression } from "../../src/kafka/records/compression.js";
import { encodeRecordBatch } from "../../src/kafka/records/record-batch.js";
import { defaultMessage, schemaByName } from "./kafka-schema-values.js";

export interface Capture {
  /** What kafkajs was doing, e.g. "produce-gzip" or "consumer". */
  label: string;
  apiKey: number;
  apiName: string;
  apiVersion: number;
  /** The request frame without its 4-byte size prefix, as hex. */
  frame: string;
}

// kafkajs is CommonJS; its named exports are reached through the default export.
const { Kafka, CompressionTypes, CompressionCodecs, logLevel } = kafkajs;
type CompressionTypes = kafkajs.CompressionTypes;

export const CAPTURE_TOPIC = "golden";

/** kafkajs resolves compression codecs through this registry; we plug in our own implementations. */
export function registerCodecs(): void {
  const codec = (type: Compression) => () => ({
    async compress(encoder: { buffer: Buffer }) {
      return compress(type, encoder.buffer);
    },
    async decompress(buffer: Buffer) {
      return decompress(type, buffer);
    },
  });
  const codecs = CompressionCodecs as unknown as Record<number, unknown>;
  codecs[CompressionTypes.Snappy] = codec(Compression.Snappy);
  codecs[CompressionTypes.LZ4] = codec(Compression.Lz4);
  codecs[CompressionTypes.ZSTD] = codec(Compression.Zstd);
}

function responseBase(apiKey: number): Record<string, unknown> {
  return defaultMessage(schemaByName(`${APIS[apiKey].name}Response`));
}

export class FakeBroker {
  readonly captures: Capture[] = [];
  label = "connect";
  port = 0;
  private readonly seen = new Set<string>();
  private readonly sockets = new Set<Socket>();
  private readonly server = createServer((socket) => this.accept(socket));
  /** The last batch produced to the topic, served back to the consumer at offset 0. */
  producedRecords: Buffer | null = null;
  counts = new Map<number, number>();
  /** The high watermark Fetch and ListOffsets report. */
  highWatermark = 1n;
  readonly errors: Error[] = [];

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    const frames = new FrameReader({ maxFrameBytes: 16 * 1024 * 1024 });
    socket.on("data", (chunk: Buffer) => {
      try {
        for (const frame of frames.push(chunk)) {
          const request = decodeRequest(frame);
          this.record(request, frame);
          const body = this.respond(request);
          if (body !== undefined) socket.write(encodeResponse(request.apiKey, request.apiVersion, request.correlationId, body));
        }
      } catch (error) {
        // Surfaced by captureKafkajs: a decode or encode failure here is a codec bug.
        this.errors.push(error as Error);
        socket.destroy();
      }
    });
  }

  private record(request: DecodedRequest, frame: Buffer): void {
    this.counts.set(request.apiKey, (this.counts.get(request.apiKey) ?? 0) + 1);
    const key = `${this.label}/${request.apiKey}/${request.apiVersion}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.captures.push({ label: this.label, apiKey: request.apiKey, apiName: APIS[request.apiKey].name, apiVersion: request.apiVersion, frame: frame.toString("hex") });
  }

  private partition(name: string) {
    return { errorCode: 0, name, isInternal: false, partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 0, leaderEpoch: 0, replicaNodes: [0], isrNodes: [0], offlineReplicas: [] }] };
  }

  /** The response body for a request, or undefined for none (acks=0 produce). */
  private respond(request: DecodedRequest): unknown {
    const base = responseBase(request.apiKey);
    const broker = { nodeId: 0, host: "127.0.0.1", port: this.port };
    if (isRequest(request, ApiKey.ApiVersions)) {
      return { ...base, apiKeys: APIS.map((api) => ({ apiKey: api.apiKey, minVersion: api.lowestVersion, maxVersion: api.highestVersion })) };
    }
    if (isRequest(request, ApiKey.Metadata)) {
      const names = request.body.topics === null || request.body.topics.length === 0 ? [CAPTURE_TOPIC] : request.body.topics.map((t) => t.name ?? CAPTURE_TOPIC);
      return { ...base, brokers: [{ ...broker, rack: null }], clusterId: "synod-capture", controllerId: 0, topics: names.map((name) => this.partition(name)) };
    }
    if (isRequest(request, ApiKey.Produce)) {
      const partition = request.body.topicData[0]?.partitionData[0];
      if (partition?.records) this.producedRecords = Buffer.from(partition.records);
      if (request.body.acks === 0) return undefined;
      return {
        ...base,
        responses: request.body.topicData.map((t) => ({ name: t.name, partitionResponses: t.partitionData.map((p) => ({ index: p.index, errorCode: 0, baseOffset: 0n, logAppendTimeMs: -1n, logStartOffset: 0n })) })),
      };
    }
    if (isRequest(request, ApiKey.Fetch)) {
      return {
        ...base,
        responses: request.body.topics.map((t) => ({
          topic: t.topic,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partition,
            errorCode: 0,
            highWatermark: this.highWatermark,
            lastStableOffset: this.highWatermark,
            logStartOffset: 0n,
            abortedTransactions: [],
            preferredReadReplica: -1,
            records: p.fetchOffset === 0n ? this.fetchRecords() : Buffer.alloc(0),
          })),
        })),
      };
    }
    if (isRequest(request, ApiKey.ListOffsets)) {
      return { ...base, topics: request.body.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: 0, timestamp: -1n, offset: p.timestamp === -1n ? this.highWatermark : 0n, oldStyleOffsets: request.apiVersion === 0 ? [0n] : [] })) })) };
    }
    if (isRequest(request, ApiKey.FindCoordinator)) return { ...base, errorCode: 0, ...broker };
    if (isRequest(request, ApiKey.JoinGroup)) {
      const protocol = request.body.protocols[0];
      const memberId = "member-1";
      return { ...base, generationId: 1, protocolName: protocol.name, leader: memberId, memberId, members: [{ memberId, groupInstanceId: null, metadata: protocol.metadata }] };
    }
    if (isRequest(request, ApiKey.SyncGroup)) {
      const mine = request.body.assignments.find((a) => a.memberId === request.body.memberId);
      return { ...base, assignment: mine?.assignment ?? Buffer.alloc(0) };
    }
    if (isRequest(request, ApiKey.OffsetFetch)) {
      return { ...base, topics: (request.body.topics ?? []).map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1n, metadata: "", errorCode: 0 })) })) };
    }
    if (isRequest(request, ApiKey.OffsetCommit)) {
      return { ...base, topics: request.body.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: 0 })) })) };
    }
    if (isRequest(request, ApiKey.TxnOffsetCommit)) {
      return { ...base, topics: request.body.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: 0 })) })) };
    }
    if (isRequest(request, ApiKey.CreateTopics)) return { ...base, topics: request.body.topics.map((t) => ({ name: t.name, errorCode: 0, errorMessage: null })) };
    if (isRequest(request, ApiKey.DeleteTopics)) return { ...base, responses: (request.body.topicNames ?? []).map((name) => ({ name, errorCode: 0 })) };
    if (isRequest(request, ApiKey.DescribeConfigs)) {
      return {
        ...base,
        results: request.body.resources.map((r) => ({
          errorCode: 0,
          errorMessage: null,
          resourceType: r.resourceType,
          resourceName: r.resourceName,
          configs: [{ name: "retention.ms", value: "604800000", readOnly: false, configSource: 5, isSensitive: false, synonyms: [] }],
        })),
      };
    }
    if (isRequest(request, ApiKey.InitProducerId)) return { ...base, errorCode: 0, producerId: 4242n, producerEpoch: 0 };
    if (isRequest(request, ApiKey.AddPartitionsToTxn)) {
      return { ...base, resultsByTopicV3AndBelow: request.body.v3AndBelowTopics?.map((t) => ({ name: t.name, resultsByPartition: t.partitions.map((partitionIndex) => ({ partitionIndex, partitionErrorCode: 0 })) })) };
    }
    if (isRequest(request, ApiKey.CreatePartitions)) return { ...base, results: request.body.topics.map((t) => ({ name: t.name, errorCode: 0, errorMessage: null })) };
    if (isRequest(request, ApiKey.DeleteGroups)) return { ...base, results: request.body.groupsNames.map((groupId) => ({ groupId, errorCode: 0 })) };
    if (isRequest(request, ApiKey.DescribeGroups)) {
      return { ...base, groups: request.body.groups.map((groupId) => ({ errorCode: 0, groupId, groupState: "Empty", protocolType: "consumer", protocolData: "", members: [] })) };
    }
    // Everything else (Heartbeat, LeaveGroup, EndTxn, AddOffsetsToTxn, ListGroups, ...): error 0, defaults.
    return base;
  }

  private fetchRecords(): Buffer {
    if (this.producedRecords) return this.producedRecords;
    return encodeRecordBatch({ baseTimestamp: 1_700_000_000_000n, records: [{ attributes: 0, timestampDelta: 0, offsetDelta: 0, key: Buffer.from("k"), value: Buffer.from("v"), headers: [] }] });
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs kafkajs through admin, producer (every compression, acks 0/1/-1, idempotent,
 * transactional) and a consumer group against the fake broker; returns the captured frames.
 */
export async function captureKafkajs(stepTimeoutMs = 15_000): Promise<Capture[]> {
  registerCodecs();
  const broker = new FakeBroker();
  await broker.start();
  const kafka = new Kafka({ clientId: "synod-golden", brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 50 } });
  const step = async (label: string, run: () => Promise<unknown>) => {
    broker.label = label;
    try {
      await withTimeout(Promise.resolve().then(run), stepTimeoutMs, label);
    } catch (error) {
      const brokerErrors = broker.errors.map((e) => e.message).join("; ");
      throw new Error(`kafkajs step ${label} failed: ${(error as Error).message}${brokerErrors ? ` (broker: ${brokerErrors})` : ""}`, { cause: error });
    }
  };
  try {
    const admin = kafka.admin();
    await step("admin", async () => {
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: CAPTURE_TOPIC, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: false });
      await admin.fetchTopicMetadata({ topics: [CAPTURE_TOPIC] });
      await admin.fetchTopicOffsets(CAPTURE_TOPIC);
      await admin.describeConfigs({ resources: [{ type: 2, name: CAPTURE_TOPIC }], includeSynonyms: false });
      await admin.createPartitions({ topicPartitions: [{ topic: CAPTURE_TOPIC, count: 2 }] });
      await admin.describeGroups(["golden-group"]);
      await admin.listGroups();
      await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: CAPTURE_TOPIC, configEntries: [{ name: "retention.ms", value: "1000" }] }] });
      await admin.deleteGroups(["old-group"]);
      await admin.deleteTopics({ topics: ["old-topic"] });
      await admin.disconnect();
    });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await step("connect", () => producer.connect());
    const compressions: Array<[string, CompressionTypes]> = [
      ["none", CompressionTypes.None],
      ["gzip", CompressionTypes.GZIP],
      ["snappy", CompressionTypes.Snappy],
      ["lz4", CompressionTypes.LZ4],
      ["zstd", CompressionTypes.ZSTD],
    ];
    for (const [name, compression] of compressions) {
      await step(`produce-${name}`, () =>
        producer.send({
          topic: CAPTURE_TOPIC,
          compression,
          acks: -1,
          messages: [
            { key: "key-1", value: `value-1 compressed with ${name} `.repeat(4), headers: { "header-a": "1" }, timestamp: "1700000000000" },
            { key: null, value: "value-2", timestamp: "1700000000001" },
          ],
        }),
      );
    }
    await step("produce-acks-0", async () => {
      // kafkajs resolves an acks=0 send without waiting: wait for the frame to arrive before moving on.
      const before = broker.counts.get(ApiKey.Produce) ?? 0;
      await producer.send({ topic: CAPTURE_TOPIC, acks: 0, messages: [{ value: "fire and forget", timestamp: "1700000000002" }] });
      while ((broker.counts.get(ApiKey.Produce) ?? 0) <= before) await new Promise((resolve) => setTimeout(resolve, 10));
    });
    await step("produce-acks-1", () => producer.send({ topic: CAPTURE_TOPIC, acks: 1, messages: [{ value: "leader only", timestamp: "1700000000003" }] }));
    await producer.disconnect();

    const idempotent = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await step("idempotent", async () => {
      await idempotent.connect();
      await idempotent.send({ topic: CAPTURE_TOPIC, messages: [{ key: "k", value: "exactly once", timestamp: "1700000000004" }] });
      await idempotent.disconnect();
    });

    const transactional = kafka.producer({ transactionalId: "golden-txn", idempotent: true, maxInFlightRequests: 1 });
    await step("transaction", async () => {
      await transactional.connect();
      const transaction = await transactional.transaction();
      await transaction.send({ topic: CAPTURE_TOPIC, messages: [{ value: "in a transaction", timestamp: "1700000000005" }] });
      await transaction.sendOffsets({ consumerGroupId: "golden-group", topics: [{ topic: CAPTURE_TOPIC, partitions: [{ partition: 0, offset: "1" }] }] });
      await transaction.commit();
      await transactional.disconnect();
    });

    const consumer = kafka.consumer({ groupId: "golden-group", heartbeatInterval: 100, sessionTimeout: 6000, maxWaitTimeInMs: 50 });
    await step("consumer", async () => {
      await consumer.connect();
      await consumer.subscribe({ topics: [CAPTURE_TOPIC], fromBeginning: true });
      let received = 0;
      await consumer.run({
        autoCommit: true,
        eachMessage: async () => {
          received++;
        },
      });
      // Wait until the message arrived, offsets were committed and a heartbeat went out.
      while (received === 0 || !broker.counts.get(ApiKey.OffsetCommit) || !broker.counts.get(ApiKey.Heartbeat)) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await consumer.disconnect(); // LeaveGroup
    });
  } finally {
    await broker.stop();
  }
  if (broker.errors.length > 0) throw new Error(`the fake broker failed: ${broker.errors.map((e) => e.message).join("; ")}`);
  return broker.captures;
}
