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
import { activeNodes, nextMembershipStep, planDecommission, planRebalance, type ReplicaMove } from "./membership.js";
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
  /** -1: min(3, nodes), counting the configured peers as well as the registered nodes (see createTopics). */
  defaultReplicationFactor: number;
  /** The nodes named by --peers (empty on a single node). */
  configuredNodes?: readonly number[];
  saslPlainUsers: ReadonlyMap<string, string>;
  coordinator?: Partial<CoordinatorConfig>;
  /** How often retention runs on partitions this node leads (default 30 s). */
  retentionCheckMs?: number;
  /** Producer ids taken from the metadata group at a time. */
  producerIdBlock?: number;
  /**
   * Move each partition's leadership back to its preferred replica (the first in its replica
   * list) when that replica is up, so leaders stay spread evenly (Kafka's
   * auto.leader.rebalance.enable). Default true.
   */
  preferredLeaderRebalance?: boolean;
  /** Called when the set of registered nodes changes (the runtime connects to new peers). */
  onNodesChanged?(nodes: NodeInfo[]): void;
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
  private rebalanceTimer: NodeJS.Timeout | undefined;
  private membershipTimer: NodeJS.Timeout | undefined;
  private nodesDigest = "";
  /** groupId → when this node stopped being assigned the partition (for the removal rule). */
  private readonly unassignedSince = new Map<string, number>();
  /** groupId → when we last asked for a transfer (at most one attempt per partition per period). */
  private readonly transferAttempts = new Map<string, number>();
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
      // Every node accepts admin requests (it forwards metadata proposals to the leader), so when
      // the metadata leader is not known right now this node names itself rather than nobody.
      controllerId: () => this.options.runtime.leaderOf(META_GROUP_ID)?.leaderId ?? this.options.runtime.nodeId,
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
      resultCodec: { encode: (result) => Buffer.from(JSON.stringify(result)), decode: (bytes) => JSON.parse(Buffer.from(bytes).toString("utf8")) as MetaResult },
      initialVoters: this.options.metaVoters,
      stateMachine: this.meta,
      snapshotEveryBytes: 16 * 2 ** 20,
      compactBehindSnapshots: true,
    });
    this.metaGroup.onApplied(() => this.scheduleReconcile());
    this.metaGroup.onRoleChange(() => this.onMetaRoleChange());
    this.coordinatorTimer = setInterval(() => this.coordinator?.tick(this.options.clock.wallMs()), 100);
    this.retentionTimer = setInterval(() => void this.enforceRetention(), this.options.retentionCheckMs ?? 30_000);
    if (this.options.preferredLeaderRebalance !== false) this.rebalanceTimer = setInterval(() => this.rebalanceLeaders(), 1_000);
    this.membershipTimer = setInterval(() => this.stepMemberships(), 500);
    // Register (or refresh) this node's address once the metadata group has a leader here or elsewhere.
    void this.registerSelf();
    this.scheduleReconcile();
  }

  private async registerSelf(): Promise<void> {
    const node: NodeInfo = { nodeId: this.options.runtime.nodeId, ...this.self };
    for (let attempt = 0; !this.closed; attempt++) {
      const current = this.meta.nodes.get(node.nodeId);
      if (current && JSON.stringify({ ...current, state: undefined }) === JSON.stringify({ ...node, state: undefined })) return;
      const outcome = await this.options.runtime.proposeToLeader<MetaResult>(META_GROUP_ID, encodeMetaCommand({ op: "registerNode", node }), { timeoutMs: 2_000 });
      if (outcome.ok) return;
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
      if (!this.meta.nodes.has(self) || this.options.runtime.leaderOf(META_GROUP_ID) === undefined || this.reconciling) return false;
      for (const topic of this.meta.topics.values()) {
        for (let p = 0; p < topic.partitions.length; p++) {
          const replicas = topic.partitions[p];
          if (!replicas.includes(self)) continue;
          const handle = this.partitions.get(partitionGroupId(topic, p));
          if (!handle) return false;
          if (replicas.length === 1 && replicas[0] === self && !handle.group.isLeaderReady) return false;
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

  /** Proposes to the metadata group through its leader, wherever it is (forwarded when remote). */
  private async proposeMeta(command: MetaCommand): Promise<MetaResult | undefined> {
    const outcome = await this.options.runtime.proposeToLeader<MetaResult>(META_GROUP_ID, encodeMetaCommand(command));
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
    const nodes = [...this.meta.nodes.values()].sort((a, b) => a.nodeId - b.nodeId);
    const digest = JSON.stringify(nodes.map((n) => [n.nodeId, n.peerHost, n.peerPort]));
    if (digest !== this.nodesDigest) {
      this.nodesDigest = digest;
      this.logger.info({ nodes: nodes.map((n) => n.nodeId) }, "cluster nodes changed");
      this.options.onNodesChanged?.(nodes);
    }
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
          // The group's first membership; a node added later starts outside it and is added by the leader.
          initialVoters: topic.initialReplicas?.[partition] ?? topic.partitions[partition],
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
    const now = this.options.clock.monotonicMs();
    for (const [groupId, handle] of this.partitions) {
      if (wanted.has(groupId)) {
        this.unassignedSince.delete(groupId);
        continue;
      }
      // No longer assigned here. Keep serving as a replica until the group's membership no longer
      // includes this node (the leader removes it after the new replica caught up), or the topic is
      // gone, or a minute passed (it missed its removal while down).
      const membership = handle.group.status().membership;
      const member = (membership.voters as readonly number[]).includes(self) || (membership.learners as readonly number[]).includes(self);
      const since = this.unassignedSince.get(groupId) ?? now;
      this.unassignedSince.set(groupId, since);
      if (member && this.meta.topics.has(handle.topic) && now - since < 60_000) continue;
      this.partitions.delete(groupId);
      handle.forgetReads();
      this.unassignedSince.delete(groupId);
      this.logger.info({ topic: handle.topic, partition: handle.partition }, "partition removed from this node; deleting its data");
      await this.options.runtime.closeGroup(groupId, { deleteData: true });
    }
  }

  /** Hands partitions this node leads to their preferred replica when that replica is alive and a voter. */
  private rebalanceLeaders(): void {
    const now = this.options.clock.monotonicMs();
    const self = this.options.runtime.nodeId;
    for (const [groupId, handle] of this.partitions) {
      const topic = this.meta.topics.get(handle.topic);
      const preferred = topic?.partitions[handle.partition]?.[0];
      if (preferred === undefined || preferred === self || !handle.group.isLeaderReady) continue;
      if (!handle.group.status().membership.voters.includes(preferred as never)) continue;
      // Alive: the preferred node announces leaderships or heartbeats in other groups; a transfer
      // to a dead node just times out inside the replica, so attempts are rate-limited anyway.
      if (now - (this.transferAttempts.get(groupId) ?? -Infinity) < 10_000) continue;
      if (!this.options.runtime.isPeerConnected(preferred)) continue;
      this.transferAttempts.set(groupId, now);
      if (handle.group.transferLeadership(preferred)) this.logger.info({ topic: handle.topic, partition: handle.partition, to: preferred }, "moving leadership to the preferred replica");
    }
  }

  /**
   * On groups this node leads, one membership step toward the target replica set (partitions:
   * the metadata's replica list; the metadata group: the first 3 — 5 from 5 nodes — active nodes).
   */
  private stepMemberships(): void {
    const self = this.options.runtime.nodeId;
    const step = (group: ReplicatedGroup<unknown>, desired: number[], label: Record<string, unknown>, keepLearners: readonly number[] = []): void => {
      if (!group.isLeaderReady || desired.length === 0) return;
      const membership = group.status().membership;
      const next = nextMembershipStep({ voters: membership.voters, learners: membership.learners.filter((id) => !keepLearners.includes(id)) }, desired, self);
      if (!next) return;
      if (next.kind === "transfer") {
        if (group.transferLeadership(next.to)) this.logger.info({ ...label, to: next.to }, "handing leadership away before leaving the group");
        return;
      }
      const result = group.proposeMembership(next);
      if (result === "ok") this.logger.info({ ...label, change: next.kind, replica: next.replicaId }, "membership change proposed");
    };
    for (const handle of this.partitions.values()) {
      const desired = this.meta.topics.get(handle.topic)?.partitions[handle.partition];
      if (desired) step(handle.group as ReplicatedGroup<unknown>, desired, { topic: handle.topic, partition: handle.partition });
    }
    if (this.metaGroup.isLeaderReady) {
      // The metadata group: 3 voters (5 from 5 active nodes on); every other node follows as a
      // learner, so each node holds the cluster metadata its front-ends serve.
      const active = activeNodes(this.meta);
      const membership = this.metaGroup.status().membership;
      const current = membership.voters as readonly number[];
      const size = active.length >= 5 ? 5 : Math.min(3, active.length);
      const keep = current.filter((id) => active.includes(id)).slice(0, size);
      const desired = [...keep, ...active.filter((id) => !keep.includes(id))].slice(0, Math.max(size, 1));
      const learners = membership.learners as readonly number[];
      const missingLearner = [...this.meta.nodes.keys()].find((id) => !current.includes(id) && !learners.includes(id) && !desired.includes(id));
      if (missingLearner !== undefined) {
        if (this.metaGroup.proposeMembership({ kind: "addLearner", replicaId: missingLearner }) === "ok") this.logger.info({ group: META_GROUP_ID, learner: missingLearner }, "adding a node to the metadata group as a learner");
      } else if (desired.length >= Math.min(3, current.length)) {
        // Learners that are not meant to become voters stay learners (nextMembershipStep would remove them).
        const keepLearners = learners.filter((id) => !desired.includes(id) && this.meta.nodes.has(id));
        step(this.metaGroup as ReplicatedGroup<unknown>, desired, { group: META_GROUP_ID }, keepLearners);
      }
    }
  }

  /** Spreads replicas evenly over the active nodes (after adding a node). Returns the moves. */
  async rebalanceReplicas(): Promise<{ errorCode: number; moves: ReplicaMove[] }> {
    const moves = planRebalance(this.meta);
    if (moves.length === 0) return { errorCode: ErrorCode.NONE, moves };
    const result = await this.proposeMeta({ op: "reassignPartitions", moves });
    return { errorCode: result?.ok ? ErrorCode.NONE : ErrorCode.NOT_CONTROLLER, moves };
  }

  /** Marks a node as leaving and moves every replica it holds to the other nodes. */
  async decommission(nodeId: number): Promise<{ errorCode: number; moves: ReplicaMove[] }> {
    if (!this.meta.nodes.has(nodeId)) return { errorCode: ErrorCode.INVALID_REQUEST, moves: [] };
    const marked = await this.proposeMeta({ op: "setNodeState", nodeId, state: "decommissioning" });
    if (!marked?.ok) return { errorCode: ErrorCode.NOT_CONTROLLER, moves: [] };
    const moves = planDecommission(this.meta, nodeId);
    if (moves.length === 0) return { errorCode: ErrorCode.NONE, moves };
    const result = await this.proposeMeta({ op: "reassignPartitions", moves });
    return { errorCode: result?.ok ? ErrorCode.NONE : ErrorCode.NOT_CONTROLLER, moves };
  }

  /** Whether every partition's and the metadata group's membership equals its target (moves done). */
  movesComplete(): { done: boolean; pending: string[] } {
    const pending: string[] = [];
    for (const handle of this.partitions.values()) {
      const desired = this.meta.topics.get(handle.topic)?.partitions[handle.partition];
      const voters = [...handle.group.status().membership.voters].sort((a, b) => a - b);
      if (desired && handle.group.isLeaderReady && voters.join() !== [...desired].sort((a, b) => a - b).join()) pending.push(`${handle.topic}/${handle.partition}`);
    }
    return { done: pending.length === 0, pending };
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
    // Only a leader ready to serve is reported (this node's own, or one a peer announced);
    // otherwise -1, and clients retry with LEADER_NOT_AVAILABLE — except on a node cut off from
    // most of the cluster, which names the last leader it knew (NodeRuntime.leaderForClients).
    const leader = this.options.runtime.leaderForClients(partitionGroupId(topic, partition));
    return { leaderId: leader?.leaderId ?? -1, leaderEpoch: leader?.epoch ?? -1, replicas, isr: replicas };
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

  /**
   * Drops whole segments below the partition's log start (every replica does this locally). The
   * cut is made just after a retained snapshot that lies below the log start: a follower that
   * needs a snapshot then gets one from which the leader still holds every later entry, so its
   * copy of the partition's data stays complete from the log start on.
   */
  private async trimLocalLog(handle: KafkaPartition): Promise<void> {
    const log = handle.group.storage;
    const keepFrom = await log.lookupByKey(handle.state.logStartOffset);
    if (keepFrom === undefined || keepFrom <= log.firstIndex) return;
    const below = (await handle.group.snapshotSlots()).filter((slot) => slot < keepFrom && slot + 1 > log.firstIndex);
    // Take a snapshot now so a later trim has one to cut at.
    await handle.group.snapshotNow();
    if (below.length === 0) return;
    await handle.group.compactLogTo(below[below.length - 1] + 1);
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

  /**
   * The cluster's size for the default replication factor: the active registered nodes and the
   * configured peers (less decommissioning ones). Counting the peers matters while a new cluster
   * forms: a topic auto-created before every node registered must not get fewer replicas than the
   * cluster will have — it fails (clients retry) until enough nodes are registered.
   */
  private clusterSize(active: readonly number[]): number {
    const ids = new Set([...active, ...(this.options.configuredNodes ?? [])]);
    for (const node of this.meta.nodes.values()) if (node.state === "decommissioning") ids.delete(node.nodeId);
    return ids.size;
  }

  async createTopics(topics: TopicCreation[], validateOnly: boolean): Promise<AdminOutcome[]> {
    const nodes = activeNodes(this.meta);
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
      const replicationFactor = creation.replicationFactor === -1 ? (this.settings.defaultReplicationFactor === -1 ? Math.min(3, this.clusterSize(nodes)) : this.settings.defaultReplicationFactor) : creation.replicationFactor;
      if (creation.assignments.length === 0 && replicationFactor > nodes.length) {
        // Never silently fewer replicas than asked for (Kafka: INVALID_REPLICATION_FACTOR).
        outcomes.push({ errorCode: ErrorCode.INVALID_REPLICATION_FACTOR, errorMessage: `replication factor ${replicationFactor} is larger than the ${nodes.length} active nodes` });
        continue;
      }
      const partitions =
        creation.assignments.length > 0
          ? creation.assignments.sort((a, b) => a.partitionIndex - b.partitionIndex).map((a) => a.brokerIds)
          : placeReplicas(nodes, creation.numPartitions === -1 ? this.settings.defaultPartitions : creation.numPartitions, replicationFactor, this.meta.topics.size);
      if (validateOnly) {
        outcomes.push({ errorCode: ErrorCode.NONE });
        continue;
      }
      const configs = Object.fromEntries(Object.entries(creation.configs).filter((e): e is [string, string] => e[1] !== null));
      const topic: TopicInfo = { name: creation.name, id: randomBytes(16).toString("hex"), partitions, configs, createdMs: this.options.clock.wallMs() };
      const result = await this.proposeMeta({ op: "createTopic", topic });
      if (!result) outcomes.push({ errorCode: ErrorCode.NOT_CONTROLLER, errorMessage: "this node cannot reach the metadata leader" });
      else if (!result.ok) outcomes.push({ errorCode: result.error === "topicExists" ? ErrorCode.TOPIC_ALREADY_EXISTS : ErrorCode.INVALID_REQUEST, errorMessage: result.detail ?? result.error });
      else {
        this.logger.info({ topic: creation.name, replicas: partitions.length <= 16 ? partitions : `${partitions.length} partitions` }, "topic created");
        outcomes.push({ errorCode: ErrorCode.NONE });
      }
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
    const nodes = activeNodes(this.meta);
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
    return this.options.runtime.leaderOf(META_GROUP_ID)?.leaderId ?? -1;
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
    clearInterval(this.rebalanceTimer);
    clearInterval(this.membershipTimer);
    this.coordinator?.shutdown();
    await this.reconciling;
  }
}
