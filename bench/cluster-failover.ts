// Failover time on a 3-node cluster (real processes, all on this machine): a client writes one
// record at a time at acks=all to a partition's leader, trying every node, retrying every few
// milliseconds; the leader is SIGKILLed; the figure is the time from the kill to the first
// acknowledged write of a request sent after the kill. Repeated --kills times (the killed node is
// restarted and caught up between rounds). Usage: npm run bench -- cluster-failover [--kills 20]
import { encodeRecordBatch } from "../src/kafka/records/record-batch.js";
import { note, parseArgs, percentile, report } from "./harness.js";
import { RawConnection, leaderOf, produceBody, startBenchCluster, type ProduceResponse } from "./cluster-support.js";

const args = parseArgs();
const kills = Number(args.get("kills") ?? 20);
const topic = "failover";

function batch(value: string): Buffer {
  return encodeRecordBatch({ baseTimestamp: BigInt(Date.now()), records: [{ attributes: 0, timestampDelta: 0, offsetDelta: 0, key: null, value: Buffer.from(value), headers: [] }] });
}

/** Writes until one acks=all produce started at or after `since` is acknowledged; returns its ack time. */
async function firstAckAfter(addresses: string[], since: number, deadlineMs: number): Promise<number> {
  let n = 0;
  while (performance.now() < deadlineMs) {
    for (const address of addresses) {
      const connection = await RawConnection.connect(address, 200);
      if (!connection) continue;
      try {
        const startedAt = performance.now();
        const response = await connection.request<ProduceResponse>(0, 7, produceBody(topic, 0, batch(`x${n++}`)), 2000);
        const code = response?.responses[0].partitionResponses[0].errorCode;
        if (code === 0 && startedAt >= since) return performance.now();
      } finally {
        connection.close();
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error("no acknowledged write before the deadline");
}

const cluster = await startBenchCluster(3);
const failovers: number[] = [];
try {
  const addresses = cluster.nodes.map((n) => n.kafka);
  await firstAckAfter(addresses, 0, performance.now() + 30_000); // creates the topic (auto-create, RF 3)
  for (let round = 0; round < kills; round++) {
    const leader = await leaderOf(addresses, topic, 0);
    if (leader < 0) throw new Error("no leader");
    const victim = cluster.nodes[leader - 1];
    await firstAckAfter(addresses, 0, performance.now() + 10_000);
    const killedAt = performance.now();
    await victim.kill("SIGKILL");
    const ackAt = await firstAckAfter(addresses.filter((a) => a !== victim.kafka), killedAt, killedAt + 30_000);
    failovers.push(Math.round(ackAt - killedAt));
    note(`round ${round + 1}: killed node ${leader}, first ack after ${failovers.at(-1)} ms`);
    await victim.start();
    // Let the restarted node catch up and settle before the next kill.
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
} finally {
  await cluster.stop();
}
report("cluster-failover", {
  nodes: 3,
  note: "three processes share this 2-core machine",
  kills: failovers.length,
  failoverMsP50: percentile([...failovers], 50),
  failoverMsP99: percentile([...failovers], 99),
  failoverMsMax: Math.max(...failovers),
  samplesMs: failovers,
});
