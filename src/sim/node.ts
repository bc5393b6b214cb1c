// One simulated server: the SAME Replica class the runtime uses, driven through the Ready loop
// (paxos/ready.ts) against a simulated disk, plus the exactly-once KV state machine and the
// client-facing request handling. This file is also the reference driver: persist before
// advance, hard state durable before a truncation, replies only after advance, snapshots
// out of band.
import { assert, ProgrammerError } from "../util/assert.js";
import type { SeededRandom } from "../util/random.js";
import { decodeMessage, encodeMessage, type SnapshotMeta } from "../paxos/codec.js";
import { ExactlyOnceStateMachine, type AppliedCommand } from "../paxos/exactly-once.js";
import type { Membership } from "../paxos/membership.js";
import type { Message } from "../paxos/messages.js";
import type { PlantedBug } from "../paxos/config.js";
import type { DurableState, Ready } from "../paxos/ready.js";
import { Replica } from "../paxos/replica.js";
import { compareBallots, type LogEntry, type ReplicaId, type Slot } from "../paxos/types.js";
import type { AgreementChecker, CheckerName, ConvergenceChecker } from "./checkers.js";
import { SimDisk, readDurableState } from "./disk.js";
import { KvStateMachine, decodeKvResult, encodeKvOp, type KvOp, type KvResult } from "./kv.js";
import type { SimNetwork } from "./network.js";
import { DRIFT_BOUND, ELECTION_TICKS, HEARTBEAT_TICKS, TICK_MS, type FaultProfile, type ReadMode } from "./profile.js";
import type { EventQueue } from "./scheduler.js";

export interface ClientRequest {
  readonly reqId: number;
  readonly clientId: number;
  readonly sequence: number;
  readonly op: KvOp;
  readonly readMode: ReadMode;
  readonly replyTo: number;
}

export type ClientResponse =
  | { readonly reqId: number; readonly status: "ok"; readonly result: KvResult }
  /** Rejected before anything was proposed: it definitely did not take effect here. */
  | { readonly reqId: number; readonly status: "notLeader"; readonly leaderHint: number | undefined }
  /** Proposed, then the outcome became unknown (leadership lost, session expired): retry. */
  | { readonly reqId: number; readonly status: "retry" }
  | { readonly reqId: number; readonly status: "busy" };

export interface NodeEnvironment {
  readonly queue: EventQueue;
  readonly network: SimNetwork;
  readonly random: SeededRandom;
  readonly profile: FaultProfile;
  readonly agreement: AgreementChecker;
  readonly convergence: ConvergenceChecker;
  readonly plantedBug: PlantedBug | undefined;
  trace(line: string): void;
  node(id: number): SimNode | undefined;
  respond(from: number, to: number, response: ClientResponse): void;
  fail(error: unknown, node: number): void;
  /** A checker inside a node found a violation (recorded like the cluster-wide checkers'). */
  violation(checker: CheckerName, message: string): void;
  /** A node is about to wait for an fsync (the fault injector may crash it in the window). */
  crashDuringPersist(node: SimNode): void;
  /** Whether a leader that is about to apply new commits should crash right after (fault injection). */
  crashAfterCommit(node: SimNode): boolean;
  /** Crashes the node now (and schedules its restart). */
  crashNow(node: SimNode, why: string): void;
}

interface PendingRead {
  readonly request: ClientRequest;
  slot: Slot | undefined;
}

const CONVERGENCE_EVERY_SLOTS = 16;

export class SimNode {
  up = false;
  /** Bumped on every crash and restart: events scheduled by an older incarnation are ignored. */
  incarnation = 0;
  replica: Replica | undefined;
  readonly disk = new SimDisk();
  private sm: ExactlyOnceStateMachine | undefined;
  private kv: KvStateMachine | undefined;
  /**
   * Readies handed out and not yet advanced, oldest first; `durable` once their fsync finished.
   * More than one only when the profile pipelines (readiesInFlight > 1).
   */
  private inFlight: Array<{ ready: Ready; replica: Replica; durable: boolean }> = [];
  appliedSlot: Slot = 0;
  private lastSnapshotSlot: Slot = 0;
  private readonly tickPeriodMs: number;
  private readonly writeWaiters = new Map<string, Array<{ reqId: number; replyTo: number }>>();
  private readonly reads = new Map<number, PendingRead>();
  private nextRequestId = 1;
  private deferredSnapshot: { meta: SnapshotMeta; image: Uint8Array; from: number } | undefined;
  restarts = 0;
  /** Coverage marks summed over this node's incarnations. */
  readonly marks = new Map<string, number>();

