// The Kafka backend on the node runtime: the metadata group (topics, configs, groups, offsets,
// producer ids), one group per local partition, and the consumer-group coordinator that runs on
// the metadata group's leader. Handlers (src/kafka/handlers/) call only the KafkaBackend seam.
import { randomBytes } from "node:crypto";
import type { Logger } from "../util/logger.js";
import type { Clock } from "../util/clock.js";
import type { NodeRuntime } from "../node/runtime.js";
import type { ReplicatedGroup } from "../node/group.js";
import { MetadataState, encodeMetaCommand, type MetaCommand, type MetaResult, type NodeInfo, type TopicInfo } from "../meta/metadata.js";
import { PartitionState, type PartitionResult } from "../log/partition.js";
import { ErrorCode } from "./protocol/generated/errors.js";
import { DEFAULT_COORDINATOR_CONFIG, GroupCoordinator, GroupError, type CoordinatorConfig } from "./group-coordinator.js";
import { effectiveNumber, effectiveTopicConfig, placeReplicas } from "./topic-config.js";
import { KafkaPartition, partitionEntryIndexFields } from "./partition.js";
import type {
  AdminOutcome,
  ClusterView,
  FetchPartitionRequest,
  FetchPartitionResult,
  KafkaBackend,
  ListOffsetResult,
  PartitionLeaderInfo,
  ProduceOutcome,
  TopicCreation,
} from "./backend.js";

export const META_GROUP_ID = "meta";

export interface KafkaClusterOptions {
  runtime: NodeRuntime;
  clock: Clock;
  logger: Logger;
  clusterId: string;
  /** Nodes that vote in the metadata group (the first 3 or 5 nodes; [this node] alone). */
  metaVoters: readonly number[];
  /** This node's advertised Kafka address. */
  self: Omit<NodeInfo, "nodeId">;
  autoCreateTopics: boolean;
  defaultPartitions: number;
  /** -1: min(3, nodes). */
  defaultReplicationFactor: number;
  saslPlainUsers: ReadonlyMap<string, string>;
  coordinator?: Partial<CoordinatorConfig>;
  /** How often retention runs on partitions this node leads (default 30 s). */
  retentionCheckMs?: number;
  /** Producer ids taken from the metadata group at a time. */
  producerIdBlock?: number;
}

function partitionGroupId(topic: TopicInfo, partition: number): string {
  return `p-${topic.id}-${partition}`;
}

