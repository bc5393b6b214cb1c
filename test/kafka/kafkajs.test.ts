// Integration with kafkajs 2.2.4 (a real client, unchanged) against a real synod node started
// in-process on a free port with real storage and fsync. Method: each test drives the client the
// way an application would and checks what comes back — records, offsets, group behaviour —
// and, where exactly-once matters, counts every record with the log checker.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import kafkajs from "kafkajs";
import { startTestCluster, type TestCluster } from "../../src/synod.js";
import { Compression, compress, decompress } from "../../src/kafka/records/compression.js";

const { Kafka, CompressionTypes, CompressionCodecs, logLevel } = kafkajs;

// kafkajs ships gzip only; the other codecs are registered the way applications do, backed by
// the same well-kept libraries the broker uses.
for (const [type, codec] of [
  [CompressionTypes.Snappy, Compression.Snappy],
  [CompressionTypes.LZ4, Compression.Lz4],
  [CompressionTypes.ZSTD, Compression.Zstd],
] as const) {
  CompressionCodecs[type] = () => ({
    compress: async (encoder: { buffer: Buffer }) => compress(codec, encoder.buffer),
    decompress: async (buffer: Buffer) => decompress(codec, buffer),
  });
}

let cluster: TestCluster;
let dataDir: string;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "synod-kafkajs-"));
  cluster = await startTestCluster({ dataDir });
});

after(async () => {
  await cluster?.close();
  await rm(dataDir, { recursive: true, force: true });
});

function client(clientId = "test") {
  return new Kafka({ clientId, brokers: [cluster.bootstrapServers], logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 50 } });
}

async function consumeAll(topic: string, count: number, groupId: string, timeoutMs = 20_000) {
  const consumer = client().consumer({ groupId, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const messages: Array<{ partition: number; offset: string; key: string | null; value: string | null; headers: Record<string, string>; timestamp: string }> = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`consumed ${messages.length} of ${count}`)), timeoutMs);
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        messages.push({ partition, offset: message.offset, key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, headers, timestamp: message.timestamp });
        if (messages.length >= count) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return messages;
}

test("produce and consume with keys, headers and every compression codec", async () => {
  const admin = client().admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: "codecs", numPartitions: 3 }] });
  const producer = client().producer();
  await producer.connect();
  const codecs = [CompressionTypes.None, CompressionTypes.GZIP, CompressionTypes.Snappy, CompressionTypes.LZ4, CompressionTypes.ZSTD];
  let sent = 0;
  for (const compression of codecs) {
    const messages = Array.from({ length: 50 }, (_, i) => ({ key: `key-${compression}-${i}`, value: `value-${compression}-${i}-${"x".repeat(i * 10)}`, headers: { codec: String(compression), i: String(i) } }));
    await producer.send({ topic: "codecs", compression, messages });
    sent += messages.length;
  }
  await producer.disconnect();
  const got = await consumeAll("codecs", sent, "codecs-reader");
  assert.equal(got.length, sent);
  const byKey = new Map(got.map((m) => [m.key, m]));
  for (const compression of codecs) {
    for (let i = 0; i < 50; i++) {
      const m = byKey.get(`key-${compression}-${i}`);
      assert.ok(m, `missing key-${compression}-${i}`);
      assert.equal(m.value, `value-${compression}-${i}-${"x".repeat(i * 10)}`);
      assert.deepEqual(m.headers, { codec: String(compression), i: String(i) });
    }
  }
  // Offsets are dense per partition.
  for (const partition of [0, 1, 2]) {
    const offsets = got.filter((m) => m.partition === partition).map((m) => Number(m.offset)).sort((a, b) => a - b);
    assert.deepEqual(offsets, offsets.map((_, i) => i));
  }
  await admin.disconnect();
});

