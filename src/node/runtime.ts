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
import { ReplicatedGroup, type ProposeOutcome } from "./group.js";
import { PeerRpc, RPC_GROUP_ID, type LeaderAnnouncement } from "./rpc.js";

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
  /** Observes each local proposal's commit latency (metrics). */
  onCommitLatency?(groupId: string, seconds: number): void;
}

export interface GroupSpec<R> {
  groupId: string;
  /** How results travel back to a follower that forwarded a proposal (default: not forwardable). */
  resultCodec?: { encode(result: R): Uint8Array; decode(bytes: Uint8Array): R };
  /** As the leader, rewrites a proposal a follower forwarded before proposing it (e.g. stamps the leader's time). */
  prepareForwarded?(data: Uint8Array): Uint8Array;
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

/** How long a peer's leadership announcement is trusted without being renewed. */
const ANNOUNCEMENT_TTL_MS = 3_000;
/** How often this node re-announces the groups it leads; a change is announced within ANNOUNCE_CHECK_MS. */
const ANNOUNCE_EVERY_MS = 500;
const ANNOUNCE_CHECK_MS = 50;

export type ForwardOutcome<R> = { ok: true; result: R } | { ok: false; reason: string; leaderId?: number };

export class NodeRuntime {
  private readonly groups = new Map<string, ReplicatedGroup<unknown>>();
  private readonly specs = new Map<string, GroupSpec<unknown>>();
  private readonly rpc: PeerRpc | undefined;
  private readonly peers = new Set<number>();
  /** groupId → leader as announced by peers (for groups this node does not lead). */
  private readonly announced = new Map<string, { leaderId: number; epoch: number; atMs: number }>();
  /** The last leader known of each group, however old (see leaderForClients). */
  private readonly lastKnownLeader = new Map<string, { leaderId: number; epoch: number }>();
  private announcer: NodeJS.Timeout | undefined;
  private lastAnnounced = "";
  private lastAnnouncedAtMs = 0;
  private readonly opening = new Map<string, Promise<ReplicatedGroup<unknown>>>();
  /** groupId → who hears the touches peers report for it (this node as the group's leader). */
  private readonly touchHandlers = new Map<string, (from: number, keys: string[]) => void>();
  private ticker: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly random: SeededRandom;

  constructor(readonly options: RuntimeOptions) {
    // Election timeouts need independent randomness per node; the seed is not a safety input.
    this.random = new SeededRandom((options.nodeId * 2654435761) ^ Math.floor(options.clock.wallMs()));
    const transport = options.transport;
    if (transport) {
      this.rpc = new PeerRpc({
        nodeId: options.nodeId,
        transport,
        logger: options.logger,
        onPropose: (groupId, data) => this.serveForwarded(groupId, data),
        onLeaders: (from, groups) => this.onAnnouncement(from, groups),
        onTouch: (from, groupId, keys) => this.touchHandlers.get(groupId)?.(from, keys),
        onSnapshot: async (_from, groupId, slot, meta, data) => (await this.groups.get(groupId)?.offerSnapshot(slot, meta, data)) ?? false,
      });
      transport.onPeerDiscovered = (peer) => this.peers.add(peer);
      transport.onPeerConnected = (peer, connected) => {
        if (!connected) this.rpc?.peerLost(peer);
      };
      transport.onMessage = (from, groupId, message) => {
        if (groupId === RPC_GROUP_ID) this.rpc!.receive(from, message);
        else this.groups.get(groupId)?.receive(message);
      };
    }
  }

  /** The peers this node talks to (cluster members other than itself). */
  setPeers(peers: Iterable<number>): void {
    this.peers.clear();
    for (const peer of peers) if (peer !== this.options.nodeId) this.peers.add(peer);
  }

  /** The peers this node knows (configured or discovered), ascending. */
  peerIds(): number[] {
    return [...this.peers].sort((a, b) => a - b);
  }

  /** Whether the transport currently has a live connection to a peer. */
  isPeerConnected(peer: number): boolean {
    return this.options.transport?.isConnected(peer) ?? false;
  }

