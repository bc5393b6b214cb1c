// CreatePartitions (37), v0–1: grows a topic to `count` partitions (never shrinks).
import type { CreatePartitionsRequest } from "../protocol/generated/create-partitions-request.js";
import type { CreatePartitionsResponse } from "../protocol/generated/create-partitions-response.js";
import { ErrorCode } from "../protocol/generated/errors.js";
import { TOPIC_PARTITIONS_MAX } from "./create-topics.js";
import type { HandlerContext } from "./index.js";

export async function handleCreatePartitions(context: HandlerContext, request: CreatePartitionsRequest): Promise<CreatePartitionsResponse> {
  const results = await Promise.all(
    request.topics.map(async (t) => {
      const topic = context.backend.cluster.topic(t.name);
      if (!topic) return { name: t.name, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `unknown topic ${t.name}` };
      if (t.count <= topic.partitions.length) {
        return { name: t.name, errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: `topic has ${topic.partitions.length} partitions; the new count must be larger` };
      }
      if (t.count > TOPIC_PARTITIONS_MAX) return { name: t.name, errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: `at most ${TOPIC_PARTITIONS_MAX} partitions` };
      if (t.assignments !== null && t.assignments.length !== t.count - topic.partitions.length) {
        return { name: t.name, errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: "one assignment per new partition" };
      }
      const outcome = await context.backend.createPartitions(t.name, t.count, t.assignments?.map((a) => a.brokerIds) ?? null, request.validateOnly);
      return { name: t.name, errorCode: outcome.errorCode, errorMessage: outcome.errorMessage ?? null };
    }),
  );
  return { throttleTimeMs: 0, results };
}