test("acks 0, 1 and -1 all land (acks=0 gets no response)", async () => {
  const producer = client().producer({ allowAutoTopicCreation: true });
  await producer.connect();
  for (const acks of [-1, 1, 0]) {
    const result = await producer.send({ topic: "acks", acks, messages: [{ value: `acks=${acks}` }] });
    if (acks !== 0) assert.equal(result[0].errorCode, 0);
  }
  await producer.disconnect();
  const got = await consumeAll("acks", 3, "acks-reader");
  assert.deepEqual(got.map((m) => m.value).sort(), ["acks=-1", "acks=0", "acks=1"]);
});

test("an idempotent producer's records land exactly once and in order", async () => {
  const producer = client("idem").producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const total = 300;
  for (let i = 0; i < total; i += 10) {
    await producer.send({ topic: "idempotent", messages: Array.from({ length: 10 }, (_, j) => ({ key: "same-partition", value: String(i + j) })) });
  }
  await producer.disconnect();
  const got = await consumeAll("idempotent", total, "idem-reader");
  assert.deepEqual(got.map((m) => Number(m.value)), Array.from({ length: total }, (_, i) => i));
});

test("admin: create, describe and alter configs, add partitions, delete topics", async () => {
  const admin = client().admin();
  await admin.connect();
  assert.equal(await admin.createTopics({ topics: [{ topic: "admin-a", numPartitions: 2, configEntries: [{ name: "retention.ms", value: "3600000" }] }] }), true);
  await assert.rejects(admin.createTopics({ topics: [{ topic: "bad name!", numPartitions: 1 }] }));
  assert.equal(await admin.createTopics({ topics: [{ topic: "admin-a", numPartitions: 1 }] }), false, "already exists");
  const described = await admin.describeConfigs({ resources: [{ type: 2, name: "admin-a" }], includeSynonyms: false });
  const entries = new Map(described.resources[0].configEntries.map((e) => [e.configName, e]));
  assert.equal(entries.get("retention.ms")?.configValue, "3600000");
  assert.equal(entries.get("retention.ms")?.isDefault, false);
  assert.equal(entries.get("cleanup.policy")?.configValue, "delete");
  assert.equal(entries.get("cleanup.policy")?.isDefault, true);
  assert.ok(entries.size >= 20, `DescribeConfigs returns every topic config (${entries.size})`);
  await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: "admin-a", configEntries: [{ name: "max.message.bytes", value: "2000000" }] }] });
  const after = await admin.describeConfigs({ resources: [{ type: 2, name: "admin-a", configNames: ["max.message.bytes", "retention.ms"] }], includeSynonyms: false });
  const afterEntries = new Map(after.resources[0].configEntries.map((e) => [e.configName, e.configValue]));
  assert.equal(afterEntries.get("max.message.bytes"), "2000000");
  assert.equal(afterEntries.get("retention.ms"), "604800000", "AlterConfigs replaces the whole override set");
  await admin.createPartitions({ topicPartitions: [{ topic: "admin-a", count: 4 }] });
  const metadata = await admin.fetchTopicMetadata({ topics: ["admin-a"] });
  assert.equal(metadata.topics[0].partitions.length, 4);
  assert.ok((await admin.listTopics()).includes("admin-a"));
  await admin.deleteTopics({ topics: ["admin-a"] });
  assert.ok(!(await admin.listTopics()).includes("admin-a"));
  await admin.disconnect();
});

test("ListOffsets: earliest, latest and by timestamp", async () => {
  const admin = client().admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: "by-time", numPartitions: 1 }] });
  const producer = client().producer();
  await producer.connect();
  const base = 1_700_000_000_000;
  for (let i = 0; i < 10; i++) await producer.send({ topic: "by-time", messages: [{ value: String(i), timestamp: String(base + i * 1000) }] });
  await producer.disconnect();
  const offsets = await admin.fetchTopicOffsets("by-time");
  assert.deepEqual(offsets.map((o) => [o.low, o.high]), [["0", "10"]]);
  assert.deepEqual(await admin.fetchTopicOffsetsByTimestamp("by-time", base + 4500), [{ partition: 0, offset: "5" }]);
  assert.deepEqual(await admin.fetchTopicOffsetsByTimestamp("by-time", base), [{ partition: 0, offset: "0" }]);
  assert.deepEqual(await admin.fetchTopicOffsetsByTimestamp("by-time", base + 60_000), [{ partition: 0, offset: "10" }], "after the last record: the end");
  await admin.disconnect();
});

