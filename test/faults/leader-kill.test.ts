// SIGKILL the leader of a partition while an idempotent acks=all producer writes and a consumer
// group reads, on a 3-node cluster of real processes. At the end a Jepsen-style checker counts
// lost, duplicated, reordered and skipped records (and gaps, inconsistent offsets, unknown
// values): all must be zero. Also reports the failover time (kill → first ack on that partition).
import { test } from "node:test";
import assert from "node:assert/strict";
import kafkajs from "kafkajs";
import { tempDir } from "../helpers/tmp.js";
import { bounded, startProcessCluster } from "./process-cluster.js";
import { readPartitionLog } from "./read-log.js";
import { checkLogHistory, formatLogCheck, type PollRecord, type SendRecord } from "../../src/sim/log-checker.js";

const PARTITIONS = 3;

test("SIGKILL of a partition leader under an idempotent acks=all producer and a consumer group: nothing lost, duplicated, reordered or skipped", async (t) => {
  const cluster = await startProcessCluster({ nodes: 3, dataDir: tempDir(t), kafkaPort: 19192, peerPort: 19194, hostBase: 2 });
  t.after(() => cluster.close());
  const kafka = new kafkajs.Kafka({ brokers: cluster.bootstrap.split(","), logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: "jepsen", numPartitions: PARTITIONS, replicationFactor: 3 }] });

  const sends: SendRecord[] = [];
  /** partition → acknowledgements as [time the send started, time it was acknowledged]. */
  const acks = new Map<number, Array<[number, number]>>();
  let stop = false;
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const writer = async (partition: number): Promise<void> => {
    let n = 0;
    while (!stop) {
      const values = Array.from({ length: 10 }, () => `p${partition}-${n++}`);
      const startedAt = Date.now();
      try {
        const [meta] = await producer.send({ topic: "jepsen", acks: -1, messages: values.map((value) => ({ partition, value })) });
        const base = Number(meta.baseOffset);
        values.forEach((value, i) => sends.push({ producer: `w${partition}`, partition, value, acknowledged: true, offset: base + i }));
        acks.set(partition, [...(acks.get(partition) ?? []), [startedAt, Date.now()]]);
      } catch {
        for (const value of values) sends.push({ producer: `w${partition}`, partition, value, acknowledged: false });
      }
    }
  };

  const polls = new Map<string, PollRecord[]>([["readers", []]]);
  const consumers = await Promise.all(
    ["c1", "c2"].map(async (name) => {
      const consumer = kafka.consumer({ groupId: "readers", sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
      let generation = 0;
      consumer.on(consumer.events.GROUP_JOIN, () => generation++);
      await consumer.connect();
      await consumer.subscribe({ topic: "jepsen", fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          polls.get("readers")!.push({ consumer: name, partition, offset: Number(message.offset), value: message.value!.toString(), generation });
        },
      });
      return consumer;
    }),
  );

  const writers = Array.from({ length: PARTITIONS }, (_, p) => writer(p));
  await new Promise((r) => setTimeout(r, 3000));
  const md = await admin.fetchTopicMetadata({ topics: ["jepsen"] });
  const leaderId = md.topics[0].partitions.find((p) => p.partitionId === 0)!.leader;
  const killedAt = Date.now();
  await cluster.nodes[leaderId - 1].kill("SIGKILL");
  // Failover: from the kill to the first acknowledgement, on partition 0, of a send started after it.
  const firstAckAfterKill = () => (acks.get(0) ?? []).find(([startedAt]) => startedAt >= killedAt)?.[1];
  while (firstAckAfterKill() === undefined && Date.now() - killedAt < 30_000) await new Promise((r) => setTimeout(r, 10));
  const failoverMs = (firstAckAfterKill() ?? Infinity) - killedAt;
  t.diagnostic(`killed node ${leaderId} (leader of partition 0); first ack after ${failoverMs} ms`);
  await new Promise((r) => setTimeout(r, 3000));
  await cluster.nodes[leaderId - 1].start();
  await new Promise((r) => setTimeout(r, 2000));
  stop = true;
  await Promise.all(writers);
  await bounded(producer.disconnect());

  const survivors = cluster.nodes.map((n) => n.bootstrap);
  const finalLog = new Map<number, Array<{ offset: number; value: string }>>();
  for (let p = 0; p < PARTITIONS; p++) finalLog.set(p, await readPartitionLog(survivors, "jepsen", p));
  // Let the consumers read to the end.
  const deadline = Date.now() + 30_000;
  const consumedEnd = (p: number) => Math.max(-1, ...polls.get("readers")!.filter((r) => r.partition === p).map((r) => r.offset));
  while (Date.now() < deadline && [...finalLog].some(([p, log]) => log.length > 0 && consumedEnd(p) < log[log.length - 1].offset)) await new Promise((r) => setTimeout(r, 100));
  for (const consumer of consumers) await bounded(consumer.disconnect());
  await bounded(admin.disconnect());

  const result = checkLogHistory({ sends, finalLog, polls }, { allowReconsumed: true });
  t.diagnostic(formatLogCheck(result));
  for (const kind of ["lost", "duplicated", "reordered", "gap", "skipped", "inconsistentOffset", "unknownValue", "nonMonotonicPoll"] as const) {
    assert.equal(result.counts[kind], 0, `${kind}: ${result.examples[kind].join("; ")}`);
  }
  assert.ok(result.acknowledged > 1000, "the producers made progress");
  assert.ok(failoverMs < 15_000, `writes resumed after the kill (${failoverMs} ms)`);
});
