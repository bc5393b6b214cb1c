// OffsetFetch (9), v1–5: committed offsets from the metadata state (after a read barrier, so a
// coordinator that just took over answers with every commit chosen before). No commit → -1.
import type { OffsetFetchRequest } from "../protocol/generated/offset-fetch-request.js";
import type { OffsetFetchResponse, OffsetFetchResponseTopic } from "../protocol/generated/offset-fetch-response.js";
import { ErrorCode } from "../protocol/generated/errors.js";
import type { HandlerContext } from "./index.js";

export async function handleOffsetFetch(context: HandlerContext, request: OffsetFetchRequest): Promise<OffsetFetchResponse> {
  const { backend } = context;
  const v = context.apiVersion;
  const groupId = request.groupId ?? "";
  const fail = (errorCode: number): OffsetFetchResponse => {
    const topics: OffsetFetchResponseTopic[] = (request.topics ?? []).map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1n, committedLeaderEpoch: v >= 5 ? -1 : undefined, metadata: "", errorCode: v >= 2 ? ErrorCode.NONE : errorCode })),
    }));
    return { throttleTimeMs: v >= 3 ? 0 : undefined, topics, errorCode: v >= 2 ? errorCode : undefined };
  };
  if (!backend.groupCoordinator()) return fail(ErrorCode.NOT_COORDINATOR);
  if (!(await backend.syncMetadata())) return fail(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  let wanted: Array<{ name: string; partitionIndexes: number[] }>;
  if (request.topics === null || request.topics === undefined) {
    // v2+: null means every partition the group has committed.
    const byTopic = new Map<string, number[]>();
    for (const topic of backend.cluster.topics()) {
      topic.partitions.forEach((_, index) => {
        if (backend.committedOffset(groupId, topic.name, index)) byTopic.set(topic.name, [...(byTopic.get(topic.name) ?? []), index]);
      });
    }
    wanted = [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes }));
  } else {
    wanted = request.topics;
  }
  const topics: OffsetFetchResponseTopic[] = wanted.map((t) => ({
    name: t.name,
    partitions: t.partitionIndexes.map((partitionIndex) => {
      const committed = backend.committedOffset(groupId, t.name, partitionIndex);
      return {
        partitionIndex,
        committedOffset: BigInt(committed?.offset ?? -1),
        committedLeaderEpoch: v >= 5 ? (committed?.leaderEpoch ?? -1) : undefined,
        metadata: committed?.metadata ?? "",
        errorCode: ErrorCode.NONE,
      };
    }),
  }));
  return { throttleTimeMs: v >= 3 ? 0 : undefined, topics, errorCode: v >= 2 ? ErrorCode.NONE : undefined };
}