/** Waits until `predicate` holds or `timeoutMs` passes; polls on the applied-slot hook cheaply. */
async function waitUntil(predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

export class KafkaCluster implements KafkaBackend {
  readonly cluster: ClusterView;
  readonly settings: KafkaBackend["settings"];
  private readonly meta = new MetadataState();
  private metaGroup!: ReplicatedGroup<MetaResult>;
  private readonly partitions = new Map<string, KafkaPartition>();
  private reconciling: Promise<void> | undefined;
  private reconcileAgain = false;
  private coordinator: GroupCoordinator | undefined;
  private coordinatorTimer: NodeJS.Timeout | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private producerIds = { next: 0, end: 0 };
  private closed = false;
  private readonly logger: Logger;
  private readonly self: Omit<NodeInfo, "nodeId">;

  constructor(private readonly options: KafkaClusterOptions) {
    this.self = { ...options.self };
    this.logger = options.logger.child({ component: "kafka-cluster" });
    this.settings = {
      autoCreateTopics: options.autoCreateTopics,
      defaultPartitions: options.defaultPartitions,
      defaultReplicationFactor: options.defaultReplicationFactor,
      saslPlainUsers: options.saslPlainUsers,
    };
    this.cluster = {
      nodeId: options.runtime.nodeId,
      clusterId: options.clusterId,
      controllerId: () => this.metaGroup?.leaderId ?? -1,
      nodes: () => [...this.meta.nodes.values()].sort((a, b) => a.nodeId - b.nodeId),
      advertised: (nodeId) => {
        const node = this.meta.nodes.get(nodeId);
        return node ? { host: node.host, port: node.kafkaPort } : undefined;
      },
      topics: () => [...this.meta.topics.values()],
      topic: (name) => this.meta.topics.get(name),
      topicById: (id) => [...this.meta.topics.values()].find((t) => t.id === id),
      partitionLeader: (topic, partition) => this.partitionLeader(topic, partition),
    };
  }

  /** The Kafka port clients are told (known only once the listener is bound); call before start(). */
  setAdvertisedKafkaPort(port: number): void {
    this.self.kafkaPort = port;
  }

  async start(): Promise<void> {
    const runtime = this.options.runtime;
    this.metaGroup = await runtime.openGroup<MetaResult>({
      groupId: META_GROUP_ID,
      initialVoters: this.options.metaVoters,
      stateMachine: this.meta,
      snapshotEveryBytes: 16 * 2 ** 20,
      compactBehindSnapshots: true,
    });
    this.metaGroup.onApplied(() => this.scheduleReconcile());
    this.metaGroup.onRoleChange(() => this.onMetaRoleChange());
    this.coordinatorTimer = setInterval(() => this.coordinator?.tick(this.options.clock.wallMs()), 100);
    this.retentionTimer = setInterval(() => void this.enforceRetention(), this.options.retentionCheckMs ?? 30_000);
    // Register (or refresh) this node's address once the metadata group has a leader here or elsewhere.
    void this.registerSelf();
    this.scheduleReconcile();
  }

  private async registerSelf(): Promise<void> {
    const node: NodeInfo = { nodeId: this.options.runtime.nodeId, ...this.self };
    for (let attempt = 0; !this.closed; attempt++) {
      const current = this.meta.nodes.get(node.nodeId);
      if (current && JSON.stringify(current) === JSON.stringify(node)) return;
      if (this.metaGroup.isLeaderReady) {
        const outcome = await this.metaGroup.propose(encodeMetaCommand({ op: "registerNode", node }));
        if (outcome.ok) return;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 10 * 2 ** attempt)));
    }
  }

  /**
   * Waits until this node is registered, the metadata group has a leader, every partition the
   * metadata assigns here is open, and those this node alone replicates are ready to serve.
   */
  async ready(timeoutMs: number): Promise<boolean> {
    const self = this.options.runtime.nodeId;
    return waitUntil(() => {
      if (!this.meta.nodes.has(self) || this.metaGroup.leaderId === undefined || this.reconciling) return false;
      for (const topic of this.meta.topics.values()) {
        for (let p = 0; p < topic.partitions.length; p++) {
          const replicas = topic.partitions[p];
          if (!replicas.includes(self)) continue;
          const handle = this.partitions.get(partitionGroupId(topic, p));
          if (!handle) return false;
          if (replicas.length === 1 && !handle.group.isLeaderReady) return false;
        }
      }
      return true;
    }, timeoutMs);
  }

  private onMetaRoleChange(): void {
    if (this.metaGroup.role === "leader") {
      void waitUntil(() => this.metaGroup.isLeaderReady || this.metaGroup.role !== "leader", 30_000).then(() => {
        if (this.metaGroup.role !== "leader" || this.coordinator) return;
        const coordinator = new GroupCoordinator((group) => this.persistGroup(group), { ...DEFAULT_COORDINATOR_CONFIG, ...this.options.coordinator });
        coordinator.load(this.meta.groups.values(), this.options.clock.wallMs());
        this.coordinator = coordinator;
        this.logger.info({ groups: this.meta.groups.size }, "group coordinator active");
      });
    } else if (this.coordinator) {
      this.coordinator.shutdown();
      this.coordinator = undefined;
      this.logger.info("group coordinator moved away");
    }
  }

  private async persistGroup(group: Parameters<ConstructorParameters<typeof GroupCoordinator>[0]>[0]): Promise<boolean> {
    const outcome = await this.metaGroup.propose(encodeMetaCommand({ op: "putGroup", group: { ...group, updatedMs: this.options.clock.wallMs() } }));
    return outcome.ok && outcome.result.ok;
  }

  private async proposeMeta(command: MetaCommand): Promise<MetaResult | undefined> {
    if (!this.metaGroup.isLeaderReady) {
      // Followers do not forward yet (the cluster issue adds it): the caller answers NOT_CONTROLLER-like errors.
      return undefined;
    }
    const outcome = await this.metaGroup.propose(encodeMetaCommand(command));
    return outcome.ok ? outcome.result : undefined;
  }

  // ---- partition groups: open what the metadata assigns to this node, close what it no longer does

  private scheduleReconcile(): void {
    if (this.reconciling) {
      this.reconcileAgain = true;
      return;
    }
    this.reconciling = this.reconcile().finally(() => {
      this.reconciling = undefined;
      if (this.reconcileAgain && !this.closed) {
        this.reconcileAgain = false;
        this.scheduleReconcile();
      }
    });
  }

  private async reconcile(): Promise<void> {
    const self = this.options.runtime.nodeId;
    const wanted = new Map<string, { topic: TopicInfo; partition: number }>();
    for (const topic of this.meta.topics.values()) {
      topic.partitions.forEach((replicas, partition) => {
        if (replicas.includes(self)) wanted.set(partitionGroupId(topic, partition), { topic, partition });
      });
    }
    for (const [groupId, { topic, partition }] of wanted) {
      const existing = this.partitions.get(groupId);
      if (existing) {
        existing.config = this.partitionConfig(topic);
        continue;
      }
      if (this.closed) return;
      try {
        const state = new PartitionState();
        const group = await this.options.runtime.openGroup<PartitionResult>({
          groupId,
          initialVoters: topic.partitions[partition],
          stateMachine: state,
          entryIndexFields: partitionEntryIndexFields,
          snapshotEveryBytes: 32 * 2 ** 20,
          compactBehindSnapshots: false,
          segmentBytesMax: Math.min(effectiveNumber(topic.configs, "segment.bytes"), 2 ** 30),
        });
        const handle = new KafkaPartition(topic.name, partition, group, state, this.partitionConfig(topic), this.logger, () => this.options.clock.wallMs());
        this.partitions.set(groupId, handle);
      } catch (error) {
        this.logger.error({ topic: topic.name, partition, err: error }, "could not open partition group");
      }
    }
    for (const [groupId, handle] of this.partitions) {
      if (wanted.has(groupId)) continue;
      this.partitions.delete(groupId);
      this.logger.info({ topic: handle.topic, partition: handle.partition }, "partition removed from this node; deleting its data");
      await this.options.runtime.closeGroup(groupId, { deleteData: true });
    }
  }

  private partitionConfig(topic: TopicInfo): KafkaPartition["config"] {
    return {
      maxMessageBytes: effectiveNumber(topic.configs, "max.message.bytes"),
      logAppendTime: effectiveTopicConfig(topic.configs, "message.timestamp.type") === "LogAppendTime",
    };
  }

  private localPartition(topicName: string, partition: number): KafkaPartition | undefined {
    const topic = this.meta.topics.get(topicName);
    if (!topic) return undefined;
    return this.partitions.get(partitionGroupId(topic, partition));
  }

  private partitionLeader(topicName: string, partition: number): PartitionLeaderInfo | undefined {
    const topic = this.meta.topics.get(topicName);
    const replicas = topic?.partitions[partition];
    if (!topic || !replicas) return undefined;
    const local = this.partitions.get(partitionGroupId(topic, partition));
    if (local) {
      const leaderReady = local.group.isLeaderReady;
      const leaderId = local.group.leaderId;
      // Report ourselves only once ready to serve; a remote leader as soon as it is known.
      const reported = leaderId === this.options.runtime.nodeId ? (leaderReady ? leaderId : -1) : (leaderId ?? -1);
      return { leaderId: reported, leaderEpoch: local.leaderEpoch, replicas, isr: replicas };
    }
    // Assigned here but not open yet: no leader to report. Elsewhere: the preferred replica.
    const leaderId = replicas.includes(this.options.runtime.nodeId) ? -1 : replicas[0];
    return { leaderId, leaderEpoch: -1, replicas, isr: replicas };
  }

  // ---- KafkaBackend

  brokerConfigs(): Record<string, string> {
    return {
      "broker.id": String(this.options.runtime.nodeId),
      "auto.create.topics.enable": String(this.settings.autoCreateTopics),
      "num.partitions": String(this.settings.defaultPartitions),
      "default.replication.factor": String(this.settings.defaultReplicationFactor),
      "message.max.bytes": "1048588",
      "offsets.topic.replication.factor": String(this.options.metaVoters.length),
      "group.min.session.timeout.ms": String(this.options.coordinator?.sessionTimeoutMsMin ?? DEFAULT_COORDINATOR_CONFIG.sessionTimeoutMsMin),
      "group.max.session.timeout.ms": String(this.options.coordinator?.sessionTimeoutMsMax ?? DEFAULT_COORDINATOR_CONFIG.sessionTimeoutMsMax),
      "group.initial.rebalance.delay.ms": String(this.options.coordinator?.initialRebalanceDelayMs ?? DEFAULT_COORDINATOR_CONFIG.initialRebalanceDelayMs),
      "log.retention.ms": "604800000",
      "log.segment.bytes": "1073741824",
    };
  }

  syncMetadata(): Promise<boolean> {
    return this.metaGroup.readBarrier();
  }

  async produce(topic: string, partition: number, records: Buffer, options: { acks: number; timeoutMs: number }): Promise<ProduceOutcome> {
    const handle = this.localPartition(topic, partition);
    if (!handle) {
      const known = this.meta.topics.get(topic)?.partitions[partition] !== undefined;
      return { errorCode: known ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 };
    }
    return handle.produce(records, options);
  }

  async fetch(request: FetchPartitionRequest): Promise<FetchPartitionResult> {
    const handle = this.localPartition(request.topic, request.partition);
    if (!handle) {
      const known = this.meta.topics.get(request.topic)?.partitions[request.partition] !== undefined;
      return { errorCode: known ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, records: [], recordsBytes: 0 };
    }
    return handle.fetch(request.fetchOffset, request.partitionMaxBytes);
  }

  async waitForData(partitions: ReadonlyArray<{ topic: string; partition: number; highWatermark: number }>, timeoutMs: number): Promise<void> {
    const signal = { cancelled: false };
    const waits = partitions.flatMap((p) => {
      const handle = this.localPartition(p.topic, p.partition);
      return handle ? [handle.waitForData(p.highWatermark, timeoutMs, signal)] : [];
    });
    if (waits.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, timeoutMs));
      return;
    }
    await Promise.race(waits);
    signal.cancelled = true;
    for (const p of partitions) this.localPartition(p.topic, p.partition)?.wake();
  }

  async listOffset(topic: string, partition: number, timestamp: number): Promise<ListOffsetResult> {
    const handle = this.localPartition(topic, partition);
    if (!handle) return { errorCode: this.meta.topics.has(topic) ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, offset: -1, timestamp: -1, leaderEpoch: -1 };
    return handle.listOffset(timestamp);
  }

  async deleteRecords(topic: string, partition: number, offset: number): Promise<{ errorCode: number; lowWatermark: number }> {
    const handle = this.localPartition(topic, partition);
    if (!handle) return { errorCode: this.meta.topics.has(topic) ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, lowWatermark: -1 };
    const result = await handle.deleteRecords(offset);
    void this.trimLocalLog(handle);
    return result;
  }

  /** Drops whole segments below the partition's log start (every replica does this locally). */
  private async trimLocalLog(handle: KafkaPartition): Promise<void> {
    const log = handle.group.storage;
    const keepFrom = await log.lookupByKey(handle.state.logStartOffset);
    if (keepFrom === undefined || keepFrom <= log.firstIndex) return;
    // The replica may compact only below a durable snapshot: take one first.
    await handle.group.snapshotNow();
    await log.compactPrefix(Math.min(keepFrom, handle.group.appliedSlot));
  }

  private async enforceRetention(): Promise<void> {
    for (const handle of this.partitions.values()) {
      if (this.closed) return;
      const topic = this.meta.topics.get(handle.topic);
      if (!topic || !handle.group.isLeaderReady) {
        if (topic) void this.trimLocalLog(handle).catch(() => undefined);
        continue;
      }
      try {
        const retentionMs = effectiveNumber(topic.configs, "retention.ms");
        const retentionBytes = effectiveNumber(topic.configs, "retention.bytes");
        const target = await this.retentionTarget(handle, retentionMs, retentionBytes);
        if (target > handle.state.logStartOffset) await handle.moveLogStart(target);
        await this.trimLocalLog(handle);
      } catch (error) {
        this.logger.warn({ topic: handle.topic, partition: handle.partition, err: error }, "retention check failed");
      }
    }
  }

  /** The lowest offset retention keeps: by age (time index) and by size (whole old segments). */
  private async retentionTarget(handle: KafkaPartition, retentionMs: number, retentionBytes: number): Promise<number> {
    let target = handle.state.logStartOffset;
    const log = handle.group.storage;
    if (retentionMs >= 0) {
      const slot = await log.lookupByTimestamp(this.options.clock.wallMs() - retentionMs);
      const offset = slot === undefined ? handle.state.nextOffset : await this.firstOffsetAtOrAfter(handle, slot);
      target = Math.max(target, offset);
    }
    if (retentionBytes >= 0 && log.sizeBytes > retentionBytes) {
      // Keep whole entries from the newest back until the byte budget is spent.
      const excess = log.sizeBytes - retentionBytes;
      const slot = log.firstIndex + Math.floor(((log.lastIndex - log.firstIndex + 1) * excess) / log.sizeBytes);
      target = Math.max(target, await this.firstOffsetAtOrAfter(handle, slot));
    }
    return Math.min(target, handle.state.nextOffset);
  }

  private async firstOffsetAtOrAfter(handle: KafkaPartition, slot: number): Promise<number> {
    const log = handle.group.storage;
    const entries = await log.read(Math.max(slot, log.firstIndex), { maxEntries: 64, toExclusive: handle.group.appliedSlot + 1 });
    for (const entry of entries) if (entry.key >= handle.state.logStartOffset && entry.key < handle.state.nextOffset) return entry.key;
    return handle.state.nextOffset;
  }

  async createTopics(topics: TopicCreation[], validateOnly: boolean): Promise<AdminOutcome[]> {
    const nodes = [...this.meta.nodes.keys()];
    const outcomes: AdminOutcome[] = [];
    for (const creation of topics) {
      if (this.meta.topics.has(creation.name)) {
        outcomes.push({ errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, errorMessage: `topic ${creation.name} already exists` });
        continue;
      }
      if (nodes.length === 0) {
        outcomes.push({ errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: "the cluster has no registered nodes yet" });
        continue;
      }
      const replicationFactor = creation.replicationFactor === -1 ? (this.settings.defaultReplicationFactor === -1 ? Math.min(3, nodes.length) : this.settings.defaultReplicationFactor) : creation.replicationFactor;
      const partitions =
        creation.assignments.length > 0
          ? creation.assignments.sort((a, b) => a.partitionIndex - b.partitionIndex).map((a) => a.brokerIds)
          : placeReplicas(nodes, creation.numPartitions === -1 ? this.settings.defaultPartitions : creation.numPartitions, Math.min(replicationFactor, nodes.length), this.meta.topics.size);
      if (validateOnly) {
        outcomes.push({ errorCode: ErrorCode.NONE });
        continue;
      }
      const configs = Object.fromEntries(Object.entries(creation.configs).filter((e): e is [string, string] => e[1] !== null));
      const topic: TopicInfo = { name: creation.name, id: randomBytes(16).toString("hex"), partitions, configs, createdMs: this.options.clock.wallMs() };
      const result = await this.proposeMeta({ op: "createTopic", topic });
      if (!result) outcomes.push({ errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: "this node cannot reach the metadata leader" });
      else if (!result.ok) outcomes.push({ errorCode: result.error === "topicExists" ? ErrorCode.TOPIC_ALREADY_EXISTS : ErrorCode.INVALID_REQUEST, errorMessage: result.detail ?? result.error });
      else outcomes.push({ errorCode: ErrorCode.NONE });
    }
    // Answer once local partitions have leaders, so the client can use the topic at once.
    await waitUntil(() => topics.every((t) => this.topicServing(t.name)), 5_000);
    return outcomes;
  }

  private topicServing(name: string): boolean {
    const topic = this.meta.topics.get(name);
    if (!topic) return true;
    return topic.partitions.every((_, p) => (this.partitionLeader(name, p)?.leaderId ?? -1) >= 0);
  }

  async deleteTopics(names: string[]): Promise<AdminOutcome[]> {
    const outcomes: AdminOutcome[] = [];
    for (const name of names) {
      if (!this.meta.topics.has(name)) {
        outcomes.push({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
        continue;
      }
      const result = await this.proposeMeta({ op: "deleteTopic", name });
      outcomes.push(!result ? { errorCode: ErrorCode.NOT_CONTROLLER } : result.ok ? { errorCode: ErrorCode.NONE } : { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
    }
    return outcomes;
  }

  async createPartitions(name: string, count: number, assignments: number[][] | null, validateOnly: boolean): Promise<AdminOutcome> {
    const topic = this.meta.topics.get(name);
    if (!topic) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
    const nodes = [...this.meta.nodes.keys()];
    const added = assignments ?? placeReplicas(nodes, count - topic.partitions.length, Math.min(topic.partitions[0]?.length ?? 1, nodes.length), topic.partitions.length);
    if (validateOnly) return { errorCode: ErrorCode.NONE };
    const result = await this.proposeMeta({ op: "createPartitions", name, added });
    if (!result) return { errorCode: ErrorCode.NOT_CONTROLLER };
    await waitUntil(() => this.topicServing(name), 5_000);
    return result.ok ? { errorCode: ErrorCode.NONE } : { errorCode: ErrorCode.INVALID_PARTITIONS, errorMessage: result.detail ?? result.error };
  }

  async alterTopicConfigs(name: string, set: Record<string, string>, remove: string[], replace: boolean, validateOnly: boolean): Promise<AdminOutcome> {
    if (!this.meta.topics.has(name)) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `unknown topic ${name}` };
    if (validateOnly) return { errorCode: ErrorCode.NONE };
    const result = await this.proposeMeta({ op: "alterConfigs", name, set, remove, replace });
    if (!result) return { errorCode: ErrorCode.NOT_CONTROLLER };
    return result.ok ? { errorCode: ErrorCode.NONE } : { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
  }

  async allocateProducerId(): Promise<{ errorCode: number; producerId: number; producerEpoch: number }> {
    if (this.producerIds.next >= this.producerIds.end) {
      const block = this.options.producerIdBlock ?? 1000;
      const result = await this.proposeMeta({ op: "allocateProducerIds", count: block });
      if (!result || !result.ok || result.producerIdStart === undefined) return { errorCode: ErrorCode.NOT_COORDINATOR, producerId: -1, producerEpoch: -1 };
      this.producerIds = { next: result.producerIdStart, end: result.producerIdStart + block };
    }
    return { errorCode: ErrorCode.NONE, producerId: this.producerIds.next++, producerEpoch: 0 };
  }

  groupCoordinatorNode(): number {
    return this.metaGroup.leaderId ?? -1;
  }

  groupCoordinator(): GroupCoordinator | undefined {
    return this.metaGroup.isLeaderReady ? this.coordinator : undefined;
  }

  async commitOffsets(groupId: string, offsets: Array<{ topic: string; partition: number; offset: number; leaderEpoch: number; metadata: string | null }>): Promise<number> {
    const commitMs = this.options.clock.wallMs();
    const result = await this.proposeMeta({ op: "commitOffsets", groupId, offsets: offsets.map((o) => ({ ...o, commitMs })) });
    if (!result) return ErrorCode.NOT_COORDINATOR;
    return result.ok ? ErrorCode.NONE : ErrorCode.UNKNOWN_SERVER_ERROR;
  }

  committedOffset(groupId: string, topic: string, partition: number): { offset: number; leaderEpoch: number; metadata: string | null } | undefined {
    return this.meta.committedOffset(groupId, topic, partition);
  }

  async deleteGroups(groupIds: string[]): Promise<Map<string, number>> {
    const codes = new Map<string, number>();
    const coordinator = this.groupCoordinator();
    const deletable: string[] = [];
    for (const id of groupIds) {
      const known = this.meta.groups.has(id) || this.meta.offsets.has(id) || coordinator?.describe(id) !== undefined;
      if (!known) codes.set(id, GroupError.GROUP_ID_NOT_FOUND);
      else if (coordinator && coordinator.canDelete(id) !== GroupError.NONE) codes.set(id, GroupError.NON_EMPTY_GROUP);
      else deletable.push(id);
    }
    if (deletable.length > 0) {
      const result = await this.proposeMeta({ op: "deleteGroups", groupIds: deletable });
      for (const id of deletable) {
        codes.set(id, !result ? ErrorCode.NOT_COORDINATOR : result.ok ? ErrorCode.NONE : ErrorCode.NON_EMPTY_GROUP);
        if (result?.ok) coordinator?.forget(id);
      }
    }
    return codes;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.coordinatorTimer);
    clearInterval(this.retentionTimer);
    this.coordinator?.shutdown();
    await this.reconciling;
  }
}