  /** The leader of a group as this node knows it: its own replica, or a peer's announcement. */
  leaderOf(groupId: string): { leaderId: number; epoch: number } | undefined {
    const local = this.groups.get(groupId);
    if (local?.role === "leader") return local.isLeaderReady ? { leaderId: this.options.nodeId, epoch: local.status().promisedBallot.round } : undefined;
    // A peer's announcement counts while it is fresh and the peer is reachable: a killed node's
    // connection drops at once, so clients stop being sent to it before the announcement expires.
    const heard = this.announced.get(groupId);
    if (heard && this.options.clock.monotonicMs() - heard.atMs < ANNOUNCEMENT_TTL_MS && this.isPeerConnected(heard.leaderId)) {
      return { leaderId: heard.leaderId, epoch: heard.epoch };
    }
    if (local?.leaderId !== undefined && local.leaderId !== this.options.nodeId && this.isPeerConnected(local.leaderId)) {
      return { leaderId: local.leaderId, epoch: local.status().promisedBallot.round };
    }
    return undefined;
  }

  /**
   * The leader to name to clients (Kafka Metadata). Normally leaderOf. A node cut off from the
   * majority of its peers names the last leader it knew instead of nobody, as a Kafka broker cut
   * off from its controller serves its stale metadata cache: "no leader" makes clients retry the
   * same Metadata request at this same node (kafkajs picks the broker once per refresh), whereas a
   * stale leader sends them on to it, where NOT_LEADER_OR_FOLLOWER makes them refresh elsewhere.
   */
  leaderForClients(groupId: string): { leaderId: number; epoch: number } | undefined {
    const known = this.leaderOf(groupId);
    if (known) return known;
    let reachable = 1;
    for (const peer of this.peers) if (this.isPeerConnected(peer)) reachable++;
    return reachable * 2 <= this.peers.size + 1 ? this.lastKnownLeader.get(groupId) : undefined;
  }

  private onAnnouncement(from: number, groups: LeaderAnnouncement[]): void {
    const now = this.options.clock.monotonicMs();
    for (const { groupId, epoch } of groups.slice(0, 100_000)) {
      this.lastKnownLeader.set(groupId, { leaderId: from, epoch });
      const known = this.announced.get(groupId);
      if (!known || known.epoch <= epoch || now - known.atMs >= ANNOUNCEMENT_TTL_MS) this.announced.set(groupId, { leaderId: from, epoch, atMs: now });
    }
  }

  private announce(): void {
    if (!this.rpc || this.peers.size === 0) return;
    const led: LeaderAnnouncement[] = [];
    for (const [groupId, group] of this.groups) {
      if (group.role === "leader" && group.isLeaderReady) {
        led.push({ groupId, epoch: group.status().promisedBallot.round });
        this.lastKnownLeader.set(groupId, { leaderId: this.options.nodeId, epoch: group.status().promisedBallot.round });
      }
    }
    const digest = led.map((l) => `${l.groupId}:${l.epoch}`).join(",");
    const now = this.options.clock.monotonicMs();
    if (digest === this.lastAnnounced && now - this.lastAnnouncedAtMs < ANNOUNCE_EVERY_MS) return;
    this.lastAnnounced = digest;
    this.lastAnnouncedAtMs = now;
    this.rpc.announce(this.peers, led);
  }

  /** Serves a proposal a peer forwarded to us as the group's leader. */
  private async serveForwarded(groupId: string, data: Uint8Array): Promise<{ ok: true; result: Uint8Array } | { ok: false; error: string; leaderId?: number }> {
    const group = this.groups.get(groupId);
    const spec = this.specs.get(groupId);
    const codec = spec?.resultCodec;
    if (!group || !codec) return { ok: false, error: "unknownGroup" };
    const outcome = await group.propose(spec?.prepareForwarded ? spec.prepareForwarded(data) : data);
    if (!outcome.ok) return { ok: false, error: outcome.reason, leaderId: outcome.leaderId };
    // The forwarder usually waits to apply the entry itself: tell the followers the commit now.
    group.announceCommit();
    return { ok: true, result: codec.encode(outcome.result) };
  }