  constructor(
    readonly id: ReplicaId,
    private readonly env: NodeEnvironment,
    private readonly bootstrapMembership: Membership,
  ) {
    const drift = (env.random.float() * 2 - 1) * env.profile.driftMax;
    this.tickPeriodMs = TICK_MS * (1 + drift);
  }

  get role(): string {
    return this.replica?.status().role ?? "down";
  }

  /** Starts (or restarts) from what the disk holds. */
  start(): void {
    assert(!this.up, "start a stopped node");
    this.incarnation++;
    this.up = true;
    this.inFlight = [];
    this.deferredSnapshot = undefined;
    const durable = this.readDurable();
    this.kv = new KvStateMachine();
    this.sm = new ExactlyOnceStateMachine(this.kv);
    const snapshot = this.disk.snapshot;
    if (snapshot !== undefined) this.sm.restore(snapshot.image);
    this.appliedSlot = durable.appliedSlot;
    this.lastSnapshotSlot = durable.snapshot.slot;
    this.guard(() => {
      this.replica = new Replica(
        {
          id: this.id,
          random: this.env.random.fork(),
          electionTicks: ELECTION_TICKS,
          heartbeatTicks: HEARTBEAT_TICKS,
          driftBound: DRIFT_BOUND,
          messageBytesMax: this.env.profile.messageBytesMax,
          batchBytesMax: this.env.profile.batchBytesMax,
          uncommittedBytesMax: Math.max(this.env.profile.batchBytesMax * 8, 16 * 1024),
          retainedCommittedBytesMax: 8 * 1024,
          inflightMessagesMax: 8,
          plantedBug: this.env.plantedBug,
        },
        durable,
      );
    });
    this.scheduleTick();
    this.processReady();
  }

  private readDurable(): DurableState {
    return readDurableState(this.disk, this.bootstrapMembership, (line) => this.env.trace(`n${this.id} restart: ${line}`));
  }

  /** Power loss: volatile state and unsynced writes are gone. */
  private collectMarks(): void {
    if (this.replica === undefined) return;
    for (const [name, count] of Object.entries(this.replica.marks)) this.marks.set(name, (this.marks.get(name) ?? 0) + count);
  }

  /** Marks so far, including the running incarnation's. */
  currentMarks(): Map<string, number> {
    const result = new Map(this.marks);
    if (this.replica !== undefined) for (const [name, count] of Object.entries(this.replica.marks)) result.set(name, (result.get(name) ?? 0) + count);
    return result;
  }

  crash(): void {
    if (!this.up) return;
    this.collectMarks();
    this.up = false;
    this.incarnation++;
    this.replica = undefined;
    this.sm = undefined;
    this.kv = undefined;
    this.inFlight = [];
    this.writeWaiters.clear();
    this.reads.clear();
    this.deferredSnapshot = undefined;
    this.disk.crash(this.env.random, this.env.profile.tornWriteRate);
    this.restarts++;
  }

  private scheduleTick(): void {
    const incarnation = this.incarnation;
    this.env.queue.after(this.tickPeriodMs, () => {
      if (this.incarnation !== incarnation || !this.up) return;
      this.guard(() => this.replica!.tick());
      this.processReady();
      this.scheduleTick();
    });
  }

  /** Runs `fn`; a ProgrammerError (a failed assertion) is a finding, reported and fatal for the node. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.env.fail(error, this.id);
      this.up = false;
      this.incarnation++;
      if (!(error instanceof ProgrammerError)) throw error;
    }
  }

  deliver(bytes: Uint8Array): void {
    if (!this.up || this.replica === undefined) return;
    const message = decodeMessage(bytes);
    this.guard(() => this.replica!.step(message));
    this.processReady();
  }

  send(message: Message): void {
    const notDurable = this.replyNotDurable(message);
    if (notDurable !== undefined) this.env.violation("replyDurability", `node ${this.id}: ${notDurable}`);
    const bytes = encodeMessage(message);
    this.env.network.send(this.id, message.to, bytes, (payload) => this.env.node(message.to)?.deliver(payload));
  }

  /**
   * Why `message` vouches for state this node's disk does not hold durably, if it does: a Promise
   * for a ballot not durably promised, or an Accepted for slots beyond the durable log.
   */
  private replyNotDurable(message: Message): string | undefined {
    if (message.type === "promise") {
      const promised = this.disk.durableHardState?.promisedBallot;
      if (promised === undefined || compareBallots(promised, message.ballot) < 0) {
        return `promise for ${message.ballot.round}.${message.ballot.replicaId} sent before it was durable`;
      }
    } else if (message.type === "accepted" && message.matchedSlot > this.disk.durableLastSlot) {
      return `accepted through slot ${message.matchedSlot} sent with slots only through ${this.disk.durableLastSlot} durable`;
    }
    return undefined;
  }

