// The node runtime: hosts this node's Paxos groups (metadata, coordination, one per local
// partition), ticks them all from one timer, and routes peer messages to them through the
// transport. A single node is the same runtime with one replica per group and no peers.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Clock } from "../util/clock.js";
import type { Logger } from "../util/logger.js";
import { SeededRandom } from "../util/random.js";
import type { StateMachine } from "../util/state-machine.js";
import type { ReplicaOptions } from "../paxos/index.js";
import type { StorageFsyncPolicy } from "../storage/fsync-policy.js";
import type { Transport } from "../transport/transport.js";
import { ReplicatedGroup } from "./group.js";

export interface RuntimeOptions {
  nodeId: number;
  dataDir: string;
  clock: Clock;
  logger: Logger;
  fsync: StorageFsyncPolicy;
  /** Milliseconds per consensus tick (default 50: heartbeats every 100 ms, elections after 0.5–1 s). */
  tickMs?: number;
  /** Replica tuning shared by every group (election and heartbeat ticks, limits). */
  replica?: Omit<ReplicaOptions, "id" | "random">;
  /** The peer transport (absent on a single node). */
  transport?: Transport;
  /**
   * A group failed in a way that needs a restart (a storage error: never retry an fsync). The
   * CLI exits the process so a supervisor restarts it and recovery runs from disk.
   */
  onFatal?(groupId: string, error: Error): void;
}

export interface GroupSpec<R> {
  groupId: string;
  initialVoters: readonly number[];
  stateMachine: StateMachine<R>;
  entryIndexFields?(commands: readonly Uint8Array[]): { key?: number; timestamp: number };
  snapshotEveryBytes?: number;
  compactBehindSnapshots?: boolean;
  segmentBytesMax?: number;
}

/**
 * Replica limits for synod's workloads: a slot may carry one Kafka produce of up to 8 MiB (a
 * request's records for one partition), and up to 64 MiB may be uncommitted per group before
 * proposals get backpressure.
 */
export const DEFAULT_REPLICA_OPTIONS: Omit<ReplicaOptions, "id" | "random"> = {
  batchBytesMax: 8 * 2 ** 20,
  uncommittedBytesMax: 64 * 2 ** 20,
};

/** Group ids become directory names: keep them to a safe alphabet. */
export function groupDirName(groupId: string): string {
  if (!/^[a-zA-Z0-9._-]{1,200}$/.test(groupId)) throw new Error(`invalid group id ${JSON.stringify(groupId)}`);
  return groupId;
}

export class NodeRuntime {
  private readonly groups = new Map<string, ReplicatedGroup<unknown>>();
  private readonly opening = new Map<string, Promise<ReplicatedGroup<unknown>>>();
  private ticker: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly random: SeededRandom;

  constructor(readonly options: RuntimeOptions) {
    // Election timeouts need independent randomness per node; the seed is not a safety input.
    this.random = new SeededRandom((options.nodeId * 2654435761) ^ Math.floor(options.clock.wallMs()));
    if (options.transport) options.transport.onMessage = (_from, groupId, message) => this.groups.get(groupId)?.receive(message);
  }

  get nodeId(): number {
    return this.options.nodeId;
  }

  start(): void {
    const tickMs = this.options.tickMs ?? 50;
    this.ticker = setInterval(() => {
      for (const group of this.groups.values()) group.tick();
    }, tickMs);
  }

  group<R>(groupId: string): ReplicatedGroup<R> | undefined {
    return this.groups.get(groupId) as ReplicatedGroup<R> | undefined;
  }

  groupIds(): string[] {
    return [...this.groups.keys()];
  }

  /** Opens a group (idempotent); a group whose only voter is this node campaigns at once. */
  async openGroup<R>(spec: GroupSpec<R>): Promise<ReplicatedGroup<R>> {
    if (this.closed) throw new Error("runtime is closed");
    const existing = this.groups.get(spec.groupId) ?? (await this.opening.get(spec.groupId));
    if (existing) return existing as ReplicatedGroup<R>;
    const opening = ReplicatedGroup.open<R>({
      groupId: spec.groupId,
      nodeId: this.options.nodeId,
      dir: join(this.options.dataDir, "groups", groupDirName(spec.groupId)),
      initialVoters: spec.initialVoters,
      stateMachine: spec.stateMachine,
      clock: this.options.clock,
      random: this.random.fork(),
      logger: this.options.logger,
      fsync: this.options.fsync,
      send: (to, message) => this.options.transport?.send(to, spec.groupId, message),
      entryIndexFields: spec.entryIndexFields,
      replica: { ...DEFAULT_REPLICA_OPTIONS, ...this.options.replica },
      snapshotEveryBytes: spec.snapshotEveryBytes,
      compactBehindSnapshots: spec.compactBehindSnapshots,
      segmentBytesMax: spec.segmentBytesMax,
      onFatal: (error) => this.options.onFatal?.(spec.groupId, error),
    });
    this.opening.set(spec.groupId, opening as Promise<ReplicatedGroup<unknown>>);
    try {
      const group = await opening;
      this.groups.set(spec.groupId, group as ReplicatedGroup<unknown>);
      const membership = group.status().membership;
      if (membership.voters.length === 1 && membership.voters[0] === this.options.nodeId) group.campaign();
      return group;
    } finally {
      this.opening.delete(spec.groupId);
    }
  }

  /** Closes a group; with `deleteData`, removes its durable state (the group left this node). */
  async closeGroup(groupId: string, options: { deleteData?: boolean } = {}): Promise<void> {
    const group = this.groups.get(groupId);
    this.groups.delete(groupId);
    await group?.close();
    if (options.deleteData) await rm(join(this.options.dataDir, "groups", groupDirName(groupId)), { recursive: true, force: true });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.ticker);
    await Promise.allSettled([...this.opening.values()]);
    await Promise.all([...this.groups.values()].map((g) => g.close()));
    this.groups.clear();
  }
}