  /**
   * Proposes on the group's leader wherever it is: locally when this node leads, otherwise
   * forwarded over the transport. Retries (bounded) across leader changes — unless `once`: then a
   * single attempt, for callers whose proposals must never apply twice or out of their order (a
   * ZooKeeper client's writes: a failure closes its connection and the client decides).
   */
  async proposeToLeader<R>(groupId: string, data: Uint8Array, options: { timeoutMs?: number; once?: boolean } = {}): Promise<ForwardOutcome<R>> {
    const deadline = this.options.clock.monotonicMs() + (options.timeoutMs ?? 10_000);
    let lastReason = "noLeader";
    for (let attempt = 0; this.options.clock.monotonicMs() < deadline && !this.closed; attempt++) {
      if (options.once && attempt > 0) break;
      const group = this.groups.get(groupId) as ReplicatedGroup<R> | undefined;
      if (group?.role === "leader" && group.isLeaderReady) {
        const outcome: ProposeOutcome<R> = await group.propose(data);
        if (outcome.ok) return { ok: true, result: outcome.result };
        lastReason = outcome.reason;
        if (outcome.reason === "tooLarge" || outcome.reason === "closed") return { ok: false, reason: outcome.reason };
      } else {
        const leader = this.leaderOf(groupId);
        const codec = this.specs.get(groupId)?.resultCodec as GroupSpec<R>["resultCodec"];
        if (leader && leader.leaderId !== this.options.nodeId && this.rpc && codec) {
          const forwarded = await this.rpc.forward(leader.leaderId, groupId, data);
          if (forwarded.ok) return { ok: true, result: codec.decode(forwarded.result) };
          lastReason = forwarded.error;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(200, 5 * 2 ** attempt)));
    }
    return { ok: false, reason: lastReason };
  }

  /**
   * Reports keys of a group that were active here (e.g. ZooKeeper sessions that pinged) to the
   * group's leader over the peer channel, in frames of at most TOUCH_KEYS_PER_MESSAGE keys. False
   * when no leader is known or the frames could not be queued: the caller keeps them for later.
   */
  sendTouches(groupId: string, keys: readonly string[]): boolean {
    const leader = this.leaderOf(groupId);
    if (!leader || leader.leaderId === this.options.nodeId || !this.rpc) return false;
    return this.rpc.touch(leader.leaderId, groupId, keys);
  }

  /** Hears the touches peers report for a group (one handler per group; undefined removes it). */
  onTouches(groupId: string, handler: ((from: number, keys: string[]) => void) | undefined): void {
    if (handler) this.touchHandlers.set(groupId, handler);
    else this.touchHandlers.delete(groupId);
  }

  get nodeId(): number {
    return this.options.nodeId;
  }

  start(): void {
    const tickMs = this.options.tickMs ?? 50;
    this.ticker = setInterval(() => {
      for (const group of this.groups.values()) group.tick();
    }, tickMs);
    this.announcer = setInterval(() => this.announce(), ANNOUNCE_CHECK_MS);
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
      onCommitLatency: this.options.onCommitLatency ? (seconds) => this.options.onCommitLatency!(spec.groupId, seconds) : undefined,
      sendSnapshot: this.rpc ? (to, slot, meta, data) => this.rpc!.sendSnapshot(to, spec.groupId, slot, meta, data) : undefined,
    });
    this.opening.set(spec.groupId, opening as Promise<ReplicatedGroup<unknown>>);
    this.specs.set(spec.groupId, spec as GroupSpec<unknown>);
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
    this.specs.delete(groupId);
    this.lastKnownLeader.delete(groupId);
    this.announced.delete(groupId);
    await group?.close();
    if (options.deleteData) await rm(join(this.options.dataDir, "groups", groupDirName(groupId)), { recursive: true, force: true });
  }

  /**
   * Before a planned shutdown: hands every group this node leads to another connected voter and
   * waits (bounded) until it no longer leads any, so clients see a leader change instead of an
   * election timeout.
   */
  async drain(timeoutMs = 3_000): Promise<void> {
    const deadline = this.options.clock.monotonicMs() + timeoutMs;
    const leading = (): Array<[string, ReplicatedGroup<unknown>]> => [...this.groups].filter(([, g]) => g.role === "leader" && g.status().membership.voters.length > 1);
    for (const [, group] of leading()) {
      const target = group.status().membership.voters.find((v) => v !== this.options.nodeId && this.isPeerConnected(v));
      if (target !== undefined) group.transferLeadership(target);
    }
    while (leading().length > 0 && this.options.clock.monotonicMs() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.ticker);
    clearInterval(this.announcer);
    this.rpc?.close();
    await Promise.allSettled([...this.opening.values()]);
    await Promise.all([...this.groups.values()].map((g) => g.close()));
    this.groups.clear();
  }
}
