// A 3-node cluster in one process (separate data directories, real TCP between nodes, real
// fsync): replicated partitions, leaders spread over the nodes, requests to a non-leader refused
// with NOT_LEADER_OR_FOLLOWER, and a leader's node stopping without losing acknowledged records.
// The multi-process fault tests (SIGKILL, network partitions) are in test/faults/.
import { test } from "node:test";
import assert from "node:assert/strict";
import kafkajs from "kafkajs";
import { startNode, startTestCluster, type TestCluster } from "../../src/synod.js";
import { createServer } from "node:net";
import { join } from "node:path";
import { tempDir } from "../helpers/tmp.js";
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
  // A client call failing while leaders move is not the condition failing: try again.
  const holds = async (): Promise<boolean> => {
    try {
      return await predicate();
    } catch {
      return false;
    }
  };
  while (!(await holds())) {
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
  // (The checks below read the metadata that showed the balance: a later fetch may already show
  // an election, which a loaded machine can cause at any time.)
  let leaders: number[] = [];
  let md: Awaited<ReturnType<typeof admin.fetchTopicMetadata>> | undefined;
  await until(async () => {
    md = await admin.fetchTopicMetadata({ topics: ["replicated"] });
    const partitions = md.topics[0].partitions.sort((a, b) => a.partitionId - b.partitionId);
    leaders = partitions.map((p) => p.leader);
    const perNode = [1, 2, 3].map((id) => leaders.filter((l) => l === id).length);
    return perNode.every((n) => n === 2) && partitions.every((p) => p.leader === p.replicas[0]);
  }, 30_000);
  for (const p of md!.topics[0].partitions) {
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

  // Per-node metrics: groups led, commit latency, replication lag per follower, peer traffic, elections.
  // (Commit latency is observed where proposals are made, so the survivors are scraped together.)
  let metrics = "";
  for (const node of cluster.nodes.filter((n) => n !== victim)) metrics += await (await fetch(`http://127.0.0.1:${node.adminPort}/metrics`)).text();
  for (const name of ["synod_groups_led", "synod_commit_latency_seconds_bucket", "synod_replication_lag_slots", "synod_peer_sent_bytes_total", "synod_peer_received_bytes_total", "synod_elections_won_total"]) {
    assert.match(metrics, new RegExp(`^${name}`, "m"), `${name} is exported`);
  }
  const survivors = cluster.nodes.filter((node) => node !== victim).map((node) => node.bootstrapServers);
  const consumer = kafka(cluster, survivors).consumer({ groupId: "verify" });
  await consumer.connect();
  await consumer.subscribe({ topic: "replicated", fromBeginning: true });
  const seen = new Map<string, number>();
  await consumer.run({
    eachMessage: async ({ message }) => {
      const v = message.value!.toString();
      seen.set(v, (seen.get(v) ?? 0) + 1);
    },
  });
  await until(() => acked.every((a) => seen.has(a)), 60_000).catch(() => undefined);
  await consumer.disconnect();
  const duplicates = [...seen].filter(([, count]) => count > 1);
  assert.deepEqual(duplicates, [], "the idempotent producer's records appear once");
  assert.ok(acked.every((a) => seen.has(a)), "every acknowledged record survived the leader's shutdown");
});

