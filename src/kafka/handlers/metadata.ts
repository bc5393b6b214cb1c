// Metadata (3), v0–6: brokers, controller, and each topic's partitions with leader and replicas.
// topics = null (v1+) or an empty list (v0) means every topic. Unknown topics are created when
// auto-creation is on (always allowed for v0–3, per request flag from v4), and reported with
// LEADER_NOT_AVAILABLE until their partitions have leaders, as Kafka does.
import type { MetadataRequest } from "../protocol/generated/metadata-request.js";
import type { MetadataResponse, MetadataResponseTopic } from "../protocol/generated/metadata-response.js";
import { ErrorCode } from "../protocol/generated/errors.js";
import { validateTopicName } from "../topic-config.js";
import type { HandlerContext } from "./index.js";

export async function handleMetadata(context: HandlerContext, request: MetadataRequest): Promise<MetadataResponse> {
  const { backend } = context;
  const v = context.apiVersion;
  const cluster = backend.cluster;
  const all = request.topics === null || (v === 0 && request.topics.length === 0);
  let names: string[] = all ? cluster.topics().map((t) => t.name) : request.topics!.map((t) => t.name ?? "");
  const allowAutoCreate = backend.settings.autoCreateTopics && (v < 4 || request.allowAutoTopicCreation !== false);
  if (!all && allowAutoCreate) {
    const missing = names.filter((n) => cluster.topic(n) === undefined && validateTopicName(n) === undefined);
    if (missing.length > 0) {
      await backend.createTopics(
        [...new Set(missing)].map((name) => ({ name, numPartitions: -1, replicationFactor: -1, assignments: [], configs: {} })),
        false,
      );
    }
  }
  names = [...new Set(names)];
  const topics: MetadataResponseTopic[] = names.map((name) => {
    const topic = cluster.topic(name);
    if (!topic) {
      const errorCode = validateTopicName(name) === undefined ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.INVALID_TOPIC_EXCEPTION;
      return { errorCode, name, isInternal: false, partitions: [] };
    }
    let topicError: number = ErrorCode.NONE;
    const partitions = topic.partitions.map((replicas, index) => {
      const leader = cluster.partitionLeader(name, index);
      const leaderId = leader?.leaderId ?? -1;
      const errorCode = leaderId < 0 ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE;
      if (errorCode !== ErrorCode.NONE) topicError = ErrorCode.LEADER_NOT_AVAILABLE;
      const partition = {
        errorCode,
        partitionIndex: index,
        leaderId,
        leaderEpoch: leader?.leaderEpoch ?? -1,
        replicaNodes: replicas,
        isrNodes: leader?.isr ?? replicas,
        offlineReplicas: [] as number[],
      };
      if (v < 7) delete (partition as { leaderEpoch?: number }).leaderEpoch;
      if (v < 5) delete (partition as { offlineReplicas?: number[] }).offlineReplicas;
      return partition;
    });
    // A freshly created topic whose leaders are not elected yet: the client retries.
    return { errorCode: topicError === ErrorCode.LEADER_NOT_AVAILABLE && partitions.every((p) => p.leaderId < 0) ? topicError : ErrorCode.NONE, name, isInternal: false, partitions };
  });
  const brokers = cluster.nodes().flatMap((node) => {
    const address = cluster.advertised(node.nodeId);
    if (!address) return [];
    const broker: { nodeId: number; host: string; port: number; rack?: string | null } = { nodeId: node.nodeId, host: address.host, port: address.port, rack: node.rack };
    if (v < 1) delete broker.rack;
    return [broker];
  });
  const response: MetadataResponse = { brokers, topics };
  // A controller this node does not know the address of yet is not named (clients would fail to find it).
  const controllerId = cluster.controllerId();
  if (v >= 1) response.controllerId = brokers.some((b) => b.nodeId === controllerId) ? controllerId : -1;
  if (v >= 2) response.clusterId = cluster.clusterId;
  if (v >= 3) response.throttleTimeMs = 0;
  if (v < 1) for (const t of topics) delete t.isInternal;
  return response;
}
