// OffsetCommit (8), v2–7: validated against the group's generation by the coordinator (simple
// consumers commit with generation -1 into an empty group), then written through the metadata
// Paxos group; the client hears "ok" only once the commit is chosen and durable.
import type { OffsetCommitRequest } from "../protocol/generated/offset-commit-request.js";
import type { OffsetCommitResponse } from "../protocol/generated/offset-commit-response.js";
import { ErrorCode } from "../protocol/generated/errors.js";
import type { HandlerContext } from "./index.js";

/** offset.metadata.max.bytes (Kafka default 4096). */
export const OFFSET_METADATA_BYTES_MAX = 4096;

export async function handleOffsetCommit(context: HandlerContext, request: OffsetCommitRequest): Promise<OffsetCommitResponse> {
  const { backend } = context;
  const respond = (codeFor: (topic: string, partition: number) => number): OffsetCommitResponse => ({
    throttleTimeMs: context.apiVersion >= 3 ? 0 : undefined,
    topics: request.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: codeFor(t.name, p.partitionIndex) })) })),
  });
  const coordinator = backend.groupCoordinator();
  if (!coordinator) return respond(() => ErrorCode.NOT_COORDINATOR);
  if (request.groupId === "") return respond(() => ErrorCode.INVALID_GROUP_ID);
  const groupError = coordinator.validateCommit(request.groupId, request.generationIdOrMemberEpoch ?? -1, request.memberId ?? "", request.groupInstanceId ?? null);
  if (groupError !== ErrorCode.NONE) return respond(() => groupError);
  const perPartition = new Map<string, number>();
  const offsets: Array<{ topic: string; partition: number; offset: number; leaderEpoch: number; metadata: string | null }> = [];
  for (const t of request.topics) {
    const topic = backend.cluster.topic(t.name);
    for (const p of t.partitions) {
      const key = `${t.name}\u0000${p.partitionIndex}`;
      if (!topic || p.partitionIndex < 0 || p.partitionIndex >= topic.partitions.length) perPartition.set(key, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      else if (p.committedMetadata !== null && Buffer.byteLength(p.committedMetadata) > OFFSET_METADATA_BYTES_MAX) perPartition.set(key, ErrorCode.OFFSET_METADATA_TOO_LARGE);
      else offsets.push({ topic: t.name, partition: p.partitionIndex, offset: Number(p.committedOffset), leaderEpoch: p.committedLeaderEpoch ?? -1, metadata: p.committedMetadata });
    }
  }
  const commitError = offsets.length > 0 ? await backend.commitOffsets(request.groupId, offsets) : ErrorCode.NONE;
  return respond((topic, partition) => perPartition.get(`${topic}\u0000${partition}`) ?? commitError);
}
