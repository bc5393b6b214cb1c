// CreateTopics (19), v0–4: names, partition counts, replication factors, explicit assignments and
// configs are validated here with Kafka's error codes; the topic is created through the metadata
// group (placement by the backend), and the answer waits for it to be chosen.
import type { CreateTopicsRequest } from "../protocol/generated/create-topics-request.js";
import type { CreateTopicsResponse, CreatableTopicResult } from "../protocol/generated/create-topics-response.js";
import { ErrorCode } from "../protocol/generated/errors.js";
import { validateTopicConfig, validateTopicName } from "../topic-config.js";
import type { TopicCreation } from "../backend.js";
import type { HandlerContext } from "./index.js";

/** Partitions per topic at most (bounds the groups one request can create). */
export const TOPIC_PARTITIONS_MAX = 10_000;

export function validateCreation(context: HandlerContext, topic: TopicCreation): { errorCode: number; errorMessage: string } | undefined {
  const nameError = validateTopicName(topic.name);
  if (nameError) return { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: nameError };
  const nodes = context.backend.cluster.nodes().length;
  if (topic.assignments.length > 0) {
    if (topic.numPartitions !== -1 || topic.replicationFactor !== -1) {
      return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "numPartitions and replicationFactor must be -1 with an explicit assignment" };
    }
    const known = new Set(context.backend.cluster.nodes().map((n) => n.nodeId));
    for (const a of topic.assignments) {
      if (a.brokerIds.length === 0 || new Set(a.brokerIds).size !== a.brokerIds.length || a.brokerIds.some((id) => !known.has(id))) {
        return { errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: `invalid replicas ${JSON.stringify(a.brokerIds)} for partition ${a.partitionIndex}` };
      }
    }
  } else {
    if (topic.numPartitions !== -1 && (topic.numPartitions < 1 || topic.numPartitions > TOPIC_PARTITIONS_MAX)) {
      return { errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: `number of partitions must be between 1 and ${TOPIC_PARTITIONS_MAX}` };
    }
    if (topic.replicationFactor !== -1 && (topic.replicationFactor < 1 || topic.replicationFactor > nodes)) {
      return { errorCode: ErrorCode.INVALID_REPLICATION_FACTOR, errorMessage: `replication factor must be between 1 and ${nodes} (the number of nodes)` };
    }
  }
  for (const [name, value] of Object.entries(topic.configs)) {
    const error = validateTopicConfig(name, value);
    if (error) return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: error };
  }
  if (context.backend.cluster.topic(topic.name)) return { errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, errorMessage: `topic ${topic.name} already exists` };
  return undefined;
}

export async function handleCreateTopics(context: HandlerContext, request: CreateTopicsRequest): Promise<CreateTopicsResponse> {
  const v = context.apiVersion;
  const results: CreatableTopicResult[] = [];
  const toCreate: TopicCreation[] = [];
  const seen = new Map<string, number>();
  for (const t of request.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
  for (const t of request.topics) {
    const creation: TopicCreation = {
      name: t.name,
      numPartitions: t.numPartitions,
      replicationFactor: t.replicationFactor,
      assignments: t.assignments.map((a) => ({ partitionIndex: a.partitionIndex, brokerIds: a.brokerIds })),
      configs: Object.fromEntries(t.configs.map((c) => [c.name, c.value])),
    };
    const invalid = (seen.get(t.name) ?? 0) > 1 ? { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `topic ${t.name} appears more than once` } : validateCreation(context, creation);
    results.push({ name: t.name, errorCode: invalid?.errorCode ?? ErrorCode.NONE, errorMessage: invalid?.errorMessage ?? null });
    if (!invalid) toCreate.push(creation);
  }
  if (toCreate.length > 0) {
    const outcomes = await context.backend.createTopics(toCreate, request.validateOnly ?? false);
    toCreate.forEach((creation, i) => {
      const result = results.find((r) => r.name === creation.name)!;
      result.errorCode = outcomes[i].errorCode;
      result.errorMessage = outcomes[i].errorMessage ?? null;
    });
  }
  if (v < 1) for (const r of results) delete r.errorMessage;
  const response: CreateTopicsResponse = { topics: results };
  if (v >= 2) response.throttleTimeMs = 0;
  return response;
}
