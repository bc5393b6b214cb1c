// The cluster metadata state machine (the metadata Paxos group): nodes, topics with their
// partitions' replica sets and config overrides, producer-id allocation, consumer groups' durable
// state (the last completed generation and its assignment) and committed offsets. Everything
// non-deterministic (topic ids, times, placement) is decided by the proposer and carried in the
// command; apply only validates against the current state and records.
//
// Commands are JSON (they are rare next to produce traffic, and JSON keeps them readable in
// traces); snapshots are JSON with every map sorted, so equal states give equal bytes.
import { assert } from "../util/assert.js";
import type { LogPosition, StateMachine } from "../util/state-machine.js";

export interface NodeInfo {
  nodeId: number;
  host: string;
  kafkaPort: number;
  zookeeperPort: number;
  /** Where peers reach this node's transport (empty host / port 0 on a single node). */
  peerHost?: string;
  peerPort: number;
  rack: string | null;
  /** "decommissioning": replicas are being moved away; new placements avoid it. */
  state?: "active" | "decommissioning";
}

export interface TopicInfo {
  name: string;
  /** 16-byte topic id as 32 hex characters. */
  id: string;
  /** partitions[i] = replica node ids of partition i, preferred leader first (the target set). */
  partitions: number[][];
  /**
   * The replica set each partition's group was created with (its first membership). A node that
   * joins a partition later opens the group as a non-member and is added by the group's leader.
   */
  initialReplicas?: number[][];
  /** Explicit config overrides only; defaults live with the front-end. */
  configs: Record<string, string>;
  createdMs: number;
}

export interface GroupMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  /** base64 of the member's protocol metadata and assignment, kept verbatim for DescribeGroups. */
  metadata: string;
  assignment: string;
}

export interface GroupInfo {
  groupId: string;
  protocolType: string;
  generation: number;
  protocolName: string | null;
  leaderId: string | null;
  members: GroupMember[];
  updatedMs: number;
}

export interface CommittedOffset {
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
  commitMs: number;
}

export type MetaCommand =
  | { op: "registerNode"; node: NodeInfo }
  | { op: "createTopic"; topic: TopicInfo }
  | { op: "deleteTopic"; name: string }
  | { op: "createPartitions"; name: string; added: number[][] }
  | { op: "alterConfigs"; name: string; set: Record<string, string>; remove: string[]; replace: boolean }
  | { op: "allocateProducerIds"; count: number }
  | { op: "putGroup"; group: GroupInfo }
  | { op: "deleteGroups"; groupIds: string[] }
  | { op: "commitOffsets"; groupId: string; offsets: Array<{ topic: string; partition: number } & CommittedOffset> }
  | { op: "deleteOffsets"; groupId: string; partitions: Array<{ topic: string; partition: number }> }
  | { op: "reassignPartitions"; moves: Array<{ name: string; partition: number; replicas: number[] }> }
  | { op: "setNodeState"; nodeId: number; state: "active" | "decommissioning" };

export type MetaError = "topicExists" | "unknownTopic" | "invalidPartitions" | "invalidCommand" | "groupNotEmpty" | "unknownGroup";

export type MetaResult =
  | { ok: true; producerIdStart?: number; topic?: TopicInfo }
  | { ok: false; error: MetaError; detail?: string };

/** The largest number of producer ids one allocation may take (bounds the counter's growth). */
export const PRODUCER_ID_BLOCK_MAX = 1_000_000;

function sortedRecord<T>(entries: Iterable<[string, T]>): Record<string, T> {
  return Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function encodeMetaCommand(command: MetaCommand): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(command));
}

export function decodeMetaCommand(bytes: Uint8Array): MetaCommand | undefined {
  try {
    const value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)) as MetaCommand;
    return value && typeof value === "object" && typeof value.op === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}

export class MetadataState implements StateMachine<MetaResult> {
  readonly nodes = new Map<number, NodeInfo>();
  readonly topics = new Map<string, TopicInfo>();
  readonly groups = new Map<string, GroupInfo>();
  /** groupId → "topic\u0000partition" → offset. */
  readonly offsets = new Map<string, Map<string, CommittedOffset>>();
  nextProducerId = 1000;
  /** The log position of the last applied command (for readers that wait on it). */
  appliedSlot = 0;

  apply(bytes: Uint8Array, position: LogPosition): MetaResult {
    this.appliedSlot = position.slot;
    const command = decodeMetaCommand(bytes);
    if (!command) return { ok: false, error: "invalidCommand" };
    try {
      return this.applyCommand(command);
    } catch (error) {
      // A structurally wrong command (a bug or a corrupt proposal) must not crash the replica
      // nor half-apply: every branch validates before it mutates.
      return { ok: false, error: "invalidCommand", detail: (error as Error).message };
    }
  }

