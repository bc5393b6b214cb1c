// A rolling restart of all three nodes (SIGTERM, wait, start) under produce and consume load:
// no acknowledged record is lost and no consumer group's committed offset ever goes backwards.
import { test } from "node:test";
import assert from "node:assert/strict";
import kafkajs from "kafkajs";
import { tempDir } from "../helpers/tmp.js";
import { bounded, startProcessCluster } from "./process-cluster.js";
import { readPartitionLog } from "./read-log.js";
import { checkLogHistory, formatLogCheck, type PollRecord, type SendRecord } from "../../src/sim/log-checker.js";

const PARTITIONS = 3;

test("rolling restart under load: nothing acknowledged lost, committed offsets never go backwards", async (t) => {
  const cluster = await startProcessCluster({ nodes: 3, dataDir: tempDir(t), kafkaPort: 19392, peerPort: 19394, hostBase: 22 });
  t.after(() => cluster.close());
  const kafka = new kafkajs.Kafka({ brokers: cluster.bootstrap.split(","), logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 } });
  const admin = kafka.admin();
  await admin.connect();
  t.after(() => bounded(admin.disconnect()));
  await admin.createTopics({ topics: [{ topic: "rolling", numPartitions: PARTITIONS, replicationFactor: 3 }] });

  const sends: SendRecord[] = [];
  let stop = false;
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const writer = (async () => {
    let n = 0;
    while (!stop) {
      const partition = n % PARTITIONS;
      const values = Array.from({ length: 5 }, () => `r${n++}`);
      try {
        const [meta] = await producer.send({ topic: "rolling", acks: -1, messages: values.map((value) => ({ partition, value })) });
        values.forEach((value, i) => sends.push({ producer: `w${partition}`, partition, value, acknowledged: true, offset: Number(meta.baseOffset) + i }));
      } catch {
        for (const value of values) sends.push({ producer: `w${partition}`, partition, value, acknowledged: false });
      }
    }
  })();

  const polls: PollRecord[] = [];
  const consumer = kafka.consumer({ groupId: "rollers", sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
  let generation = 0;
  consumer.on(consumer.events.GROUP_JOIN, () => generation++);
  await consumer.connect();
  await consumer.subscribe({ topic: "rolling", fromBeginning: true });
  await consumer.run({ autoCommitInterval: 200, eachMessage: async ({ partition, message }) => void polls.push({ consumer: "c", partition, offset: Number(message.offset), value: message.value!.toString(), generation }) });

  // Committed offsets sampled throughout: per partition they must never decrease.
  const regressions: string[] = [];
  const lastCommitted = new Map<number, number>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      try {
        const offsets = await admin.fetchOffsets({ groupId: "rollers", topics: ["rolling"] });
        for (const p of offsets[0].partitions) {
          const offset = Number(p.offset);
          if (offset < (lastCommitted.get(p.partition) ?? -1)) regressions.push(`partition ${p.partition}: ${lastCommitted.get(p.partition)} then ${offset}`);
          if (offset >= 0) lastCommitted.set(p.partition, Math.max(offset, lastCommitted.get(p.partition) ?? -1));
        }
      } catch {
        // the coordinator is moving: sample again
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();

  await new Promise((r) => setTimeout(r, 2000));
  for (const node of cluster.nodes) {
    await node.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 1000));
    await node.start();
    await new Promise((r) => setTimeout(r, 2000));
    t.diagnostic(`restarted node ${node.id}; ${sends.filter((s) => s.acknowledged).length} records acknowledged so far`);
  }
  stop = true;
  await writer;
  await bounded(producer.disconnect());
  const finalLog = new Map<number, Array<{ offset: number; value: string }>>();
  for (let p = 0; p < PARTITIONS; p++) finalLog.set(p, await readPartitionLog(cluster.nodes.map((n) => n.bootstrap), "rolling", p));
  const deadline = Date.now() + 30_000;
  const consumedEnd = (p: number) => Math.max(-1, ...polls.filter((r) => r.partition === p).map((r) => r.offset));
  while (Date.now() < deadline && [...finalLog].some(([p, log]) => log.length > 0 && consumedEnd(p) < log[log.length - 1].offset)) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 500));
  sampling = false;
  await sampler;
  await bounded(consumer.disconnect());

  const result = checkLogHistory({ sends, finalLog, polls: new Map([["rollers", polls]]) }, { allowReconsumed: true });
  t.diagnostic(formatLogCheck(result));
  for (const kind of ["lost", "duplicated", "reordered", "gap", "skipped", "inconsistentOffset", "unknownValue"] as const) {
    assert.equal(result.counts[kind], 0, `${kind}: ${result.examples[kind].join("; ")}`);
  }
  assert.deepEqual(regressions, [], "committed offsets never went backwards");
  assert.ok(lastCommitted.size === PARTITIONS, "the group committed on every partition");
});
