// A follower (real process) is killed, misses more than the leader's log keeps (records are
// deleted and the leader trims its log), and is restarted: it must catch up from a snapshot and
// then serve again — here it becomes leader again (it is the preferred replica) and serves the
// partition's whole retained data.
import { test } from "node:test";
import assert from "node:assert/strict";
import kafkajs from "kafkajs";
import { tempDir } from "../helpers/tmp.js";
import { bounded, startProcessCluster } from "./process-cluster.js";
import { readPartitionLog } from "./read-log.js";

test("a follower that missed a compacted stretch catches up by snapshot and serves again", async (t) => {
  const cluster = await startProcessCluster({ nodes: 3, dataDir: tempDir(t), kafkaPort: 19492, peerPort: 19494, hostBase: 32 });
  t.after(() => cluster.close());
  const kafka = (brokers: string[]) => new kafkajs.Kafka({ brokers, logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 } });
  const admin = kafka(cluster.bootstrap.split(",")).admin();
  await admin.connect();
  t.after(() => bounded(admin.disconnect()));
  await admin.createTopics({ topics: [{ topic: "lagging", numPartitions: 1, replicationFactor: 3 }] });
  const preferred = (await admin.fetchTopicMetadata({ topics: ["lagging"] })).topics[0].partitions[0].replicas[0];
  const lagging = cluster.nodes[preferred - 1];
  await lagging.kill("SIGKILL");
  const others = cluster.nodes.filter((n) => n !== lagging).map((n) => n.bootstrap);

  const producer = kafka(others).producer();
  await producer.connect();
  const produce = async (from: number, count: number) => {
    for (let i = from; i < from + count; i += 50) await producer.send({ topic: "lagging", acks: -1, messages: Array.from({ length: 50 }, (_, j) => ({ value: String(i + j) })) });
  };
  await produce(0, 1000);
  // Metadata after the first writes: by then it names the new leader.
  const othersAdmin = kafka(others).admin();
  await othersAdmin.connect();
  await othersAdmin.fetchTopicMetadata({ topics: ["lagging"] });
  await othersAdmin.deleteTopicRecords({ topic: "lagging", partitions: [{ partition: 0, offset: "500" }] });
  await produce(1000, 1000);
  await othersAdmin.deleteTopicRecords({ topic: "lagging", partitions: [{ partition: 0, offset: "1800" }] });
  await bounded(othersAdmin.disconnect());
  await new Promise((r) => setTimeout(r, 500));

  await lagging.start();
  await lagging.process!.waitFor((line) => line.msg === "installed a snapshot from the leader", 30_000);
  await produce(2000, 100);
  await bounded(producer.disconnect());
  // Preferred-leader balancing hands the partition back to the restarted node once it is caught up.
  const deadline = Date.now() + 30_000;
  while ((await admin.fetchTopicMetadata({ topics: ["lagging"] })).topics[0].partitions[0].leader !== preferred) {
    assert.ok(Date.now() < deadline, "the caught-up node leads its partition again");
    await new Promise((r) => setTimeout(r, 200));
  }
  const log = await readPartitionLog([lagging.bootstrap], "lagging", 0);
  t.diagnostic(`served ${log.length} records: offsets ${log[0]?.offset}..${log.at(-1)?.offset}`);
  assert.deepEqual(log.map((r) => Number(r.value)), Array.from({ length: 300 }, (_, i) => 1800 + i), "it serves the partition's whole retained data");
  assert.deepEqual(log.map((r) => r.offset), Array.from({ length: 300 }, (_, i) => 1800 + i));
});
