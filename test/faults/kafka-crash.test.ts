// Crash safety of a single node under load: a real `synod start` process takes acks=all produces
// from this (separate) process and is killed with SIGKILL at random moments, again and again.
// After every restart, every acknowledged record must be readable at the offset it was
// acknowledged at, and each partition's offsets must be dense. Method: record every ack
// (value → partition/offset), then read each partition back from offset 0 with a raw Fetch.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { spawnLogged, type LoggedProcess } from "../helpers/process.js";
import { tempDir } from "../helpers/tmp.js";
import { freePort } from "../helpers/ports.js";
import { RawKafkaClient } from "../kafka/raw-client.js";
import { encodeRecordBatch, splitBatches, decodeRecordBatch } from "../../src/kafka/records/record-batch.js";
import type { ProduceResponse } from "../../src/kafka/protocol/generated/produce-response.js";
import type { FetchResponse } from "../../src/kafka/protocol/generated/fetch-response.js";
import { SeededRandom } from "../../src/util/random.js";

const KILLS = Number(process.env.SYNOD_CRASH_KILLS ?? 12);
const PARTITIONS = 3;

function batchOf(values: string[]): Buffer {
  return encodeRecordBatch({
    baseTimestamp: BigInt(Date.now()),
    records: values.map((v, i) => ({ attributes: 0, timestampDelta: 0, offsetDelta: i, key: null, value: Buffer.from(v), headers: [] })),
  });
}

test(`SIGKILL under acks=all load, ${KILLS} times: every acknowledged record survives at its offset`, async (t) => {
  const seed = Number(process.env.SEED ?? 4242);
  t.diagnostic(`seed ${seed}`);
  const random = new SeededRandom(seed);
  const dataDir = join(tempDir(t), "data");
  const port = await freePort();
  const bootstrap = `127.0.0.1:${port}`;
  const args = ["start", "--data-dir", dataDir, "--kafka-port", String(port), "--admin-port", "0", "--zookeeper-port", "0", "--default-partitions", String(PARTITIONS), "--log-level", "info"];
  let node: LoggedProcess | undefined;
  t.after(() => node?.child.kill("SIGKILL"));
  const start = async (): Promise<void> => {
    node = spawnLogged(args);
    await node.waitFor((line) => line.msg === "node started", 20_000);
  };

  const acked = new Map<string, { partition: number; offset: number }>();
  let sent = 0;
  let stop = false;
  const load = async (): Promise<void> => {
    while (!stop) {
      let client: RawKafkaClient;
      try {
        client = await RawKafkaClient.connect(bootstrap);
      } catch {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      try {
        while (!stop) {
          const partition = sent % PARTITIONS;
          const values = Array.from({ length: 1 + (sent % 20) }, (_, i) => `v${sent}-${i}`);
          sent++;
          const response = await client.request<ProduceResponse>(0, 7, {
            transactionalId: null,
            acks: -1,
            timeoutMs: 5000,
            topicData: [{ name: "crash", partitionData: [{ index: partition, records: batchOf(values) }] }],
          });
          const p = response.responses[0].partitionResponses[0];
          if (p.errorCode !== 0) continue;
          values.forEach((v, i) => acked.set(v, { partition, offset: Number(p.baseOffset) + i }));
        }
      } catch {
        // The node died under us: reconnect and go on.
      } finally {
        client.close();
      }
    }
  };

  await start();
  const loader = load();
  for (let kill = 0; kill < KILLS; kill++) {
    await new Promise((r) => setTimeout(r, 150 + random.int(900)));
    node!.child.kill("SIGKILL");
    await node!.exited;
    await start();
  }
  await new Promise((r) => setTimeout(r, 300));
  stop = true;
  await loader;
  t.diagnostic(`${KILLS} kills, ${sent} produce requests sent, ${acked.size} records acknowledged`);
  assert.ok(acked.size > 100, "the load made progress between kills");

  // Read every partition back from offset 0.
  const client = await RawKafkaClient.connect(bootstrap);
  const found = new Map<string, { partition: number; offset: number }>();
  for (let partition = 0; partition < PARTITIONS; partition++) {
    let offset = 0;
    let expectedNext = 0;
    for (;;) {
      const response = await client.request<FetchResponse>(1, 11, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 0,
        maxBytes: 8 << 20,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: "crash", partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: BigInt(offset), logStartOffset: -1n, partitionMaxBytes: 4 << 20 }] }],
        forgottenTopicsData: [],
        rackId: "",
      });
      const data = response.responses[0].partitions[0];
      assert.equal(data.errorCode, 0);
      const records = data.records ?? Buffer.alloc(0);
      if (records.length === 0) break;
      for (const batch of splitBatches(records).batches) {
        const decoded = decodeRecordBatch(batch);
        for (const record of decoded.records) {
          const at = Number(decoded.baseOffset) + record.offsetDelta;
          if (at < offset) continue;
          assert.equal(at, expectedNext, `partition ${partition}: offsets are dense (${at} after ${expectedNext - 1})`);
          expectedNext++;
          found.set(record.value!.toString(), { partition, offset: at });
        }
        offset = Number(decoded.baseOffset) + decoded.lastOffsetDelta + 1;
      }
    }
    assert.equal(Number((await client.request<FetchResponse>(1, 11, { replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, topics: [{ topic: "crash", partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: BigInt(offset), logStartOffset: -1n, partitionMaxBytes: 1 }] }], forgottenTopicsData: [], rackId: "" })).responses[0].partitions[0].highWatermark), expectedNext);
  }
  client.close();
  const lost: string[] = [];
  const moved: string[] = [];
  for (const [value, at] of acked) {
    const where = found.get(value);
    if (!where) lost.push(value);
    else if (where.partition !== at.partition || where.offset !== at.offset) moved.push(`${value}: acked ${at.partition}@${at.offset}, found ${where.partition}@${where.offset}`);
  }
  assert.deepEqual(lost.slice(0, 10), [], `${lost.length} acknowledged records lost`);
  assert.deepEqual(moved.slice(0, 10), [], `${moved.length} acknowledged records at another offset`);
});
