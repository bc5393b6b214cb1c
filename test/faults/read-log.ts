// Reads a partition's complete contents (from its log start) through the Kafka protocol, trying
// each node until one answers as the leader: the "final log" of the fault tests' checker.
import { RawKafkaClient } from "../kafka/raw-client.js";
import { splitBatches, decodeRecordBatch } from "../../src/kafka/records/record-batch.js";
import type { FetchResponse } from "../../src/kafka/protocol/generated/fetch-response.js";
import type { LogRecord } from "../../src/sim/log-checker.js";

export async function readPartitionLog(bootstraps: string[], topic: string, partition: number, timeoutMs = 60_000): Promise<LogRecord[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const bootstrap of bootstraps) {
      let client: RawKafkaClient | undefined;
      try {
        client = await RawKafkaClient.connect(bootstrap);
        const records = await readFrom(client, topic, partition);
        if (records) return records;
      } catch {
        // node down or not the leader: try the next one
      } finally {
        client?.close();
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`could not read ${topic}/${partition} from any node`);
}

async function readFrom(client: RawKafkaClient, topic: string, partition: number): Promise<LogRecord[] | undefined> {
  const fetch = (offset: number) =>
    client.request<FetchResponse>(1, 11, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 16 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: BigInt(offset), logStartOffset: -1n, partitionMaxBytes: 8 << 20 }] }],
      forgottenTopicsData: [],
      rackId: "",
    });
  let first = (await fetch(0)).responses[0].partitions[0];
  // OFFSET_OUT_OF_RANGE: records were deleted; start at the log start the response reports.
  if (first.errorCode === 1) first = (await fetch(Number(first.logStartOffset ?? 0n))).responses[0].partitions[0];
  if (first.errorCode !== 0) return undefined;
  const out: LogRecord[] = [];
  let data = first;
  let offset = Number(first.logStartOffset ?? 0n);
  for (;;) {
    const records = data.records ?? Buffer.alloc(0);
    let progressed = false;
    for (const batch of splitBatches(records).batches) {
      const decoded = decodeRecordBatch(batch);
      for (const record of decoded.records) {
        const at = Number(decoded.baseOffset) + record.offsetDelta;
        if (at < offset) continue;
        out.push({ offset: at, value: record.value?.toString() ?? "" });
      }
      offset = Number(decoded.baseOffset) + decoded.lastOffsetDelta + 1;
      progressed = true;
    }
    if (!progressed || offset >= Number(data.highWatermark)) break;
    data = (await fetch(offset)).responses[0].partitions[0];
    if (data.errorCode !== 0) return undefined;
  }
  return out;
}
