// One Multi-Paxos group hosted by this node: the pure replica (src/paxos/), its durable state in
// the storage engine (log, hard-state record, snapshots), and the state machine it feeds. This is
// the driver loop of the Ready contract (src/paxos/ready.ts):
//
//   rd = replica.ready()
//   send rd.messages (they need no local persistence)
//   apply rd.committed, serve rd.reads, answer rd.loads
//   persist rd.persist: hard state (durable first), truncate, append, fsync when syncRequired
//   send replica.advance(rd)   ← promises and accepts leave only after the fsync
//
// While one Ready is being persisted, new proposals accumulate inside the replica, so the next
// Ready carries them all: many proposals share one fsync (group commit) without any timer.
// Pipelining: while a Ready's fsync runs, the next Ready (appends only; the core holds back hard
// state and truncations) is written and its fsync queued, up to READIES_IN_FLIGHT of them, so the
// disk does not idle while the event loop applies, replies and encodes. Readies are advanced in
// order, each once its own fsync and every earlier one finished. Snapshots, installs and other
// calls into the replica wait until nothing is in flight (the pipeline drains for them).
import { assert } from "../util/assert.js";
import type { Clock } from "../util/clock.js";
import type { Logger } from "../util/logger.js";
import type { Random } from "../util/random.js";
import type { LogPosition, SnapshotChunks, StateMachine } from "../util/state-machine.js";
import {
  Replica,
  bootstrapState,
  decodeBatch,
  decodeHardState,
  decodeLogEntry,
  decodeMessage,
  decodeSnapshotMeta,
  encodeHardState,
  encodeLogEntryParts,
  encodeMessage,
  encodeSnapshotMeta,
  EntryKind,
  replicaId,
  type DurableState,
  type LogEntry,
  type Message,
  type Ready,
  type ReplicaOptions,
  type ReplicaStatus,
  type Role,
} from "../paxos/index.js";
import { SegmentedLog } from "../storage/segmented-log.js";
import { MetaStore } from "../storage/meta-store.js";
import { SnapshotStore, type SnapshotInfo } from "../storage/snapshot-store.js";
import type { StorageFsyncPolicy } from "../storage/fsync-policy.js";
import { mkdir } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import { Deque } from "../util/deque.js";
import { join } from "node:path";

/** Longest stretch of snapshot serialization between two turns of the event loop. */
const SNAPSHOT_SLICE_MS = 4;

/** Thrown into a streamed snapshot save to abandon it (the group closed, or a snapshot was installed). */
class SnapshotAbandoned extends Error {
  constructor() {
    super("snapshot abandoned");
  }
}

/** Applied command bytes between automatic snapshots, at least, as a multiple of the last image. */
const SNAPSHOT_LOG_TO_IMAGE = 2;

export type ProposeOutcome<R> =
  | { ok: true; result: R; slot: number }
  | { ok: false; reason: "notLeader" | "backpressure" | "tooLarge" | "leadershipLost" | "closed"; leaderId?: number };

export interface GroupOptions<R> {
  groupId: string;
  nodeId: number;
  /** Directory of this group's durable state. */
  dir: string;
  /** Voters when the group is created for the first time (ignored once it has durable state). */
  initialVoters: readonly number[];
  stateMachine: StateMachine<R>;
  clock: Clock;
  random: Random;
  logger: Logger;
  fsync: StorageFsyncPolicy;
  /** Sends an encoded Paxos message to a peer of this group (the transport adds the group id). */
  send(to: number, message: Uint8Array): void;
  /**
   * Storage index fields of an entry from its commands (empty for no-ops and config entries):
   * Kafka uses the first offset and max timestamp of the batches.
   */
  entryIndexFields?(commands: readonly Uint8Array[]): { key?: number; timestamp: number };
  replica?: Omit<ReplicaOptions, "id" | "random">;
  /**
   * Take a state-machine snapshot after this many applied bytes (default 64 MiB), and never
   * before SNAPSHOT_LOG_TO_IMAGE times the last image's size.
   */
  snapshotEveryBytes?: number;
  /**
   * Whether the log is compacted behind snapshots. False for Kafka partitions, whose log is the
   * data users read and is trimmed by retention instead.
   */
  compactBehindSnapshots?: boolean;
  /** Entries kept behind a snapshot for lagging followers when compacting (default 10,000). */
  trailingEntries?: number;
  segmentBytesMax?: number;
  /** Called once if the group hits a storage failure it cannot continue after (e.g. fsync). */
  onFatal?(error: Error): void;
  /** Observes each proposal's time from propose() to applied here (commit latency). */
  onCommitLatency?(seconds: number): void;
  /**
   * Streams a snapshot image to a follower whose next slot is below this log's first slot; resolves
   * with the follower's verdict. Absent on a single node (no followers).
   */
  sendSnapshot?(to: number, slot: number, meta: Uint8Array, data: Uint8Array): Promise<boolean>;
}

/** The commands of a log entry (none for no-ops and config entries). */
export function entryCommands(entry: LogEntry): Uint8Array[] {
  return entry.kind === EntryKind.commands ? decodeBatch(entry.data).map((c) => c.data) : [];
}