  processReady(): void {
    while (this.up && this.replica !== undefined && this.mayTakeReady()) {
      let ready: Ready | undefined;
      this.guard(() => (ready = this.replica!.ready()));
      if (ready === undefined || !this.up) return;
      const current = ready;
      this.guard(() => this.handleReady(current));
    }
  }

  /**
   * One Ready at a time, or with a pipelining profile up to readiesInFlight; a due snapshot
   * (taken only with nothing in flight) stops new ones until the pipeline drains.
   */
  private mayTakeReady(): boolean {
    if (this.inFlight.length === 0) return true;
    if (this.inFlight.length >= this.env.profile.readiesInFlight) return false;
    const applied = this.replica!.status().appliedSlot;
    return applied - this.lastSnapshotSlot < this.env.profile.snapshotEverySlots;
  }

  private handleReady(ready: Ready): void {
    const replica = this.replica!;
    if (ready.softState !== undefined) this.onSoftState(ready.softState.role, ready.softState.leaderId);
    if (ready.committed.length > 0 && replica.status().role === "leader" && this.env.crashAfterCommit(this)) {
      // Crash at the worst moment: clients get their acks, followers never hear of the commit.
      this.applyCommitted(ready.committed);
      this.env.crashNow(this, "right after applying a commit, before telling anyone");
      return;
    }
    for (const m of ready.messages) this.send(m);
    this.applyCommitted(ready.committed);
    this.handleReads(ready);
    this.handleLoads(ready);
    this.handleSnapshotSends(ready);
    const persist = ready.persist;
    // The core's pipelining promise: a Ready handed out while others are in flight only appends.
    assert(this.inFlight.length === 0 || (persist.hardState === undefined && persist.truncateFromSlot === undefined), "a pipelined Ready carries no hard state or truncation");
    if (persist.hardState !== undefined) this.disk.writeHardState(persist.hardState);
    if (persist.truncateFromSlot !== undefined) {
      // The hard state (promise, recovering flag) must be durable before the truncation.
      if (persist.hardState !== undefined) this.disk.sync();
      this.disk.truncate(persist.truncateFromSlot);
    }
    for (const entry of persist.entries) this.disk.append(entry);
    const flight = { ready, replica, durable: !persist.syncRequired };
    this.inFlight.push(flight);
    if (flight.durable) {
      this.finishDurable();
      return;
    }
    this.env.crashDuringPersist(this);
    const incarnation = this.incarnation;
    // With pipelining, fsyncs take varying times and may finish out of order; Readies are still
    // advanced in order.
    const latency = this.env.profile.readiesInFlight > 1 ? this.env.profile.fsyncLatencyMs * (0.5 + this.env.random.float()) : this.env.profile.fsyncLatencyMs;
    this.env.queue.after(latency, () => {
      if (this.incarnation !== incarnation || !this.up) return;
      this.disk.sync();
      flight.durable = true;
      this.finishDurable();
      this.processReady();
    });
  }

  /** Advances, oldest first, every Ready whose persist (and every earlier one's) is durable. */
  private finishDurable(): void {
    while (this.up && this.inFlight.length > 0 && this.inFlight[0].durable) {
      const { replica, ready } = this.inFlight.shift()!;
      this.guard(() => this.finishReady(replica, ready));
    }
  }

  private finishReady(replica: Replica, ready: Ready): void {
    let after: Message[] = [];
    this.guard(() => (after = replica.advance(ready)));
    if (!this.up) return;
    for (const m of after) this.send(m);
    // Snapshots and installs happen between Readies: with none in flight.
    if (this.inFlight.length > 0) return;
    this.maybeSnapshot();
    if (this.deferredSnapshot !== undefined) {
      const deferred = this.deferredSnapshot;
      this.deferredSnapshot = undefined;
      this.receiveSnapshot(deferred.meta, deferred.image, deferred.from);
    }
  }

  private onSoftState(role: string, leaderId: number | undefined): void {
    const status = this.replica?.status();
    this.env.trace(`n${this.id} becomes ${role} (leader ${leaderId ?? "?"}, ballot ${this.ballotText()}, commit ${status?.commitSlot}, last ${status?.lastSlot})`);
    if (role === "leader") return;
    for (const waiters of this.writeWaiters.values()) for (const w of waiters) this.respond(w.replyTo, { reqId: w.reqId, status: "retry" });
    this.writeWaiters.clear();
  }