test("a consumer group of 3 rebalances as members join and leave: nothing lost, nothing re-read after a commit", async () => {
  const topic = "group-rebalance";
  const admin = client().admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 6 }] });
  const producer = client().producer();
  await producer.connect();
  let produced = 0;
  const produceSome = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i += 20) {
      await producer.send({ topic, messages: Array.from({ length: 20 }, (_, j) => ({ key: String(produced + i + j), value: String(produced + i + j) })) });
    }
    produced += n;
  };
  await produceSome(200);

  const consumed: Array<{ member: string; partition: number; offset: number; value: string }> = [];
  const committed = new Set<string>();
  const violations: string[] = [];
  const members = new Map<string, ReturnType<ReturnType<typeof client>["consumer"]>>();
  const startMember = async (name: string) => {
    const consumer = client(name).consumer({ groupId: "rebalancers", sessionTimeout: 6000, heartbeatInterval: 300, rebalanceTimeout: 10_000, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const key = `${partition}@${message.offset}`;
        if (committed.has(key)) violations.push(`${name} re-read committed ${key}`);
        consumed.push({ member: name, partition, offset: Number(message.offset), value: message.value!.toString() });
        try {
          await consumer.commitOffsets([{ topic, partition, offset: String(Number(message.offset) + 1) }]);
          committed.add(key);
        } catch {
          // A commit refused during a rebalance: the record may be delivered again, legitimately.
        }
      },
    });
    members.set(name, consumer);
  };
  const waitConsumed = async (n: number) => {
    const deadline = Date.now() + 30_000;
    while (new Set(consumed.map((c) => c.value)).size < n) {
      if (Date.now() > deadline) throw new Error(`consumed ${new Set(consumed.map((c) => c.value)).size} of ${n}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  await startMember("a");
  await waitConsumed(100);
  await startMember("b");
  await produceSome(200);
  await startMember("c");
  await produceSome(200);
  await waitConsumed(500);
  await members.get("b")!.disconnect();
  members.delete("b");
  await produceSome(200);
  await waitConsumed(produced);
  for (const consumer of members.values()) await consumer.disconnect();
  await producer.disconnect();

  const values = new Set(consumed.map((c) => c.value));
  assert.equal(values.size, produced, "every produced record was consumed");
  assert.deepEqual(violations, [], "no record was delivered again after its offset was committed");
  const byMember = new Set(consumed.map((c) => c.member));
  assert.deepEqual([...byMember].sort(), ["a", "b", "c"], "all three members took part");
  const description = await admin.describeGroups(["rebalancers"]);
  assert.equal(description.groups[0].state, "Empty");
  await admin.disconnect();
});

test("committed offsets and records survive a broker restart", async () => {
  const admin = client().admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: "durable", numPartitions: 2 }] });
  const producer = client().producer({ idempotent: true });
  await producer.connect();
  await producer.send({ topic: "durable", messages: Array.from({ length: 40 }, (_, i) => ({ key: String(i), value: String(i) })) });
  await producer.disconnect();
  await admin.setOffsets({ groupId: "keeper", topic: "durable", partitions: [{ partition: 0, offset: "7" }, { partition: 1, offset: "3" }] });
  await admin.disconnect();

  await cluster.close();
  cluster = await startTestCluster({ dataDir });

  const admin2 = client().admin();
  await admin2.connect();
  const offsets = await admin2.fetchOffsets({ groupId: "keeper", topics: ["durable"] });
  assert.deepEqual(offsets[0].partitions.map((p) => [p.partition, p.offset]).sort(), [[0, "7"], [1, "3"]]);
  const ends = await admin2.fetchTopicOffsets("durable");
  assert.equal(ends.reduce((sum, p) => sum + Number(p.high), 0), 40);
  await admin2.disconnect();
  const got = await consumeAll("durable", 40, "after-restart");
  assert.deepEqual(got.map((m) => Number(m.value)).sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i));
});