/**
 * The commands of an entry as stored in a group's log (a storage payload): readers that go
 * straight to the log, such as Kafka fetch, use this instead of the consensus codec.
 */
export function storedCommands(payload: Uint8Array): { slot: number; commands: Uint8Array[] } {
  const entry = decodeLogEntry(payload);
  return { slot: entry.slot, commands: entryCommands(entry) };
}

/** A local proposal waiting for its apply; proposals are applied in the order they were made. */
interface Waiter<R> {
  readonly slot: number;
  readonly index: number;
  readonly startedMs: number;
  readonly callback: (outcome: ProposeOutcome<R>) => void;
}

interface ReadWaiter {
  resolve(ok: boolean): void;
}

const HARD_STATE_NAME = "hard-state";
/** The storage write buffer of a group's log: above the largest entry (8 MiB Kafka produces). */
const WRITE_BUFFER_BYTES = 32 * 2 ** 20;
/**
 * Readies written and not yet advanced (the core's readiesInFlightMax is set to the same): two,
 * as the log runs two sync rounds at once; four measured no better on the ZooKeeper workloads.
 */
const READIES_IN_FLIGHT = 2;

/** A Ready whose persist was started: written in order, durable once `done` without `error`. */
interface InFlight {
  readonly rd: Ready;
  /** The log's last index once this Ready's entries were written: durable with it. */
  readonly durableThrough: number;
  done: boolean;
  error: Error | undefined;
  /** Settles when `done` is set. */
  readonly settled: Promise<void>;
}

export class ReplicatedGroup<R> {
  readonly groupId: string;
  private readonly replica: Replica;
  /** Local proposals in (slot, index) order. */
  private readonly waiters = new Deque<Waiter<R>>();
  private readonly readWaiters = new Map<number, ReadWaiter>();
  /** Reads confirmed by the leader but waiting for apply to reach their slot. */
  private readonly readsAwaitingApply: Array<{ slot: number; waiter: ReadWaiter }> = [];
  private nextReadId = 1;
  private pumping = false;
  private pumpAgain = false;
  /** Readies being persisted or persisted and not yet advanced, oldest first. */
  private readonly inFlight: InFlight[] = [];
  /** Set while the pump waits for the oldest Ready's fsync: new work wakes it early. */
  private wake: (() => void) | undefined;
  private closed = false;
  private failed: Error | undefined;
  private appliedSlotValue: number;
  /** announceCommit() queued for the next event-loop turn. */
  private commitAnnounceQueued = false;
  private appliedBytesSinceSnapshot = 0;
  private snapshotting = false;
  /** The capture in progress (close waits for it: an abandoned stream removes its unfinished file). */
  private capture: Promise<void> = Promise.resolve();
  private readonly snapshotWaiters: Array<() => void> = [];
  /** A snapshot from the leader, installed at the next safe point of the driver loop. */
  private pendingInstall: { slot: number; meta: Uint8Array; data: Uint8Array; resolve(ok: boolean): void } | undefined;
  /** Counts snapshot installs, so a streamed snapshot capture can tell it was overtaken. */
  private installs = 0;
  /** Size of the last snapshot image this group took (maybeSnapshot spaces snapshots by it). */
  private lastSnapshotBytes = 0;
  /** Calls into the replica waiting for the Ready in progress to be advanced (betweenReadies). */
  private betweenReadiesCalls: Array<() => void> = [];
  private readonly snapshotSendsInFlight = new Set<number>();
  /** slot → callbacks waiting for the entry to be fsynced locally (acks=1). */
  private readonly durableCallbacks = new Map<number, Array<() => void>>();
  private roleValue: Role = "follower";
  private leaderIdValue: number | undefined;
  private lastKey = Number.MIN_SAFE_INTEGER;
  private readonly appliedListeners = new Set<(slot: number) => void>();
  private readonly roleListeners = new Set<(role: Role, leaderId: number | undefined) => void>();

  private constructor(
    private readonly options: GroupOptions<R>,
    private readonly log: SegmentedLog,
    private readonly hardStateStore: MetaStore,
    private readonly snapshots: SnapshotStore,
    durable: DurableState,
  ) {
    this.groupId = options.groupId;
    this.appliedSlotValue = durable.appliedSlot;
    this.replica = new Replica({ readiesInFlightMax: READIES_IN_FLIGHT, ...options.replica, id: replicaId(options.nodeId), random: options.random }, durable);
  }