test("a follower that missed more than the leader's log holds catches up from a snapshot and serves again", async (t) => {
  const cluster = await startTestCluster({ nodes: 3 });
  t.after(() => cluster.close());
  const admin = kafka(cluster).admin();
  await admin.connect();
  t.after(() => admin.disconnect());
  await admin.createTopics({ topics: [{ topic: "catch-up", numPartitions: 1, replicationFactor: 3 }] });
  const md = await admin.fetchTopicMetadata({ topics: ["catch-up"] });
  const groupId = `p-${[...cluster.nodes[0].runtime.groupIds()].find((id) => id.startsWith("p-"))!.slice(2)}`;
  const lagging = md.topics[0].partitions[0].replicas.find((id) => id !== md.topics[0].partitions[0].leader)!;
  await cluster.stop(lagging);

  const producer = kafka(cluster).producer();
  await producer.connect();
  const produce = async (from: number, count: number) => {
    for (let i = from; i < from + count; i += 50) await producer.send({ topic: "catch-up", acks: -1, messages: Array.from({ length: 50 }, (_, j) => ({ value: String(i + j) })) });
  };
  await produce(0, 1000);
  await admin.deleteTopicRecords({ topic: "catch-up", partitions: [{ partition: 0, offset: "500" }] });
  await produce(1000, 1000);
  await admin.deleteTopicRecords({ topic: "catch-up", partitions: [{ partition: 0, offset: "1800" }] });
  await producer.disconnect();
  const leaderNode = cluster.nodes.find((n) => n.runtime.group(groupId)?.role === "leader")!;
  const leaderLog = leaderNode.runtime.group(groupId)!.storage;
  await until(() => leaderLog.firstIndex > 5, 10_000);

  const restarted = await cluster.restart(lagging);
  const group = restarted.runtime.group(groupId)!;
  await until(() => group.appliedSlot >= leaderNode.runtime.group(groupId)!.appliedSlot, 20_000);
  assert.ok(group.storage.firstIndex > 5, "the follower's log starts after a snapshot, not at the beginning");

  // Make the caught-up follower the leader and read the whole retained partition from it. (It may
  // take the lead by itself: preferred-leader balancing moves leadership to it when it is the
  // partition's first replica. Otherwise whoever leads is asked, again every 2 s if need be.)
  let askedAt = 0;
  await until(() => {
    if (group.isLeaderReady) return true;
    if (Date.now() - askedAt > 2_000) {
      askedAt = Date.now();
      cluster.nodes.find((n) => n.runtime.group(groupId)?.role === "leader")?.runtime.group(groupId)!.transferLeadership(lagging);
    }
    return false;
  }, 20_000);
  const consumer = kafka(cluster).consumer({ groupId: "after-catch-up" });
  await consumer.connect();
  await consumer.subscribe({ topic: "catch-up", fromBeginning: true });
  const values: number[] = [];
  await consumer.run({
    eachMessage: async ({ message }) => {
      values.push(Number(message.value!.toString()));
    },
  });
  await until(() => values.length >= 200, 30_000).catch(() => assert.fail(`the consumer read ${values.length} of 200 records`));
  await consumer.disconnect();
  assert.deepEqual(values.sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => 1800 + i));
});