  private ballotText(): string {
    const b = this.replica?.status().promisedBallot;
    return b === undefined ? "-" : `${b.round}.${b.replicaId}`;
  }

  private applyCommitted(entries: readonly LogEntry[]): void {
    for (const entry of entries) {
      assert(entry.slot === this.appliedSlot + 1, `apply ${entry.slot} after ${this.appliedSlot}`);
      this.env.agreement.onApply(this.id, entry, this.env.queue.nowMs);
      const applied = this.sm!.applyEntry(entry);
      this.appliedSlot = entry.slot;
      for (const a of applied) this.answerWrite(a);
      if (entry.slot % CONVERGENCE_EVERY_SLOTS === 0) this.env.convergence.onState(this.id, entry.slot, this.sm!.snapshot(), this.env.queue.nowMs);
    }
    if (entries.length > 0) this.serveReads();
  }

  private answerWrite(a: AppliedCommand): void {
    if (a.clientId === undefined) return;
    const key = `${a.clientId}:${a.sequence}`;
    const waiters = this.writeWaiters.get(key);
    if (waiters === undefined) return;
    this.writeWaiters.delete(key);
    // As the runtime after serving a forwarded proposal: tell the followers the commit at once
    // (on the next turn, outside this Ready's processing).
    if (this.env.profile.announceCommits) {
      this.env.queue.after(0, () => {
        if (this.replica === undefined) return;
        this.guard(() => this.replica!.announceCommit());
        this.processReady();
      });
    }
    for (const w of waiters) {
      if (a.outcome.kind === "expired") this.respond(w.replyTo, { reqId: w.reqId, status: "retry" });
      else this.respond(w.replyTo, { reqId: w.reqId, status: "ok", result: decodeKvResult(a.outcome.result) });
    }
  }

  private respond(to: number, response: ClientResponse): void {
    this.env.respond(this.id, to, response);
  }

  // ---- Client requests -----------------------------------------------------------------------

  onRequest(request: ClientRequest): void {
    if (!this.up || this.replica === undefined) return;
    const replica = this.replica;
    const status = replica.status();
    if (status.role !== "leader") {
      this.respond(request.replyTo, { reqId: request.reqId, status: "notLeader", leaderHint: status.leaderId });
      return;
    }
    if (request.op.kind === "get" && request.readMode !== "log") this.startRead(request);
    else this.startWrite(request);
    this.processReady();
  }

  private startWrite(request: ClientRequest): void {
    const command = { data: encodeKvOp(request.op), clientId: request.clientId, sequence: request.sequence };
    let result: ReturnType<Replica["propose"]> | undefined;
    this.guard(() => (result = this.replica!.propose(command)));
    if (result === undefined) return;
    if (result.kind === "notLeader") {
      this.respond(request.replyTo, { reqId: request.reqId, status: "notLeader", leaderHint: result.leaderHint });
      return;
    }
    if (result.kind !== "ok") {
      this.respond(request.replyTo, { reqId: request.reqId, status: "busy" });
      return;
    }
    const key = `${request.clientId}:${request.sequence}`;
    const waiters = this.writeWaiters.get(key) ?? [];
    waiters.push({ reqId: request.reqId, replyTo: request.replyTo });
    this.writeWaiters.set(key, waiters);
  }

  private startRead(request: ClientRequest): void {
    const requestId = this.nextRequestId++;
    const replica = this.replica!;
    let result: ReturnType<Replica["leaseRead"]> | ReturnType<Replica["readIndex"]> | undefined;
    this.guard(() => (result = request.readMode === "lease" ? replica.leaseRead(requestId) : replica.readIndex(requestId)));
    if (result === undefined) return;
    if (result.kind === "notLeader") {
      this.respond(request.replyTo, { reqId: request.reqId, status: "notLeader", leaderHint: result.leaderHint });
      return;
    }
    if (result.kind === "backpressure") {
      this.respond(request.replyTo, { reqId: request.reqId, status: "busy" });
      return;
    }
    const pending: PendingRead = { request, slot: result.kind === "ok" ? result.slot : undefined };
    this.reads.set(requestId, pending);
    if (pending.slot !== undefined) this.serveReads();
  }

  private handleReads(ready: Ready): void {
    for (const state of ready.reads) {
      const pending = this.reads.get(state.requestId);
      if (pending === undefined) continue;
      if (state.outcome === "notLeader") {
        this.reads.delete(state.requestId);
        this.respond(pending.request.replyTo, { reqId: pending.request.reqId, status: "notLeader", leaderHint: undefined });
        continue;
      }
      pending.slot = state.slot;
    }
    this.serveReads();
  }