  /** Opens (or creates) the group's storage, restores the newest snapshot, builds the replica. */
  static async open<R>(options: GroupOptions<R>): Promise<ReplicatedGroup<R>> {
    await mkdir(options.dir, { recursive: true });
    const logger = options.logger.child({ group: options.groupId });
    const log = await SegmentedLog.open({
      dir: join(options.dir, "log"),
      clock: options.clock,
      logger,
      fsync: options.fsync,
      initialIndex: 1,
      segmentBytesMax: options.segmentBytesMax,
      writeBufferBytesMax: WRITE_BUFFER_BYTES,
      entryBytesMax: WRITE_BUFFER_BYTES / 2,
    });
    const hardStateStore = await MetaStore.open({ dir: options.dir, name: HARD_STATE_NAME });
    await mkdir(join(options.dir, "snapshots"), { recursive: true });
    // A few snapshots are kept: a Kafka partition cuts its log just after one below its log start.
    const snapshots = await SnapshotStore.open({ dir: join(options.dir, "snapshots"), logger, keepCount: 4 });
    const durable = await ReplicatedGroup.loadDurableState(options, log, hardStateStore, snapshots, logger);
    const group = new ReplicatedGroup(options, log, hardStateStore, snapshots, durable);
    await group.refreshLastKey();
    logger.info({ appliedSlot: durable.appliedSlot, lastSlot: durable.lastSlot, firstSlot: durable.logFirstSlot }, "group opened");
    return group;
  }

  private static async loadDurableState<R>(
    options: GroupOptions<R>,
    log: SegmentedLog,
    hardStateStore: MetaStore,
    snapshots: SnapshotStore,
    logger: Logger,
  ): Promise<DurableState> {
    // Memberships list voters in ascending id order (the codec asserts it); the order of a
    // partition's replica list (preferred leader first) matters only to the Kafka layer.
    const fresh = bootstrapState({ voters: [...options.initialVoters].sort((a, b) => a - b).map((id) => replicaId(id)), learners: [] });
    const hardState = hardStateStore.record ? decodeHardState(hardStateStore.record) : fresh.hardState;
    const snapshot = await snapshots.loadLatest();
    let snapshotMeta = fresh.snapshot;
    let appliedSlot = 0;
    if (snapshot) {
      snapshotMeta = decodeSnapshotMeta(snapshot.meta);
      options.stateMachine.restore(snapshot.data);
      appliedSlot = snapshotMeta.slot;
      logger.info({ slot: snapshotMeta.slot }, "restored state machine snapshot");
    }
    const lastSlot = Math.max(log.lastIndex, snapshotMeta.slot);
    // The replica needs the tail above what is applied (it re-learns the commit and re-applies).
    const tail: LogEntry[] = [];
    let lostFromSlot: number | undefined;
    const from = Math.max(appliedSlot + 1, log.firstIndex);
    let next = from;
    while (next <= log.lastIndex) {
      let entries;
      try {
        entries = await log.read(next, { maxBytes: 16 * 2 ** 20 });
      } catch (error) {
        logger.error({ slot: next, err: error }, "corrupt entry in the durable log; rejoining as a non-voter until caught up");
        lostFromSlot = next;
        break;
      }
      for (const e of entries) tail.push(decodeLogEntry(e.payload));
      next = entries[entries.length - 1].index + 1;
    }
    const durable: DurableState = {
      hardState,
      snapshot: snapshotMeta,
      logFirstSlot: Math.max(log.firstIndex, snapshotMeta.slot + 1),
      lastSlot: lostFromSlot !== undefined ? Math.max(lostFromSlot - 1, snapshotMeta.slot) : lastSlot,
      tail,
      memberships: [],
      appliedSlot,
      ...(lostFromSlot !== undefined ? { lostFromSlot } : {}),
    };
    return durable;
  }

  get role(): Role {
    return this.roleValue;
  }

  get leaderId(): number | undefined {
    return this.leaderIdValue;
  }

