// A network partition isolates a partition's leader from the other two nodes (iptables rules
// between the nodes' own loopback addresses; the test process still reaches every node). The
// minority side must acknowledge no acks=-1 write; the majority elects a leader and serves; after
// healing, the old leader's uncommitted tail is discarded and nothing acknowledged is lost.
import { test } from "node:test";
import assert from "node:assert/strict";
import kafkajs from "kafkajs";
import { tempDir } from "../helpers/tmp.js";
import { NetFault } from "../helpers/netfault.js";
import { bounded, startProcessCluster } from "./process-cluster.js";
import { readPartitionLog } from "./read-log.js";
import { RawKafkaClient } from "../kafka/raw-client.js";
import { decodeRecordBatch, encodeRecordBatch, splitBatches } from "../../src/kafka/records/record-batch.js";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { SegmentedLog } from "../../src/storage/segmented-log.js";
import { storedCommands } from "../../src/node/group.js";
import { recordBatchesOf } from "../../src/kafka/partition.js";
import { PartitionState } from "../../src/log/partition.js";
import { systemClock } from "../../src/node/system-clock.js";
import { silentLogger } from "../../src/util/logger.js";
import type { ProduceResponse } from "../../src/kafka/protocol/generated/produce-response.js";

function batch(value: string): Buffer {
  return encodeRecordBatch({ baseTimestamp: BigInt(Date.now()), records: [{ attributes: 0, timestampDelta: 0, offsetDelta: 0, key: null, value: Buffer.from(value), headers: [] }] });
}

test("a partitioned leader acknowledges nothing; the majority serves; after healing its uncommitted tail is gone and nothing acknowledged is lost", async (t) => {
  const fault = new NetFault(`partition-${process.pid}`);
  t.after(() => fault.cleanup());
  const dataDir = tempDir(t);
  const cluster = await startProcessCluster({ nodes: 3, dataDir, kafkaPort: 19292, peerPort: 19294, hostBase: 12 });
  t.after(() => cluster.close());
  const kafka = (brokers: string[]) => new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 } });
  const admin = kafka(cluster.nodes.map((n) => n.bootstrap)).admin();
  await admin.connect();
  t.after(() => bounded(admin.disconnect()));
  await admin.createTopics({ topics: [{ topic: "split", numPartitions: 1, replicationFactor: 3 }] });
  const acked: string[] = [];
  const producer = kafka(cluster.nodes.map((n) => n.bootstrap)).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < 20; i++) {
    await producer.send({ topic: "split", acks: -1, messages: [{ value: `before-${i}` }] });
    acked.push(`before-${i}`);
  }
  const leaderId = (await admin.fetchTopicMetadata({ topics: ["split"] })).topics[0].partitions[0].leader;
  const leader = cluster.nodes[leaderId - 1];
  const others = cluster.nodes.filter((n) => n !== leader);
  fault.partition([leader.host], others.map((n) => n.host));
  t.diagnostic(`isolated node ${leaderId} (${leader.host}) from ${others.map((n) => n.host).join(", ")}`);

  // The minority side: acks=-1 writes straight to the isolated leader are never acknowledged.
  const minority = await RawKafkaClient.connect(leader.bootstrap);
  const minorityResults: number[] = [];
  for (let i = 0; i < 5; i++) {
    const response = await minority.request<ProduceResponse>(0, 7, { transactionalId: null, acks: -1, timeoutMs: 1500, topicData: [{ name: "split", partitionData: [{ index: 0, records: batch(`minority-${i}`) }] }] });
    minorityResults.push(response.responses[0].partitionResponses[0].errorCode);
  }
  minority.close();
  assert.ok(minorityResults.every((code) => code !== 0), `the isolated leader acknowledged nothing (codes ${minorityResults.join(",")})`);

  // The majority side elects a leader and serves.
  const majority = kafka(others.map((n) => n.bootstrap)).producer({ idempotent: true, maxInFlightRequests: 1 });
  await majority.connect();
  for (let i = 0; i < 20; i++) {
    await majority.send({ topic: "split", acks: -1, messages: [{ value: `during-${i}` }] });
    acked.push(`during-${i}`);
  }
  await bounded(majority.disconnect());

  fault.heal();
  await new Promise((r) => setTimeout(r, 3000));
  for (let i = 0; i < 10; i++) {
    await producer.send({ topic: "split", acks: -1, messages: [{ value: `after-${i}` }] });
    acked.push(`after-${i}`);
  }
  await bounded(producer.disconnect());

  // Every node's copy, read once it leads again (preferred-leader balancing moves leadership back
  // to the old leader when it is the preferred replica; otherwise read from the current leader).
  const log = await readPartitionLog(cluster.nodes.map((n) => n.bootstrap), "split", 0);
  const values = log.map((r) => r.value);
  assert.deepEqual(values.filter((v) => v.startsWith("minority-")), [], "the isolated leader's tail was discarded");
  assert.deepEqual(acked.filter((v) => !values.includes(v)), [], "nothing acknowledged was lost");
  assert.equal(new Set(values).size, values.length, "no duplicates");
  assert.deepEqual(log.map((r) => r.offset), log.map((_, i) => i), "offsets are dense");
  // Every replica converged, the old leader included: stop the nodes and read each one's own log
  // file straight from its data directory (storage engine + the entry codec, no Kafka in between).
  await new Promise((r) => setTimeout(r, 1500));
  await cluster.close();
  for (const node of cluster.nodes) {
    const replicaValues = await valuesOnDisk(join(dataDir, `node-${node.id}`));
    assert.deepEqual(replicaValues.slice(0, values.length), values, `node ${node.id}'s log equals the final log`);
    assert.ok(!replicaValues.some((v) => v.startsWith("minority-")), `node ${node.id} holds no minority write`);
  }
  t.diagnostic(`final log has ${values.length} records; all three replicas hold exactly it`);
});

/** The record values of the single partition group in a node's data directory, in log order. */
async function valuesOnDisk(nodeDir: string): Promise<string[]> {
  const groupsDir = join(nodeDir, "groups");
  const partitionDir = readdirSync(groupsDir).find((name) => name.startsWith("p-"))!;
  const log = await SegmentedLog.open({ dir: join(groupsDir, partitionDir, "log"), clock: systemClock, logger: silentLogger() });
  const state = new PartitionState();
  const values: string[] = [];
  try {
    for (let next = log.firstIndex; next <= log.lastIndex; ) {
      const entries = await log.read(next, { maxBytes: 1 << 20 });
      for (const entry of entries) {
        const { slot, commands } = storedCommands(entry.payload);
        for (const [index, command] of commands.entries()) {
          // Replay the state machine so that batches it rejected (stale offsets) are not counted.
          const result = state.apply(command, { slot, index });
          if (result.kind !== "appended") continue;
          for (const batches of recordBatchesOf([command])) {
            for (const b of splitBatches(Buffer.from(batches)).batches) values.push(...decodeRecordBatch(b).records.map((r) => r.value!.toString()));
          }
        }
      }
      next = entries[entries.length - 1].index + 1;
    }
  } finally {
    await log.close();
  }
  return values;
}
