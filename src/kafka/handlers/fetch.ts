// Fetch (1), v4–11: long poll. Partitions are read until minBytes is met or maxWaitMs passes;
// waiting is woken by appends (backend.waitForData), never by a polling loop. Whole batches are
// returned even when fetchOffset is inside one, and at least one batch even if it exceeds the
// byte limits (Kafka's KIP-74 rule), so a consumer can always make progress. No fetch sessions
// (KIP-227): we answer sessionId 0, which tells clients to keep sending full requests.
import type { FetchRequest } from "../protocol/generated/fetch-request.js";
import type { FetchResponse, FetchableTopicResponse, PartitionData } from "../protocol/generated/fetch-response.js";
import { ErrorCode } from "../protocol/generated/errors.js";
import type { FetchPartitionResult } from "../backend.js";
import type { HandlerContext } from "./index.js";
import { BufferList } from "../protocol/writer.js";

/** Upper bound on how long a fetch may park, whatever the client asks (Kafka clients send ≤ 30 s). */
const FETCH_WAIT_MS_MAX = 60_000;

interface Wanted {
  topic: string;
  partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
  currentLeaderEpoch: number;
}

export async function handleFetch(context: HandlerContext, request: FetchRequest): Promise<FetchResponse> {
  const { backend } = context;
  const wanted: Wanted[] = [];
  for (const topic of request.topics) {
    const name = topic.topic ?? backend.cluster.topicById(topic.topicId ?? "")?.name ?? "";
    for (const p of topic.partitions) {
      wanted.push({ topic: name, partition: p.partition, fetchOffset: Number(p.fetchOffset), partitionMaxBytes: p.partitionMaxBytes, currentLeaderEpoch: p.currentLeaderEpoch ?? -1 });
    }
  }
  const maxBytes = request.maxBytes ?? 0x7fffffff;
  const isolationLevel = request.isolationLevel ?? 0;
  const deadline = context.nowMs() + Math.min(Math.max(0, request.maxWaitMs), FETCH_WAIT_MS_MAX);
  let results = await readAll(context, wanted, maxBytes, isolationLevel);
  while (true) {
    const bytes = results.reduce((sum, r) => sum + r.recordsBytes, 0);
    const anyError = results.some((r) => r.errorCode !== ErrorCode.NONE);
    const remainingMs = deadline - context.nowMs();
    if (bytes >= Math.max(1, request.minBytes) || anyError || remainingMs <= 0 || context.connection.isClosed) break;
    // Park until some partition's high watermark moves past what we just saw.
    await backend.waitForData(
      wanted.map((w, i) => ({ topic: w.topic, partition: w.partition, highWatermark: results[i].highWatermark })),
      remainingMs,
    );
    results = await readAll(context, wanted, maxBytes, isolationLevel);
  }
  return buildResponse(context, wanted, results);
}

async function readAll(context: HandlerContext, wanted: Wanted[], maxBytes: number, isolationLevel: number): Promise<FetchPartitionResult[]> {
  // Partitions are read in request order against one shared byte budget; once it is spent, the
  // rest return no records (but still their watermarks), as Kafka does.
  const results: FetchPartitionResult[] = [];
  let budget = maxBytes;
  for (const w of wanted) {
    const result = await context.backend.fetch(
      { topic: w.topic, partition: w.partition, fetchOffset: w.fetchOffset, partitionMaxBytes: Math.min(w.partitionMaxBytes, Math.max(0, budget)), currentLeaderEpoch: w.currentLeaderEpoch },
      isolationLevel,
    );
    if (budget <= 0 && results.some((r) => r.recordsBytes > 0)) {
      results.push({ ...result, records: [], recordsBytes: 0 });
      continue;
    }
    budget -= result.recordsBytes;
    results.push(result);
  }
  return results;
}

function buildResponse(context: HandlerContext, wanted: Wanted[], results: FetchPartitionResult[]): FetchResponse {
  const v = context.apiVersion;
  const topics: FetchableTopicResponse[] = [];
  const byTopic = new Map<string, PartitionData[]>();
  wanted.forEach((w, i) => {
    const r = results[i];
    let list = byTopic.get(w.topic);
    if (!list) {
      list = [];
      byTopic.set(w.topic, list);
      topics.push({ topic: w.topic, partitions: list });
    }
    const data: PartitionData = {
      partitionIndex: w.partition,
      errorCode: r.errorCode,
      highWatermark: BigInt(r.highWatermark),
      lastStableOffset: BigInt(r.lastStableOffset),
      logStartOffset: BigInt(r.logStartOffset),
      abortedTransactions: [],
      // Batch slices from several storage reads, encoded as one value without concatenating.
      records: r.records.length === 1 ? r.records[0] : (new BufferList(r.records) as unknown as Buffer),
    };
    if (v < 5) delete data.logStartOffset;
    if (v >= 11) data.preferredReadReplica = -1;
    list.push(data);
  });
  const response: FetchResponse = { throttleTimeMs: 0, responses: topics };
  if (v >= 7) {
    response.errorCode = ErrorCode.NONE;
    response.sessionId = 0;
  }
  return response;
}