  get appliedSlot(): number {
    return this.appliedSlotValue;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  status(): ReplicaStatus {
    return this.replica.status();
  }

  /** As leader: how far each follower trails this log (slots), for replication-lag metrics. */
  followerLag(): Array<{ replicaId: number; lagSlots: number }> {
    const last = this.replica.status().lastSlot;
    return this.replica.followerProgress().map((p) => ({ replicaId: p.replicaId, lagSlots: Math.max(0, last - p.match) }));
  }

  /** Leader of this group, having committed an entry in its own ballot: may serve reads and writes. */
  get isLeaderReady(): boolean {
    const status = this.replica.status();
    return status.role === "leader" && status.committedInBallot && this.appliedSlotValue >= status.commitSlot;
  }

  get stateMachine(): StateMachine<R> {
    return this.options.stateMachine;
  }

  /** The storage log (read-only use: Kafka fetch reads committed entries straight from it). */
  get storage(): SegmentedLog {
    return this.log;
  }

  onApplied(listener: (slot: number) => void): () => void {
    this.appliedListeners.add(listener);
    return () => this.appliedListeners.delete(listener);
  }

  onRoleChange(listener: (role: Role, leaderId: number | undefined) => void): () => void {
    this.roleListeners.add(listener);
    return () => this.roleListeners.delete(listener);
  }

  /**
   * Proposes a command; resolves once it is chosen, durable at a majority, and applied here.
   * `onLocallyDurable`, if given, is called as soon as the entry is fsynced in THIS node's log —
   * before a majority has it (Kafka's acks=1 answers then; see docs/operations.md for what that
   * risks).
   */
  propose(data: Uint8Array | readonly Uint8Array[], onLocallyDurable?: () => void): Promise<ProposeOutcome<R>> {
    return new Promise((resolve) => this.proposeWith(data, resolve, onLocallyDurable));
  }

  /**
   * propose() with a callback instead of a promise (the ZooKeeper write path answers from inside
   * the apply and needs no promise per write). `callback` runs exactly once: after the local apply,
   * or when the proposal is refused or lost (synchronously for a refusal).
   */
  proposeWith(data: Uint8Array | readonly Uint8Array[], callback: (outcome: ProposeOutcome<R>) => void, onLocallyDurable?: () => void): void {
    if (this.closed || this.failed) return callback({ ok: false, reason: "closed" });
    const result = this.guard(() => this.replica.propose({ data }));
    if (result === undefined) return callback({ ok: false, reason: "closed" });
    switch (result.kind) {
      case "ok": {
        this.schedule();
        if (onLocallyDurable) {
          const list = this.durableCallbacks.get(result.slot) ?? [];
          list.push(onLocallyDurable);
          this.durableCallbacks.set(result.slot, list);
        }
        const last = this.waiters.peekLast();
        // Proposals are made in log order within a leadership; one that is not (a new ballot
        // re-used slots) means the older waiters' outcome is unknown: they are reported lost.
        if (last !== undefined && !(result.slot > last.slot || (result.slot === last.slot && result.index > last.index))) this.failProposals("leadershipLost");
        this.waiters.push({ slot: result.slot, index: result.index, startedMs: performance.now(), callback });
        return;
      }
      case "notLeader":
        return callback({ ok: false, reason: "notLeader", leaderId: result.leaderHint });
      case "backpressure":
        return callback({ ok: false, reason: "backpressure" });
      case "tooLarge":
        return callback({ ok: false, reason: "tooLarge" });
    }
  }

  /** The oldest waiting proposal, if it is the command at (slot, index); earlier ones that were skipped are failed. */
  private takeWaiter(slot: number, index: number): Waiter<R> | undefined {
    for (;;) {
      const waiter = this.waiters.peek();
      if (waiter === undefined) return undefined;
      if (waiter.slot > slot || (waiter.slot === slot && waiter.index > index)) return undefined;
      this.waiters.shift();
      if (waiter.slot === slot && waiter.index === index) return waiter;
      // Never expected (a leader's own entries are applied in order or it loses leadership, which
      // fails every waiter): a proposal passed over is reported lost rather than left waiting.
      waiter.callback({ ok: false, reason: "leadershipLost", leaderId: this.leaderIdValue });
    }
  }

  /**
   * As the leader: sends the commit slot to the followers soon (once per event-loop turn however
   * often it is called) instead of with the next heartbeat — after serving a proposal a follower
   * forwarded, which that follower waits to apply.
   */
  announceCommit(): void {
    if (this.commitAnnounceQueued || this.closed || this.failed) return;
    this.commitAnnounceQueued = true;
    setImmediate(() => {
      this.commitAnnounceQueued = false;
      if (this.closed || this.failed) return;
      this.guard(() => this.replica.announceCommit());
      this.schedule();
    });
  }

  /**
   * A linearizable read barrier (read index): resolves true once this node, as leader, has
   * confirmed its leadership with a quorum and applied everything committed before the call.
   */
  readBarrier(): Promise<boolean> {
    if (this.closed || this.failed) return Promise.resolve(false);
    const requestId = this.nextReadId++;
    const result = this.replica.readIndex(requestId);
    if (result.kind !== "pending") return Promise.resolve(false);
    this.schedule();
    return new Promise((resolve) => this.readWaiters.set(requestId, { resolve }));
  }

  /**
   * Proposes a single-voter membership change (add a learner, promote it, remove a member). The
   * core allows one uncommitted change at a time and only after the leader committed in its ballot.
   */
  proposeMembership(change: { kind: "addLearner" | "promote" | "remove"; replicaId: number }): string {
    if (this.closed || this.failed) return "closed";
    const result = this.guard(() => this.replica.proposeMembership({ kind: change.kind, replicaId: replicaId(change.replicaId) }));
    this.schedule();
    return result?.kind ?? "closed";
  }

  /**
   * Hands leadership to `target` (it is caught up first, then told to campaign). Used for
   * preferred-leader balancing and before a planned shutdown. Returns false when refused.
   */
  transferLeadership(target: number): boolean {
    if (this.closed || this.failed) return false;
    const result = this.replica.transferLeadership(replicaId(target));
    this.schedule();
    return result.kind === "ok";
  }

  /** Starts an election now (a single-voter group uses it to lead at once on start). */
  campaign(): void {
    this.replica.campaignNow();
    this.schedule();
  }

  tick(): void {
    if (this.closed || this.failed) return;
    this.guard(() => this.replica.tick());
    this.schedule();
  }

  /**
   * Runs a call into the replica. An assertion failing inside it means the replica's state can no
   * longer be trusted: the group stops (fatal, like a storage failure) instead of going on.
   */
  private guard<T>(call: () => T): T | undefined {
    try {
      return call();
    } catch (error) {
      this.fail(error as Error);
      return undefined;
    }
  }

  /** A message from a peer (bytes as the peer's group sent them). */
  receive(bytes: Uint8Array): void {
    if (this.closed || this.failed) return;
    let message: Message;
    try {
      message = decodeMessage(bytes);
    } catch (error) {
      this.options.logger.warn({ group: this.groupId, err: error }, "undecodable Paxos message dropped");
      return;
    }
    this.guard(() => this.replica.step(message));
    this.schedule();
  }

  private schedule(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      this.wake?.();
      return;
    }
    this.pumping = true;
    setImmediate(() => void this.pump());
  }

