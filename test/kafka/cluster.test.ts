// A 3-node cluster in one process (separate data directories, real TCP between nodes, real
// fsync): replicated partitions, leaders spread over the nodes, requests to a non-leader refused
// with NOT_LEADER_OR_FOLLOWER, and a leader's node stopping without losing acknowledged records.
// The multi-process fault tests (SIGKILL, network partitions) are in test/faults/.
import { test } from "node:test";
import assert from "node:assert/strict";
import kafkajs from "kafkajs";
import { startTestCluster, type TestCluster } from "../../src/synod.js";
import { RawKafkaClient } from "./raw-client.js";
import { encodeRecordBatch } from "../../src/kafka/records/record-batch.js";
import { ErrorCode } from "../../src/kafka/protocol/generated/errors.js";
import type { ProduceResponse } from "../../src/kafka/protocol/generated/produce-response.js";
import type { MetadataResponse } from "../../src/kafka/protocol/generated/metadata-response.js";

function kafka(cluster: TestCluster, brokers = cluster.bootstrapServers.split(",")) {
  return new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 12, initialRetryTime: 100, maxRetryTime: 2000 } });
}

async function until(predicate: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("3 nodes: replicated partitions, leaders spread evenly, non-leaders refuse, a stopped leader loses nothing acknowledged", async (t) => {
  const cluster = await startTestCluster({ nodes: 3 });
  t.after(() => cluster.close());
  const admin = kafka(cluster).admin();
  await admin.connect();
  t.after(() => admin.disconnect());
  assert.equal(await admin.createTopics({ topics: [{ topic: "replicated", numPartitions: 6, replicationFactor: 3 }] }), true);

  // Metadata: every node, every partition with 3 replicas; leaders move to the preferred replicas.
  let leaders: number[] = [];
  await until(async () => {
    const md = await admin.fetchTopicMetadata({ topics: ["replicated"] });
    leaders = md.topics[0].partitions.sort((a, b) => a.partitionId - b.partitionId).map((p) => p.leader);
    const perNode = [1, 2, 3].map((id) => leaders.filter((l) => l === id).length);
    return perNode.every((n) => n === 2);
  }, 30_000);
  const md = await admin.fetchTopicMetadata({ topics: ["replicated"] });
  for (const p of md.topics[0].partitions) {
    assert.equal(p.replicas.length, 3);
    assert.equal(p.leader, p.replicas[0], "the preferred replica leads");
  }
  const cluster_ = await admin.describeCluster();
  assert.deepEqual(cluster_.brokers.map((b) => b.nodeId).sort(), [1, 2, 3]);

  // A produce sent to a node that does not lead the partition is refused so the client refreshes.
  const follower = [1, 2, 3].find((id) => id !== leaders[0])!;
  const raw = await RawKafkaClient.connect(cluster.nodes[follower - 1].bootstrapServers);
  const records = encodeRecordBatch({ baseTimestamp: 1n, records: [{ attributes: 0, timestampDelta: 0, offsetDelta: 0, key: null, value: Buffer.from("x"), headers: [] }] });
  const refused = await raw.request<ProduceResponse>(0, 7, { transactionalId: null, acks: -1, timeoutMs: 1000, topicData: [{ name: "replicated", partitionData: [{ index: 0, records }] }] });
  assert.equal(refused.responses[0].partitionResponses[0].errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  const metadata = await raw.request<MetadataResponse>(3, 5, { topics: [{ name: "replicated" }], allowAutoTopicCreation: false });
  assert.equal(metadata.brokers.length, 3);
  raw.close();

  // An idempotent producer writes through a leader's shutdown; everything acknowledged is there once.
  const producer = kafka(cluster).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const acked: string[] = [];
  let stop = false;
  let n = 0;
  const writer = (async () => {
    while (!stop) {
      const messages = Array.from({ length: 10 }, () => ({ key: "k", value: `m${n++}` }));
      try {
        await producer.send({ topic: "replicated", messages });
        acked.push(...messages.map((m) => m.value));
      } catch {
        // ambiguous: not counted as acknowledged
      }
    }
  })();
  await until(() => acked.length >= 200);
  const md2 = await admin.fetchTopicMetadata({ topics: ["replicated"] });
  // "k" hashes to one partition; stop the node leading it.
  const victim = cluster.nodes.find((node) => md2.topics[0].partitions.some((p) => p.leader === node.config.nodeId && p.leader !== 1))!;
  await victim.close();
  const ackedAtKill = acked.length;
  await until(() => acked.length >= ackedAtKill + 200, 30_000);
  stop = true;
  await writer;
  await producer.disconnect();

  const survivors = cluster.nodes.filter((node) => node !== victim).map((node) => node.bootstrapServers);
  const consumer = kafka(cluster, survivors).consumer({ groupId: "verify" });
  await consumer.connect();
  await consumer.subscribe({ topic: "replicated", fromBeginning: true });
  const seen = new Map<string, number>();
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        const v = message.value!.toString();
        seen.set(v, (seen.get(v) ?? 0) + 1);
        if (acked.every((a) => seen.has(a))) resolve();
      },
    });
  });
  await consumer.disconnect();
  const duplicates = [...seen].filter(([, count]) => count > 1);
  assert.deepEqual(duplicates, [], "the idempotent producer's records appear once");
  assert.ok(acked.every((a) => seen.has(a)), "every acknowledged record survived the leader's shutdown");
});
