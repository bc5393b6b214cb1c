// What the Kafka front-end needs from the rest of the node. The handlers translate the wire
// protocol to these calls and back; the implementation (kafka/cluster.ts) sits on the runtime's
// Paxos groups. Keeping the seam explicit lets the handlers be read as a protocol description
// and keeps every Paxos detail out of them.
import type { GroupCoordinator } from "./group-coordinator.js";
import type { TopicInfo, NodeInfo } from "../meta/metadata.js";

export interface PartitionLeaderInfo {
  /** -1 when the partition has no elected leader right now. */
  leaderId: number;
  leaderEpoch: number;
  replicas: number[];
  /** Replicas known to be caught up (for Metadata's isr field). */
  isr: number[];
}

export interface ProduceOutcome {
  errorCode: number;
  baseOffset: number;
  /** -1 unless the topic uses LogAppendTime. */
  logAppendTimeMs: number;
  logStartOffset: number;
  errorMessage?: string;
}

export interface FetchPartitionRequest {
  topic: string;
  partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
  currentLeaderEpoch: number;
}

export interface FetchPartitionResult {
  errorCode: number;
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
  /** Whole record batches, as stored (slices of what storage read). */
  records: Buffer[];
  recordsBytes: number;
}

export interface ListOffsetResult {
  errorCode: number;
  offset: number;
  timestamp: number;
  leaderEpoch: number;
}

export interface TopicCreation {
  name: string;
  /** -1: the broker default. */
  numPartitions: number;
  /** -1: the broker default. */
  replicationFactor: number;
  /** Explicit assignment, partition → replicas (empty when not given). */
  assignments: Array<{ partitionIndex: number; brokerIds: number[] }>;
  configs: Record<string, string | null>;
}

export interface AdminOutcome {
  errorCode: number;
  errorMessage?: string | null;
}

export interface ClusterView {
  readonly nodeId: number;
  readonly clusterId: string;
  /** The node that leads the metadata group (Kafka's "controller"), or -1. */
  controllerId(): number;
  nodes(): NodeInfo[];
  /** host:port clients use to reach a node's Kafka listener. */
  advertised(nodeId: number): { host: string; port: number } | undefined;
  topics(): TopicInfo[];
  topic(name: string): TopicInfo | undefined;
  topicById(id: string): TopicInfo | undefined;
  partitionLeader(topic: string, partition: number): PartitionLeaderInfo | undefined;
}

export interface KafkaBackend {
  readonly cluster: ClusterView;
  /** Settings the handlers need. */
  readonly settings: {
    autoCreateTopics: boolean;
    defaultPartitions: number;
    defaultReplicationFactor: number;
    /** SASL PLAIN users; empty means authentication is not required. */
    saslPlainUsers: ReadonlyMap<string, string>;
  };
  /** Static broker configuration, as DescribeConfigs reports it for BROKER resources. */
  brokerConfigs(): Record<string, string>;
  /** Waits until the metadata group has applied everything committed (a linearizable read). */
  syncMetadata(): Promise<boolean>;

  produce(topic: string, partition: number, records: Buffer, options: { acks: number; timeoutMs: number }): Promise<ProduceOutcome>;
  fetch(partition: FetchPartitionRequest, isolationLevel: number): Promise<FetchPartitionResult>;
  /** Resolves when any partition's high watermark exceeds the given one, or after timeoutMs (long poll). */
  waitForData(partitions: ReadonlyArray<{ topic: string; partition: number; highWatermark: number }>, timeoutMs: number): Promise<void>;
  listOffset(topic: string, partition: number, timestamp: number, isolationLevel: number): Promise<ListOffsetResult>;
  deleteRecords(topic: string, partition: number, offset: number, timeoutMs: number): Promise<{ errorCode: number; lowWatermark: number }>;

  createTopics(topics: TopicCreation[], validateOnly: boolean): Promise<AdminOutcome[]>;
  deleteTopics(names: string[]): Promise<AdminOutcome[]>;
  createPartitions(topic: string, count: number, assignments: number[][] | null, validateOnly: boolean): Promise<AdminOutcome>;
  alterTopicConfigs(topic: string, set: Record<string, string>, remove: string[], replace: boolean, validateOnly: boolean): Promise<AdminOutcome>;

  allocateProducerId(): Promise<{ errorCode: number; producerId: number; producerEpoch: number }>;

  /** The node coordinating consumer groups (the metadata group's leader), or -1. */
  groupCoordinatorNode(): number;
  /** The local coordinator when this node is the coordinator, else undefined. */
  groupCoordinator(): GroupCoordinator | undefined;
  commitOffsets(groupId: string, offsets: Array<{ topic: string; partition: number; offset: number; leaderEpoch: number; metadata: string | null }>): Promise<number>;
  committedOffset(groupId: string, topic: string, partition: number): { offset: number; leaderEpoch: number; metadata: string | null } | undefined;
  deleteGroups(groupIds: string[]): Promise<Map<string, number>>;
}