  private async pump(): Promise<void> {
    try {
      do {
        this.pumpAgain = false;
        if (this.pendingInstall && this.inFlight.length === 0) await this.installPending();
        for (;;) {
          if (this.closed) {
            // Nothing more is advanced; the writes already started finish before the log closes.
            await Promise.all(this.inFlight.splice(0).map((f) => f.settled));
            break;
          }
          if (this.pendingInstall && this.inFlight.length === 0) break;
          const rd = this.mayTakeReady() ? this.replica.ready() : undefined;
          if (rd !== undefined) {
            await this.startReady(rd);
            continue;
          }
          if (this.inFlight.length === 0) break;
          if (!this.inFlight[0].done) await this.nextEvent(this.inFlight[0]);
          while (this.inFlight.length > 0 && this.inFlight[0].done && !this.closed) this.finishOldest();
        }
      } while (this.pumpAgain && !this.closed);
    } catch (error) {
      this.fail(error as Error);
    } finally {
      this.pumping = false;
      for (const call of this.betweenReadiesCalls.splice(0)) call();
      // A snapshotNow() that arrived after the last Ready's maybeSnapshot is served now.
      if (this.snapshotWaiters.length > 0 && !this.closed) void this.captureSnapshot();
    }
    if (this.pumpAgain && !this.closed && !this.failed) this.schedule();
  }

  /**
   * Whether to hand out another Ready now: always with none in flight; with some, up to
   * READIES_IN_FLIGHT, unless something waits for the pipeline to drain (a call into the replica,
   * a snapshot, an install).
   */
  private mayTakeReady(): boolean {
    if (this.inFlight.length === 0) return true;
    if (this.inFlight.length >= READIES_IN_FLIGHT) return false;
    return this.betweenReadiesCalls.length === 0 && this.snapshotWaiters.length === 0 && this.pendingInstall === undefined && !this.snapshotDue();
  }