test("membership: a 4th node joins and takes replicas; a node is decommissioned and leaves; all through Paxos reconfiguration", async (t) => {
  const cluster = await startTestCluster({ nodes: 3 });
  t.after(() => cluster.close());
  const admin = kafka(cluster).admin();
  await admin.connect();
  t.after(() => admin.disconnect());
  await admin.createTopics({ topics: [{ topic: "moving", numPartitions: 4, replicationFactor: 3 }] });
  const producer = kafka(cluster).producer({ idempotent: true });
  await producer.connect();
  t.after(() => producer.disconnect());
  // Each send goes to one partition. kafkajs 2.2.4 loses records when one send spans partitions
  // led by different nodes and a leader moves mid-send: the retry skips partitions whose new
  // leader already answered for others, yet send() resolves (tulios/kafkajs#1303, #1798). Seen
  // here under load as 5–6 acknowledged records of one partition missing, their sequence numbers
  // never used. The fault tests send per partition for the same reason.
  let sent = 0;
  const produce = async (count: number) => {
    for (let i = 0; i < count; i += 20) {
      const partition = (sent / 20) % 4;
      await producer.send({ topic: "moving", acks: -1, messages: Array.from({ length: 20 }, () => ({ partition, value: String(sent++) })) });
    }
  };
  await produce(200);

  // A fourth node joins with the cluster's id and the full peer list.
  const port4 = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
  // Closed before its data directory is removed (after-hooks run in the order they were added).
  let node4Started: Awaited<ReturnType<typeof startNode>> | undefined;
  t.after(() => node4Started?.close());
  const node4 = (node4Started = await startNode({
    nodeId: 4,
    dataDir: join(tempDir(t), "node-4"),
    host: "127.0.0.1",
    kafkaPort: 0,
    zookeeperPort: 0,
    adminPort: 0,
    peers: `${cluster.nodes[0].config.peers},4@127.0.0.1:${port4}`,
    clusterId: cluster.nodes[0].identity.clusterId,
    groupInitialRebalanceDelayMs: 0,
    logLevel: "warn",
  }));
  await until(() => cluster.nodes.every((n) => n.kafka.nodes().length === 4));

  // Rebalance: node 4 receives replicas (learner → caught up → voter → an old replica removed).
  const admin1 = `http://127.0.0.1:${cluster.nodes[0].adminPort}`;
  const rebalance = (await (await fetch(`${admin1}/cluster/rebalance`, { method: "POST", signal: AbortSignal.timeout(30_000) })).json()) as { errorCode: number; moves: unknown[] };
  assert.equal(rebalance.errorCode, 0);
  assert.ok(rebalance.moves.length >= 2, `replicas move to the new node (${rebalance.moves.length} moves)`);
  const membershipsMatch = (): boolean => {
    for (const node of [...cluster.nodes, node4]) {
      for (const topic of node.kafka.topics()) {
        for (const [p, replicas] of topic.partitions.entries()) {
          const group = node.runtime.group(`p-${topic.id}-${p}`);
          if (group?.isLeaderReady && [...group.status().membership.voters].sort().join() !== [...replicas].sort().join()) return false;
        }
      }
    }
    return true;
  };
  await until(() => node4.kafka.topics().some((topic) => topic.partitions.some((r) => r.includes(4))) && membershipsMatch(), 60_000);
  await produce(200);

  // Decommission node 2: every replica it held moves away, then it can be stopped.
  const decommission = (await (await fetch(`${admin1}/cluster/decommission?node=2`, { method: "POST", signal: AbortSignal.timeout(30_000) })).json()) as { errorCode: number };
  assert.equal(decommission.errorCode, 0);
  await until(() => cluster.nodes[0].kafka.topics().every((topic) => topic.partitions.every((r) => !r.includes(2))) && membershipsMatch(), 60_000);
  await until(() => !cluster.nodes[0].runtime.group("meta")!.status().membership.voters.includes(2 as never) || false, 60_000);
  await cluster.stop(2);
  await produce(200);

  const consumer = kafka(cluster, [cluster.nodes[0].bootstrapServers, node4.bootstrapServers]).consumer({ groupId: "after-moves" });
  await consumer.connect();
  await consumer.subscribe({ topic: "moving", fromBeginning: true });
  const seen = new Set<string>();
  await consumer.run({
    eachMessage: async ({ message }) => {
      seen.add(message.value!.toString());
    },
  });
  await until(() => seen.size >= sent, 60_000).catch(async () => {
    const missing = Array.from({ length: sent }, (_, i) => String(i)).filter((v) => !seen.has(v));
    const offsets = await admin.fetchTopicOffsets("moving").catch((e: Error) => e.message);
    for (const node of [...cluster.nodes, node4]) {
      for (const topic of node.kafka.topics()) {
        for (let p = 0; p < topic.partitions.length; p++) {
          const group = node.runtime.group(`p-${topic.id}-${p}`);
          if (!group) continue;
          const local = { state: group.stateMachine as unknown as { nextOffset: number; producers: Map<number, unknown> } };
          const st = group.status();
          t.diagnostic(`node ${node.config.nodeId} p${p}: ${st.role} leader=${st.leaderId} commit=${st.commitSlot} applied=${st.appliedSlot} last=${st.lastSlot} voters=${st.membership.voters.join(",")} learners=${st.membership.learners.join(",")} next=${local?.state.nextOffset} producers=${JSON.stringify([...(local?.state.producers ?? new Map()).entries()], (_, v) => (typeof v === "bigint" ? String(v) : v))}`);
        }
      }
    }
    assert.fail(`the consumer read ${seen.size} of ${sent} records; missing ${missing.join(",")} (partition = floor(value / 20) mod 4); offsets ${JSON.stringify(offsets)}`);
  });
  await consumer.disconnect();
  assert.equal(seen.size, 600, "every record written before, during and after the moves is readable");
});