  private serveReads(): void {
    for (const [requestId, pending] of this.reads) {
      if (pending.slot === undefined || pending.slot > this.appliedSlot) continue;
      this.reads.delete(requestId);
      const result = this.kv!.get(pending.request.op.key);
      this.respond(pending.request.replyTo, { reqId: pending.request.reqId, status: "ok", result });
    }
  }

  // ---- Loads, snapshots ----------------------------------------------------------------------

  private handleLoads(ready: Ready): void {
    for (const load of ready.loads) {
      const incarnation = this.incarnation;
      this.env.queue.after(this.env.profile.fsyncLatencyMs / 2, () => {
        if (this.incarnation !== incarnation || !this.up) return;
        const read = this.disk.readRange(load.fromSlot, load.toSlot, load.bytesMax);
        if (read.corruptSlot !== undefined && read.corruptSlot <= this.lastSnapshotSlot) {
          // A latent error in the trailing log below the snapshot: give up that part of the log;
          // the leader will send a snapshot instead.
          this.env.trace(`n${this.id} load hit corrupt slot ${read.corruptSlot}: compacting through it`);
          this.disk.compactPrefix(read.corruptSlot + 1);
          this.guard(() => this.replica!.logCompacted(read.corruptSlot! + 1));
        }
        const entries = read.entries;
        const usable = entries.length > 0 && entries[0].slot === load.fromSlot ? entries : [];
        this.guard(() => this.replica!.loaded(load.fromSlot, usable));
        this.processReady();
      });
    }
  }

  private handleSnapshotSends(ready: Ready): void {
    for (const send of ready.snapshotSends) {
      const snapshot = this.disk.snapshot;
      assert(snapshot !== undefined && snapshot.meta.slot >= send.slot, "a snapshot exists to send");
      const incarnation = this.incarnation;
      const delayMs = 2 * this.env.profile.delayMeanMs + 5;
      this.env.trace(`n${this.id} sends snapshot@${snapshot.meta.slot} to n${send.to}`);
      this.env.queue.after(delayMs, () => {
        const target = this.env.node(send.to);
        const reachable = !this.env.network.isBlocked(this.id, send.to) && target !== undefined && target.up;
        const ok = reachable && target.receiveSnapshot(snapshot.meta, snapshot.image, this.id);
        this.env.queue.after(delayMs / 2, () => {
          if (this.incarnation !== incarnation || !this.up) return;
          this.guard(() => this.replica!.reportSnapshot(send.to, ok));
          this.processReady();
        });
      });
    }
  }

  /** A snapshot streamed from a leader arrived. Returns whether it was installed (or will be). */
  receiveSnapshot(meta: SnapshotMeta, image: Uint8Array, from: number): boolean {
    if (!this.up || this.replica === undefined) return false;
    if (this.inFlight.length > 0) {
      this.deferredSnapshot = { meta, image, from };
      return true;
    }
    if (meta.slot <= this.replica.status().commitSlot) return false;
    this.disk.saveSnapshot(meta, image);
    this.disk.compactPrefix(meta.slot + 1);
    let installed = false;
    this.guard(() => (installed = this.replica!.installSnapshot(meta)));
    if (!installed) return false;
    this.sm!.restore(image);
    this.appliedSlot = meta.slot;
    this.lastSnapshotSlot = meta.slot;
    this.env.trace(`n${this.id} installed snapshot@${meta.slot} from n${from}`);
    this.processReady();
    return true;
  }

  private maybeSnapshot(): void {
    const replica = this.replica!;
    const applied = replica.status().appliedSlot;
    if (applied - this.lastSnapshotSlot < this.env.profile.snapshotEverySlots) return;
    assert(applied === this.appliedSlot, "the state machine applied what the core handed out");
    let meta: SnapshotMeta | undefined;
    this.guard(() => (meta = replica.snapshotTaken(applied)));
    if (meta === undefined) return;
    this.disk.saveSnapshot(meta, this.sm!.snapshot());
    this.lastSnapshotSlot = applied;
    const first = Math.max(this.disk.firstSlot, applied + 1 - this.env.profile.trailingSlots);
    if (first > this.disk.firstSlot) {
      this.disk.compactPrefix(first);
      this.guard(() => replica.logCompacted(first));
    }
  }

  /** The state-machine snapshot and applied slot, for the final convergence check. */
  stateImage(): { slot: Slot; image: Uint8Array } | undefined {
    if (!this.up || this.sm === undefined) return undefined;
    return { slot: this.appliedSlot, image: this.sm.snapshot() };
  }
}