  /** Waits until `oldest` is durable or new work (a message, a proposal, a tick) arrives. */
  private async nextEvent(oldest: InFlight): Promise<void> {
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      void oldest.settled.then(resolve);
    });
    this.wake = undefined;
  }

  /** Acts on a Ready, writes its persist and queues its fsync; advance() comes in finishOldest(). */
  private async startReady(rd: Ready): Promise<void> {
    if (rd.softState) this.onSoftState(rd.softState.role, rd.softState.leaderId);
    this.sendAll(rd.messages);
    this.applyCommitted(rd.committed);
    for (const read of rd.reads) this.onReadState(read.requestId, read.outcome === "ok" ? read.slot : undefined);
    for (const load of rd.loads) void this.serveLoad(load.fromSlot, load.toSlot, load.bytesMax);
    for (const send of rd.snapshotSends) void this.streamSnapshot(send.to, send.slot);
    const { hardState, truncateFromSlot, entries, syncRequired } = rd.persist;
    assert(this.inFlight.length === 0 || (hardState === undefined && truncateFromSlot === undefined), "a pipelined Ready only appends");
    await this.write(rd);
    let settle!: () => void;
    const flight: InFlight = { rd, durableThrough: this.log.lastIndex, done: false, error: undefined, settled: new Promise((resolve) => (settle = resolve)) };
    this.inFlight.push(flight);
    const finish = (error?: Error): void => {
      flight.done = true;
      flight.error = error;
      settle();
    };
    if (syncRequired || entries.length > 0) this.log.sync().then(() => finish(), (error: Error) => finish(error));
    else finish();
  }

  /** The oldest Ready is durable: advance it, send what it released, and serve what waited for it. */
  private finishOldest(): void {
    const flight = this.inFlight.shift()!;
    if (flight.error) throw flight.error;
    if (this.durableCallbacks.size > 0) this.notifyDurable(flight.durableThrough);
    this.sendAll(this.replica.advance(flight.rd));
    if (this.inFlight.length > 0) return;
    for (const call of this.betweenReadiesCalls.splice(0)) call();
    this.maybeSnapshot();
  }

  /** Runs `call` into the replica now if no Ready is in progress, else right after its advance(). */
  private betweenReadies<T>(call: () => T): Promise<T | undefined> {
    if (this.closed || this.failed) return Promise.resolve(undefined);
    if (!this.pumping) return Promise.resolve(this.guard(call));
    return new Promise((resolve) => this.betweenReadiesCalls.push(() => resolve(this.closed || this.failed ? undefined : this.guard(call))));
  }

  /** The storage key of the log's last entry: new entries without a key of their own repeat it. */
  private async refreshLastKey(): Promise<void> {
    this.lastKey = this.options.entryIndexFields ? 0 : Number.MIN_SAFE_INTEGER;
    if (this.log.lastIndex >= this.log.firstIndex) {
      const [last] = await this.log.read(this.log.lastIndex, { maxEntries: 1 });
      if (last) this.lastKey = last.key;
    }
  }

  /** Writes a Ready's persist in order: hard state (durable), truncation, appends (buffered). */
  private async write(rd: Ready): Promise<void> {
    const { hardState, truncateFromSlot, entries } = rd.persist;
    if (hardState) await this.hardStateStore.write(encodeHardState(hardState));
    if (truncateFromSlot !== undefined && truncateFromSlot <= this.log.lastIndex) {
      await this.log.truncateSuffix(truncateFromSlot);
      await this.refreshLastKey();
    }
    for (const entry of entries) {
      assert(entry.slot === this.log.lastIndex + 1 || this.log.lastIndex < this.log.firstIndex, `entry ${entry.slot} does not follow ${this.log.lastIndex}`);
      const fields = this.options.entryIndexFields?.(entryCommands(entry)) ?? { timestamp: 0 };
      // Keys must not decrease in storage; an entry without a key (no-op, skipped batch) repeats the last.
      const key = Math.max(this.lastKey, fields.key ?? this.lastKey);
      this.lastKey = key;
      const payload = encodeLogEntryParts(entry);
      const bytes = payload[0].length + payload[1].length;
      // The storage write buffer is bounded: hand what is buffered to the OS before it fills.
      if (this.log.bufferedBytes + bytes + 64 > WRITE_BUFFER_BYTES) await this.log.flush();
      this.log.append({ timestamp: fields.timestamp, key: key === Number.MIN_SAFE_INTEGER ? undefined : key, payload });
    }
  }

  private notifyDurable(durableSlot: number): void {
    for (const [slot, callbacks] of this.durableCallbacks) {
      if (slot > durableSlot) continue;
      this.durableCallbacks.delete(slot);
      for (const callback of callbacks) callback();
    }
  }

  private sendAll(messages: readonly Message[]): void {
    for (const message of messages) {
      if (message.to === this.options.nodeId) continue;
      this.options.send(message.to, encodeMessage(message));
    }
  }

  /** Times this replica became leader (elections won, including leadership transfers). */
  leaderships = 0;

  private onSoftState(role: Role, leaderId: number | undefined): void {
    const wasLeader = this.roleValue === "leader";
    if (!wasLeader && role === "leader") this.leaderships++;
    this.roleValue = role;
    this.leaderIdValue = leaderId;
    if (wasLeader && role !== "leader") this.failWaiters("leadershipLost");
    this.options.logger.info({ group: this.groupId, role, leaderId }, "role changed");
    for (const listener of this.roleListeners) listener(role, leaderId);
  }

  private failProposals(reason: "leadershipLost" | "closed"): void {
    for (const w of this.waiters.drain()) w.callback({ ok: false, reason, leaderId: this.leaderIdValue });
  }

  private failWaiters(reason: "leadershipLost" | "closed"): void {
    this.durableCallbacks.clear();
    this.failProposals(reason);
    const reads = [...this.readWaiters.values(), ...this.readsAwaitingApply.map((r) => r.waiter)];
    this.readWaiters.clear();
    this.readsAwaitingApply.length = 0;
    for (const r of reads) r.resolve(false);
  }

  private applyCommitted(entries: readonly LogEntry[]): void {
    if (entries.length === 0) return;
    for (const entry of entries) {
      assert(entry.slot === this.appliedSlotValue + 1, `apply of slot ${entry.slot} after ${this.appliedSlotValue}`);
      if (entry.kind === EntryKind.commands) {
        const commands = decodeBatch(entry.data);
        for (let index = 0; index < commands.length; index++) {
          const position: LogPosition = { slot: entry.slot, index };
          const result = this.options.stateMachine.apply(commands[index].data, position);
          const waiter = this.waiters.length > 0 ? this.takeWaiter(entry.slot, index) : undefined;
          if (waiter) {
            this.options.onCommitLatency?.((performance.now() - waiter.startedMs) / 1000);
            waiter.callback({ ok: true, result, slot: entry.slot });
          }
        }
        this.appliedBytesSinceSnapshot += entry.data.length;
      }
      this.appliedSlotValue = entry.slot;
    }
    for (let i = this.readsAwaitingApply.length - 1; i >= 0; i--) {
      const read = this.readsAwaitingApply[i];
      if (read.slot <= this.appliedSlotValue) {
        this.readsAwaitingApply.splice(i, 1);
        read.waiter.resolve(true);
      }
    }
    for (const listener of this.appliedListeners) listener(this.appliedSlotValue);
  }

  private onReadState(requestId: number, slot: number | undefined): void {
    const waiter = this.readWaiters.get(requestId);
    if (!waiter) return;
    this.readWaiters.delete(requestId);
    if (slot === undefined) waiter.resolve(false);
    else if (slot <= this.appliedSlotValue) waiter.resolve(true);
    else this.readsAwaitingApply.push({ slot, waiter });
  }

  private async serveLoad(fromSlot: number, toSlot: number, bytesMax: number): Promise<void> {
    try {
      const entries = await this.log.read(fromSlot, { toExclusive: toSlot + 1, maxBytes: bytesMax });
      if (this.closed) return;
      this.replica.loaded(fromSlot, entries.map((e) => decodeLogEntry(e.payload)));
      this.schedule();
    } catch (error) {
      this.options.logger.error({ group: this.groupId, fromSlot, toSlot, err: error }, "log load failed");
    }
  }

  private maybeSnapshot(): void {
    if (this.snapshotWaiters.length > 0 || this.snapshotDue()) void this.captureSnapshot();
  }

  private snapshotDue(): boolean {
    // A snapshot costs in proportion to its image, so the log between two is at least
    // SNAPSHOT_LOG_TO_IMAGE times the last image: snapshotting never costs more than half of
    // what logging does (a 50 MB tree every 16 MiB of commands had cost three times as much).
    const every = Math.max(this.options.snapshotEveryBytes ?? 64 * 2 ** 20, SNAPSHOT_LOG_TO_IMAGE * this.lastSnapshotBytes);
    return !this.snapshotting && this.appliedBytesSinceSnapshot >= every;
  }

  /**
   * Takes a state-machine snapshot at the applied slot and (if configured) compacts the log.
   * The image must be taken where the replica agrees on what is applied, i.e. between Readies;
   * a call that arrives while a Ready is being persisted is served right after its advance().
   */
  snapshotNow(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const taken = new Promise<void>((resolve) => this.snapshotWaiters.push(resolve));
    if (!this.pumping) void this.captureSnapshot();
    return taken;
  }

  /** Waiters that arrive while a capture runs stay queued for the next one (taken after it). */
  private captureSnapshot(): Promise<void> {
    if (this.snapshotting) return Promise.resolve();
    this.capture = this.captureSnapshotOnce();
    return this.capture;
  }

  private async captureSnapshotOnce(): Promise<void> {
    const waiters = this.snapshotWaiters.splice(0);
    try {
      if (this.closed) return;
      this.snapshotting = true;
      const slot = this.appliedSlotValue;
      assert(this.replica.status().appliedSlot === slot, "snapshots are taken between Readies");
      this.appliedBytesSinceSnapshot = 0;
      const startedMs = performance.now();
      const installs = this.installs;
      const meta = encodeSnapshotMeta(this.replica.snapshotMeta(slot));
      const stateMachine = this.options.stateMachine;
      let saved: SnapshotInfo;
      try {
        saved = stateMachine.snapshotStream
          ? await this.snapshots.saveStream(slot, meta, this.slicedImage(stateMachine.snapshotStream(), installs))
          : await this.snapshots.save(slot, stateMachine.snapshot(), meta);
      } catch (error) {
        // An installed snapshot or a close while the image was streamed makes it obsolete.
        if (error instanceof SnapshotAbandoned) return;
        throw error;
      }
      this.lastSnapshotBytes = saved.sizeBytes;
      // The replica learns of the durable snapshot between Readies, as the Ready contract wants of
      // calls into it, and only if no snapshot from the leader was installed meanwhile.
      const taken = await this.betweenReadies(() => (this.installs === installs ? this.replica.snapshotTaken(slot) : undefined));
      if (taken === undefined) return;
      this.options.logger.info({ group: this.groupId, slot, bytes: saved.sizeBytes, ms: Math.round(performance.now() - startedMs) }, "snapshot saved");
      if (this.options.compactBehindSnapshots) {
        const keepFrom = Math.max(this.log.firstIndex, slot - (this.options.trailingEntries ?? 10_000) + 1);
        if (keepFrom > this.log.firstIndex) {
          await this.log.compactPrefix(keepFrom);
          this.replica.logCompacted(this.log.firstIndex);
        }
      }
    } catch (error) {
      this.options.logger.error({ group: this.groupId, err: error }, "snapshot failed");
    } finally {
      this.snapshotting = false;
      for (const resolve of waiters) resolve();
      // Between Readies (not pumping) a queued request is served now; otherwise after the Ready.
      if (this.snapshotWaiters.length > 0) {
        if (this.closed) for (const resolve of this.snapshotWaiters.splice(0)) resolve();
        else if (!this.pumping) void this.captureSnapshot();
      }
    }
  }

  /**
   * Sends a follower the oldest retained snapshot at or above `slot`: the leader's log holds every
   * entry after it, so the follower's log stays complete from there (for a Kafka partition that
   * matters: its log is the data consumers read).
   */
  private async streamSnapshot(to: number, _slot: number): Promise<void> {
    if (this.snapshotSendsInFlight.has(to)) return;
    this.snapshotSendsInFlight.add(to);
    let ok = false;
    try {
      // The core asks for its latest snapshot; the oldest one at or above this log's first slot - 1
      // is the right one to send (after it, this log still holds every entry). If the follower
      // ends up behind the core's guess, the core's probe finds its real position.
      const horizon = this.log.firstIndex - 1;
      const infos = (await this.snapshots.list()).filter((info) => info.index >= horizon);
      const chosen = infos[0];
      const snapshot = chosen ? await this.snapshots.load(chosen) : undefined;
      if (snapshot && typeof snapshot !== "string" && this.options.sendSnapshot) {
        this.options.logger.info({ group: this.groupId, to, slot: snapshot.index, bytes: snapshot.data.byteLength }, "sending a snapshot to a lagging follower");
        ok = await this.options.sendSnapshot(to, snapshot.index, snapshot.meta, snapshot.data);
      } else if (!snapshot) {
        // None retained at or above the requested slot yet: take one now and let the core retry.
        void this.snapshotNow();
      }
    } catch (error) {
      this.options.logger.warn({ group: this.groupId, to, err: error }, "snapshot send failed");
    } finally {
      this.snapshotSendsInFlight.delete(to);
      if (!this.closed && !this.failed) {
        this.replica.reportSnapshot(replicaId(to), ok);
        this.schedule();
      }
    }
  }

  /** Slots of the snapshots retained on disk, ascending. */
  async snapshotSlots(): Promise<number[]> {
    return (await this.snapshots.list()).map((info) => info.index);
  }

  /**
   * Drops log entries below `firstSlot` (they are covered by a retained snapshot at firstSlot-1 or
   * later) and tells the replica. Callers pick firstSlot = some snapshot's slot + 1.
   */
  async compactLogTo(firstSlot: number): Promise<void> {
    if (firstSlot <= this.log.firstIndex || this.closed) return;
    assert(firstSlot - 1 <= this.appliedSlotValue, "compaction only below the applied slot");
    await this.log.compactPrefix(firstSlot);
    this.replica.logCompacted(this.log.firstIndex);
    this.schedule();
  }

  /** A snapshot from the leader: installed between Readies (see installPending). */
  offerSnapshot(slot: number, meta: Uint8Array, data: Uint8Array): Promise<boolean> {
    if (this.closed || this.failed) return Promise.resolve(false);
    this.pendingInstall?.resolve(false);
    return new Promise((resolve) => {
      this.pendingInstall = { slot, meta, data, resolve };
      this.schedule();
    });
  }

  /**
   * The state machine's image in chunks, read in slices of at most SNAPSHOT_SLICE_MS between which
   * the event loop serves other work; throws SnapshotAbandoned once the group closes or a
   * snapshot from the leader is installed (the image would describe a replaced state).
   */
  private async *slicedImage(stream: SnapshotChunks, installs: number): AsyncGenerator<Uint8Array> {
    try {
      let sliceStart = performance.now();
      for (let next = stream.next(); !next.done; next = stream.next()) {
        yield next.value;
        if (performance.now() - sliceStart < SNAPSHOT_SLICE_MS) continue;
        await new Promise((resolve) => setImmediate(resolve));
        if (this.closed || this.installs !== installs) throw new SnapshotAbandoned();
        sliceStart = performance.now();
      }
      if (this.closed || this.installs !== installs) throw new SnapshotAbandoned();
    } finally {
      stream.close();
    }
  }

  private async installPending(): Promise<void> {
    this.installs++;
    const install = this.pendingInstall!;
    this.pendingInstall = undefined;
    const meta = decodeSnapshotMeta(install.meta);
    if (meta.slot !== install.slot || meta.slot <= this.replica.status().commitSlot) {
      install.resolve(meta.slot <= this.replica.status().commitSlot);
      return;
    }
    // Durable first (a crash after this point restores from it), then state, then the log.
    await this.snapshots.save(meta.slot, install.data, install.meta);
    this.options.stateMachine.restore(install.data);
    await this.log.compactPrefix(meta.slot + 1);
    const installed = this.replica.installSnapshot(meta);
    assert(installed, "a snapshot above the commit slot installs");
    this.appliedSlotValue = meta.slot;
    this.appliedBytesSinceSnapshot = 0;
    await this.refreshLastKey();
    this.options.logger.info({ group: this.groupId, slot: meta.slot, bytes: install.data.byteLength }, "installed a snapshot from the leader");
    for (const listener of this.appliedListeners) listener(this.appliedSlotValue);
    install.resolve(true);
  }

  private fail(error: Error): void {
    if (this.failed) return;
    // A storage failure (fsync error, full disk) is fatal for the group: never retry an fsync.
    this.failed = error;
    this.options.logger.fatal({ group: this.groupId, err: error }, "group failed; it stops participating");
    this.failWaiters("closed");
    this.options.onFatal?.(error);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.pendingInstall?.resolve(false);
    this.pendingInstall = undefined;
    this.failWaiters("closed");
    this.wake?.();
    for (const call of this.betweenReadiesCalls.splice(0)) call();
    while (this.pumping) await new Promise((resolve) => setImmediate(resolve));
    await this.capture;
    await this.log.close();
    await this.hardStateStore.close();
  }
}