  private applyCommand(command: MetaCommand): MetaResult {
    switch (command.op) {
      case "registerNode": {
        // Re-registration (a restart with new ports) keeps a decommissioning mark.
        const state = this.nodes.get(command.node.nodeId)?.state ?? command.node.state ?? "active";
        this.nodes.set(command.node.nodeId, { ...command.node, state });
        return { ok: true };
      }
      case "setNodeState": {
        const node = this.nodes.get(command.nodeId);
        if (!node) return { ok: false, error: "invalidCommand", detail: `unknown node ${command.nodeId}` };
        node.state = command.state;
        return { ok: true };
      }
      case "reassignPartitions": {
        for (const move of command.moves) {
          const topic = this.topics.get(move.name);
          if (!topic || !topic.partitions[move.partition]) return { ok: false, error: "unknownTopic", detail: move.name };
          if (move.replicas.length === 0 || new Set(move.replicas).size !== move.replicas.length) return { ok: false, error: "invalidPartitions" };
        }
        for (const move of command.moves) {
          const topic = this.topics.get(move.name)!;
          topic.initialReplicas ??= topic.partitions.map((r) => [...r]);
          topic.partitions[move.partition] = [...move.replicas];
        }
        return { ok: true };
      }
      case "createTopic": {
        const topic = command.topic;
        if (this.topics.has(topic.name)) return { ok: false, error: "topicExists" };
        if (!Array.isArray(topic.partitions) || topic.partitions.length < 1) return { ok: false, error: "invalidPartitions" };
        const created = structuredClone(topic);
        created.initialReplicas ??= created.partitions.map((r) => [...r]);
        this.topics.set(topic.name, created);
        return { ok: true, topic };
      }
      case "deleteTopic": {
        if (!this.topics.delete(command.name)) return { ok: false, error: "unknownTopic" };
        for (const offsets of this.offsets.values()) {
          for (const key of [...offsets.keys()]) if (key.startsWith(`${command.name}\u0000`)) offsets.delete(key);
        }
        return { ok: true };
      }
      case "createPartitions": {
        const topic = this.topics.get(command.name);
        if (!topic) return { ok: false, error: "unknownTopic" };
        if (command.added.length < 1) return { ok: false, error: "invalidPartitions" };
        topic.initialReplicas ??= topic.partitions.map((r) => [...r]);
        topic.partitions.push(...structuredClone(command.added));
        topic.initialReplicas.push(...structuredClone(command.added));
        return { ok: true, topic };
      }
      case "alterConfigs": {
        const topic = this.topics.get(command.name);
        if (!topic) return { ok: false, error: "unknownTopic" };
        const configs = command.replace ? {} : { ...topic.configs };
        for (const key of command.remove) delete configs[key];
        Object.assign(configs, command.set);
        topic.configs = sortedRecord(Object.entries(configs));
        return { ok: true, topic };
      }
      case "allocateProducerIds": {
        assert(Number.isSafeInteger(command.count) && command.count >= 1 && command.count <= PRODUCER_ID_BLOCK_MAX, "bad producer id count");
        const start = this.nextProducerId;
        this.nextProducerId += command.count;
        return { ok: true, producerIdStart: start };
      }
      case "putGroup":
        this.groups.set(command.group.groupId, structuredClone(command.group));
        return { ok: true };
      case "deleteGroups": {
        for (const id of command.groupIds) {
          const group = this.groups.get(id);
          if (group && group.members.length > 0) return { ok: false, error: "groupNotEmpty", detail: id };
        }
        for (const id of command.groupIds) {
          this.groups.delete(id);
          this.offsets.delete(id);
        }
        return { ok: true };
      }
      case "commitOffsets": {
        let offsets = this.offsets.get(command.groupId);
        if (!offsets) {
          offsets = new Map();
          this.offsets.set(command.groupId, offsets);
        }
        for (const o of command.offsets) {
          offsets.set(`${o.topic}\u0000${o.partition}`, { offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata, commitMs: o.commitMs });
        }
        return { ok: true };
      }
      case "deleteOffsets": {
        const offsets = this.offsets.get(command.groupId);
        if (!offsets) return { ok: false, error: "unknownGroup" };
        for (const p of command.partitions) offsets.delete(`${p.topic}\u0000${p.partition}`);
        return { ok: true };
      }
      default:
        return { ok: false, error: "invalidCommand" };
    }
  }

  committedOffset(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.offsets.get(groupId)?.get(`${topic}\u0000${partition}`);
  }

  snapshot(): Uint8Array {
    const image = {
      version: 1,
      appliedSlot: this.appliedSlot,
      nextProducerId: this.nextProducerId,
      nodes: [...this.nodes.values()].sort((a, b) => a.nodeId - b.nodeId),
      topics: sortedRecord(this.topics.entries()),
      groups: sortedRecord(this.groups.entries()),
      offsets: sortedRecord([...this.offsets.entries()].map(([id, m]) => [id, sortedRecord(m.entries())] as [string, Record<string, CommittedOffset>])),
    };
    return new TextEncoder().encode(JSON.stringify(image));
  }

  restore(snapshot: Uint8Array): void {
    const image = JSON.parse(new TextDecoder().decode(snapshot)) as {
      version: number;
      appliedSlot: number;
      nextProducerId: number;
      nodes: NodeInfo[];
      topics: Record<string, TopicInfo>;
      groups: Record<string, GroupInfo>;
      offsets: Record<string, Record<string, CommittedOffset>>;
    };
    assert(image.version === 1, `unknown metadata snapshot version ${image.version}`);
    this.appliedSlot = image.appliedSlot;
    this.nextProducerId = image.nextProducerId;
    this.nodes.clear();
    for (const node of image.nodes) this.nodes.set(node.nodeId, node);
    this.topics.clear();
    for (const [name, topic] of Object.entries(image.topics)) this.topics.set(name, topic);
    this.groups.clear();
    for (const [id, group] of Object.entries(image.groups)) this.groups.set(id, group);
    this.offsets.clear();
    for (const [id, offsets] of Object.entries(image.offsets)) this.offsets.set(id, new Map(Object.entries(offsets)));
  }
}
