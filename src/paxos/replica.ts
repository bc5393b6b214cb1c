// One Multi-Paxos replica of one group: a pure, synchronous state machine in the shape of
// etcd-io/raft's RawNode. Inputs: step(message), tick(), propose(command), the read and
// membership calls, and the driver's reports (loaded, installSnapshot, reportSnapshot,
// snapshotTaken, logCompacted). Outputs: ready() / advance() (ready.ts documents the loop).
// No I/O, timers, clock or randomness of its own: time is ticks, randomness is injected.
//
// The protocol (docs/consensus.md has the full argument):
//   - Phase 1 once per leadership: Prepare(ballot, commitSlot+1) to the voters; acceptors promise
//     (durably) and report their entries with effective accepted ballots. The new leader recovers
//     every slot (recovery.ts), re-proposes all of them under its ballot and appends a no-op.
//   - Phase 2: Accept ranges with a prev check; an acceptor takes a range iff ballot >= promise and
//     its prefix up to prevSlot is committed or was accepted in this ballot. Unchanged values are
//     re-accepted through ballot steps (log.ts); only differing slots are truncated and rewritten.
//   - Commit: a slot is chosen when a majority of every configuration governing the uncommitted
//     window matched it in the leader's CURRENT ballot; commit rides on Accepts and heartbeats.
import { assert } from "../util/assert.js";
import { BatchBuilder, commandBytes, validCommand, BATCH_HEADER_BYTES, type ProposedCommand } from "./command.js";
import type { SnapshotMeta } from "./codec.js";
import { leaseTicks, resolveOptions, type ReplicaOptions, type ResolvedOptions } from "./config.js";
import { ReplicaLog } from "./log.js";
import {
  applyChange,
  decodeMembership,
  encodeMembership,
  isVoter,
  type Membership,
  type MembershipChange,
} from "./membership.js";
import {
  RejectReason,
  type AcceptEntry,
  type AcceptMessage,
  type AcceptedMessage,
  type HeartbeatAckMessage,
  type HeartbeatMessage,
  type Message,
  type PrepareMessage,
  type PreVoteMessage,
  type PreVoteReplyMessage,
  type PromiseMessage,
  type RejectMessage,
  type RejectedKind,
  type TimeoutNowMessage,
} from "./messages.js";
import { Progress } from "./progress.js";
import { hasJointMajority, hasMajority, jointQuorumMatch } from "./quorum.js";
import type { DurableState, LoadRequest, ReadState, Ready, Role, SnapshotSend, SoftState } from "./ready.js";
import { recoverSlots, type RecoveredSlot } from "./recovery.js";
import {
  EntryKind,
  ZERO_BALLOT,
  ballotEquals,
  bytesEqual,
  compareBallots,
  entryBytes,
  maxBallot,
  type Ballot,
  type HardState,
  type LogEntry,
  type ReplicaId,
  type Slot,
} from "./types.js";

export type ProposeResult =
  | { readonly kind: "ok"; readonly slot: Slot; readonly index: number }
  | { readonly kind: "notLeader"; readonly leaderHint: ReplicaId | undefined }
  | { readonly kind: "backpressure"; readonly reason: "uncommittedBytes" | "transferring" }
  | { readonly kind: "tooLarge"; readonly bytesMax: number };

export type ReadIndexResult =
  | { readonly kind: "pending" }
  | { readonly kind: "notLeader"; readonly leaderHint: ReplicaId | undefined }
  | { readonly kind: "backpressure" };

export type LeaseReadResult =
  | { readonly kind: "ok"; readonly slot: Slot }
  | { readonly kind: "readIndex" }
  | { readonly kind: "notLeader"; readonly leaderHint: ReplicaId | undefined }
  | { readonly kind: "backpressure" };

export type MembershipResult =
  | { readonly kind: "ok"; readonly slot: Slot }
  | { readonly kind: "notLeader"; readonly leaderHint: ReplicaId | undefined }
  | { readonly kind: "pending"; readonly reason: string }
  | { readonly kind: "notCaughtUp" }
  | { readonly kind: "invalid"; readonly reason: string };

export type TransferResult =
  | { readonly kind: "ok" }
  | { readonly kind: "notLeader"; readonly leaderHint: ReplicaId | undefined }
  | { readonly kind: "invalid"; readonly reason: string };

/** Everything a test or an operator may want to see; not part of the protocol. */
export interface ReplicaStatus {
  readonly id: ReplicaId;
  readonly role: Role;
  readonly leaderId: ReplicaId | undefined;
  readonly promisedBallot: Ballot;
  readonly commitSlot: Slot;
  readonly appliedSlot: Slot;
  readonly lastSlot: Slot;
  readonly matchedSlot: Slot;
  readonly snapshotSlot: Slot;
  readonly recoveringThroughSlot: Slot;
  /** The newest membership in the log (in force for new slots; may be uncommitted). */
  readonly membership: Membership;
  /** The membership in force right after the commit slot (the last committed change). */
  readonly committedMembership: Membership;
  readonly leaseValid: boolean;
  readonly committedInBallot: boolean;
}

/**
 * Coverage marks (STYLE.md §14; TigerBeetle's marks, FoundationDB's CODE_PROBE): counts of rare
 * branches, so the simulator can show (and tests can require) that they are reached.
 */
export const MARK_NAMES = [
  "election",
  "recoveredValue",
  "recoveredChosen",
  "recoveredContested",
  "holeFilled",
  "reacceptStep",
  "truncateDiffering",
  "truncateStaleTail",
  "resetTail",
  "lowerMatch",
  "snapshotSent",
  "snapshotInstalled",
  "loadRequested",
  "leaseRead",
  "leaseFallback",
  "readIndexServed",
  "stickyReject",
  "checkQuorumStepDown",
  "membershipChange",
  "removedLeaderStepDown",
  "recoveringExit",
  "transfer",
  "announceCommit",
  "pipelinedReady",
  "pipelineHeld",
] as const;
export type MarkName = (typeof MARK_NAMES)[number];

interface LeaderState {
  readonly ballot: Ballot;
  /** The slot of the no-op appended at election: commit >= firstSlot means "committed in ballot". */
  readonly firstSlot: Slot;
  readonly progress: Map<ReplicaId, Progress>;
  /** Last slot durable here in this ballot (the leader counts itself only once durable). */
  selfMatch: Slot;
  /** The open batch: commands proposed since the last seal, encoded as they arrive. */
  readonly batch: BatchBuilder;
  heartbeatElapsed: number;
  checkQuorumElapsed: number;
  round: number;
  confirmedRound: number;
  readonly roundSentAt: Map<number, number>;
  leaseExpiryTick: number;
  /** Read-index requests: round 0 = waiting for the next round to be started. */
  readonly readsWaiting: Array<{ requestId: number; slot: Slot; round: number }>;
  readonly readsBeforeCommit: number[];
  transfer: { target: ReplicaId; elapsed: number; sent: boolean } | undefined;
  pendingConfigSlot: Slot;
}

interface Campaign {
  readonly ballot: Ballot;
  readonly fromSlot: Slot;
  readonly promises: Map<ReplicaId, PromiseMessage | { commitSlot: Slot; truncated: false; entries: readonly LogEntry[] }>;
  readonly asked: Set<ReplicaId>;
}

interface Outstanding {
  readonly number: number;
  readonly afterPersist: Message[];
  readonly diskLastSlot: Slot;
  readonly leaderBallot: Ballot | undefined;
  readonly committedThrough: Slot;
  readonly hardState: HardState | undefined;
}

const ROUNDS_KEPT_MAX = 64;
const LOADS_OUTSTANDING_MAX = 4;
const NOOP = new Uint8Array(0);

export class Replica {
  readonly id: ReplicaId;
  private readonly o: ResolvedOptions;
  private readonly log: ReplicaLog;
  private promised: Ballot;
  private commit: Slot;
  /** Last committed slot handed out in a Ready (applied once that Ready is advanced). */
  private handedOut: Slot;
  private applied: Slot;
  private recoveringThrough: Slot;
  /** Highest slot whose prefix matches the leader of `promised` (volatile, see handleAccept). */
  private matched: Slot = 0;
  private role: Role = "follower";
  private leaderId: ReplicaId | undefined;
  private now = 0;
  private electionElapsed = 0;
  private electionTimeout: number;
  /**
   * Ticks since a live leader was heard from. A restarted replica that ever promised a ballot
   * starts at 0 (it may have acknowledged a leader's lease just before it crashed); a brand-new
   * one has never followed anyone and starts unsticky.
   */
  private leaderContactElapsed: number;
  private maxSeenRound: number;
  private preVote: { ballot: Ballot; granted: Set<ReplicaId>; rejected: Set<ReplicaId> } | undefined;
  private campaign: Campaign | undefined;
  private leader: LeaderState | undefined;
  // Durable-state bookkeeping.
  private hardDirty = false;
  private hardSync = false;
  private hintSlot: Slot;
  private hintBytesPending = 0;
  private diskLast: Slot;
  private durableLast: Slot;
  private pendingTruncate: Slot | undefined;
  private pendingEntries: LogEntry[] = [];
  // Outputs collected for the next Ready.
  private messagesNow: Message[] = [];
  private messagesAfter: Message[] = [];
  private readStates: ReadState[] = [];
  private loadRequests: LoadRequest[] = [];
  private snapshotRequests: SnapshotSend[] = [];
  private loadsOutstanding: Array<{ fromSlot: Slot; toSlot: Slot }> = [];
  private loadCache: LogEntry[] = [];
  /** Readies handed out and not yet advanced, oldest first (at most readiesInFlightMax). */
  private outstanding: Outstanding[] = [];
  private readyNumber = 0;
  private lastSoft: SoftState | undefined;
  /** Coverage marks: how often each rare branch ran (diagnostics, never protocol state). */
  readonly marks: Record<MarkName, number> = Object.fromEntries(MARK_NAMES.map((m) => [m, 0])) as Record<MarkName, number>;

  constructor(options: ReplicaOptions, durable: DurableState) {
    this.o = resolveOptions(options);
    this.id = this.o.id;
    const snapshotSlot = durable.snapshot.slot;
    this.log = new ReplicaLog({ snapshotSlot, snapshotMembership: durable.snapshot.membership, diskFirstSlot: durable.logFirstSlot });
    const lost = durable.lostFromSlot;
    assert(lost === undefined || (lost > snapshotSlot && lost <= durable.lastSlot), "lost slots lie inside the log");
    const memLast = lost !== undefined ? lost - 1 : durable.lastSlot;
    this.log.restoreTail(lost !== undefined ? durable.tail.filter((e) => e.slot < lost) : durable.tail, memLast);
    this.log.restoreMemberships(durable.memberships.filter((m) => m.slot <= memLast));
    const hard = durable.hardState;
    this.log.setSteps(hard.steps);
    this.promised = hard.promisedBallot;
    for (const step of hard.steps) this.promised = maxBallot(this.promised, step.ballot);
    for (let s = this.log.memFirstSlot; s <= memLast; s++) this.promised = maxBallot(this.promised, this.log.at(s).ballot);
    this.commit = Math.max(snapshotSlot, Math.min(hard.commitSlot, memLast), durable.appliedSlot);
    assert(durable.appliedSlot >= snapshotSlot && durable.appliedSlot <= memLast, "applied slot within the log");
    assert(this.log.memFirstSlot <= Math.min(this.commit, durable.appliedSlot) + 1, "the tail covers everything not applied or committed");
    this.applied = durable.appliedSlot;
    this.handedOut = durable.appliedSlot;
    this.hintSlot = this.commit;
    this.recoveringThrough = hard.recoveringThroughSlot;
    this.diskLast = durable.lastSlot;
    this.durableLast = durable.lastSlot;
    if (lost !== undefined) this.loseTail(lost, durable.lastSlot);
    this.maxSeenRound = this.promised.round;
    this.leaderContactElapsed = this.promised.round > 0 ? 0 : this.o.electionTicks;
    this.matched = this.computeMatched();
    this.electionTimeout = this.randomElectionTimeout();
    this.checkInvariants();
  }

  /** Corrupt entries from `lost` on: truncate there and vote no more until caught up past `oldLast`. */
  private loseTail(lost: Slot, oldLast: Slot): void {
    this.recoveringThrough = Math.max(this.recoveringThrough, oldLast);
    this.commit = Math.min(this.commit, lost - 1);
    this.pendingTruncate = lost;
    this.diskLast = lost - 1;
    this.durableLast = Math.min(this.durableLast, lost - 1);
    this.markHard(true);
    assert(this.commit < this.recoveringThrough, "a replica that lost entries is behind its old last slot");
    assert(this.log.lastSlot === lost - 1, "the in-memory log ends before the lost slots");
  }

  // ---- Public API ------------------------------------------------------------------------------

  status(): ReplicaStatus {
    return {
      id: this.id,
      role: this.role,
      leaderId: this.leaderId,
      promisedBallot: this.promised,
      commitSlot: this.commit,
      appliedSlot: this.applied,
      lastSlot: this.log.lastSlot,
      matchedSlot: this.matched,
      snapshotSlot: this.log.snapshotSlot,
      recoveringThroughSlot: this.recoveringThrough,
      membership: this.log.latestMembership(),
      committedMembership: this.log.membershipAt(this.commit + 1),
      leaseValid: this.leader !== undefined && this.now < this.leader.leaseExpiryTick,
      committedInBallot: this.leader !== undefined && this.commit >= this.leader.firstSlot,
    };
  }

  /** As leader: each follower's replication progress (for metrics: lag = lastSlot - match). */
  followerProgress(): Array<{ readonly replicaId: ReplicaId; readonly match: Slot; readonly state: string }> {
    const leader = this.leader;
    if (leader === undefined) return [];
    return [...leader.progress].filter(([id]) => id !== this.id).map(([replicaId, p]) => ({ replicaId, match: p.match, state: p.state }));
  }

  /** The entry at `slot` if it is in memory (tests, diagnostics and the interaction harness). */
  entryAt(slot: Slot): LogEntry | undefined {
    return this.log.entry(slot);
  }

  get memFirstSlot(): Slot {
    return this.log.memFirstSlot;
  }

  tick(): void {
    this.now++;
    if (this.leaderContactElapsed < Number.MAX_SAFE_INTEGER) this.leaderContactElapsed++;
    if (this.role === "leader") this.tickLeader();
    else this.tickElection();
    this.checkInvariants();
  }

  /** Starts an election now (tests, or an operator forcing a campaign); honours pre-vote. */
  campaignNow(): void {
    if (!this.promotable()) return;
    if (this.o.preVote) this.startPreVote();
    else this.startCampaign(false);
  }

  step(message: Message): void {
    assert(message.to === this.id, `message for ${message.to} stepped into ${this.id}`);
    assert(message.from !== this.id, "no messages to self");
    // A pre-vote's ballot is hypothetical (nobody promised it): it does not count as seen, so the
    // campaign that follows a won pre-vote uses exactly the ballot the pre-vote asked about.
    if (message.type !== "preVote" && message.type !== "preVoteReply") this.observeRound(message.ballot.round);
    switch (message.type) {
      case "preVote":
        return this.handlePreVote(message);
      case "preVoteReply":
        return this.handlePreVoteReply(message);
      case "prepare":
        return this.handlePrepare(message);
      case "promise":
        return this.handlePromise(message);
      case "accept":
        return this.handleAccept(message);
      case "accepted":
        return this.handleAccepted(message);
      case "reject":
        return this.handleReject(message);
      case "heartbeat":
        return this.handleHeartbeat(message);
      case "heartbeatAck":
        return this.handleHeartbeatAck(message);
      case "timeoutNow":
        return this.handleTimeoutNow(message);
    }
  }

  propose(command: ProposedCommand): ProposeResult {
    assert(validCommand(command), "a well-formed command");
    const leader = this.leader;
    if (leader === undefined) return { kind: "notLeader", leaderHint: this.leaderId };
    if (leader.transfer !== undefined) return { kind: "backpressure", reason: "transferring" };
    const bytes = commandBytes(command);
    if (bytes + BATCH_HEADER_BYTES > this.o.batchBytesMax) return { kind: "tooLarge", bytesMax: this.o.batchBytesMax - BATCH_HEADER_BYTES };
    const uncommitted = this.log.bytesBetween(this.commit + 1, this.log.lastSlot) + leader.batch.commandBytes + bytes;
    if (uncommitted > this.o.uncommittedBytesMax) return { kind: "backpressure", reason: "uncommittedBytes" };
    if (leader.batch.commandBytes + bytes + BATCH_HEADER_BYTES > this.o.batchBytesMax) this.sealBatch();
    leader.batch.add(command);
    return { kind: "ok", slot: this.log.lastSlot + 1, index: leader.batch.count - 1 };
  }

  /**
   * As the leader: tells the followers the commit slot now (a heartbeat round) rather than with the
   * next Accept or heartbeat tick. For a follower waiting to apply an entry it forwarded (its
   * client's reply waits for that), which would otherwise learn the commit up to a heartbeat
   * interval later. A no-op unless leading.
   */
  announceCommit(): void {
    if (this.leader === undefined) return;
    this.marks.announceCommit++;
    this.sendHeartbeats();
  }

  readIndex(requestId: number): ReadIndexResult {
    const leader = this.leader;
    if (leader === undefined) return { kind: "notLeader", leaderHint: this.leaderId };
    if (leader.readsWaiting.length + leader.readsBeforeCommit.length >= this.o.readsPendingMax) return { kind: "backpressure" };
    if (this.committedInBallot(leader)) leader.readsWaiting.push({ requestId, slot: this.commit, round: 0 });
    else leader.readsBeforeCommit.push(requestId);
    return { kind: "pending" };
  }

  leaseRead(requestId: number): LeaseReadResult {
    const leader = this.leader;
    if (leader === undefined) return { kind: "notLeader", leaderHint: this.leaderId };
    const leaseHolds = this.now < leader.leaseExpiryTick;
    if (this.committedInBallot(leader) && leaseHolds && leader.transfer === undefined) {
      this.marks.leaseRead++;
      return { kind: "ok", slot: this.commit };
    }
    this.marks.leaseFallback++;
    const fallback = this.readIndex(requestId);
    return fallback.kind === "pending" ? { kind: "readIndex" } : fallback;
  }

  /** A new leader's commit slot may lag until its own no-op commits: reads wait for that. */
  private committedInBallot(leader: LeaderState): boolean {
    return this.commit >= leader.firstSlot || this.o.plantedBug === "readBeforeOwnCommit";
  }

  proposeMembership(change: MembershipChange): MembershipResult {
    const leader = this.leader;
    if (leader === undefined) return { kind: "notLeader", leaderHint: this.leaderId };
    if (this.commit < leader.firstSlot) return { kind: "pending", reason: "no entry committed in this ballot yet" };
    if (leader.pendingConfigSlot !== 0) return { kind: "pending", reason: `config change at ${leader.pendingConfigSlot} uncommitted` };
    if (change.kind === "promote") {
      const progress = leader.progress.get(change.replicaId);
      if (progress === undefined || progress.match < this.commit) return { kind: "notCaughtUp" };
    }
    const next = applyChange(this.log.latestMembership(), change);
    if (typeof next === "string") return { kind: "invalid", reason: next };
    this.sealBatch();
    const slot = this.log.lastSlot + 1;
    this.appendLocal({ slot, ballot: leader.ballot, kind: EntryKind.config, data: encodeMembership(next) });
    leader.pendingConfigSlot = slot;
    this.syncProgress();
    this.marks.membershipChange++;
    return { kind: "ok", slot };
  }

  transferLeadership(target: ReplicaId): TransferResult {
    const leader = this.leader;
    if (leader === undefined) return { kind: "notLeader", leaderHint: this.leaderId };
    if (target === this.id) return { kind: "invalid", reason: "already the leader" };
    if (!isVoter(this.log.latestMembership(), target)) return { kind: "invalid", reason: `replica ${target} is not a voter` };
    // Stop lease reads first: the target's forced Prepare ignores the followers' stickiness.
    leader.leaseExpiryTick = 0;
    leader.transfer = { target, elapsed: 0, sent: false };
    this.marks.transfer++;
    this.maybeSendTimeoutNow();
    if (leader.transfer.sent === false) this.sendAppend(target);
    return { kind: "ok" };
  }

  // ---- Driver reports ------------------------------------------------------------------------

  /** Entries the driver read for a LoadRequest (committed entries from its storage). */
  loaded(fromSlot: Slot, entries: readonly LogEntry[]): void {
    this.loadsOutstanding = this.loadsOutstanding.filter((l) => l.fromSlot !== fromSlot);
    for (let i = 0; i < entries.length; i++) {
      assert(entries[i].slot === fromSlot + i, "loaded entries are contiguous from fromSlot");
      assert(entries[i].slot <= this.commit, "only committed entries are loaded");
    }
    if (entries.length > 0) this.loadCache = mergeLoadCache(this.loadCache, entries, 4 * this.o.messageBytesMax);
    // Retry every follower that waited, even after an empty load (the range may have been
    // compacted meanwhile: the retry then asks for a snapshot instead).
    if (this.leader === undefined) return;
    for (const [peer, progress] of this.leader.progress) {
      if (!progress.loadPending) continue;
      progress.loadPending = false;
      this.sendAppend(peer);
    }
  }

  /**
   * The metadata to store with a snapshot at `slot` (<= applied), read-only: a driver that streams
   * an image to disk asks for it first and reports the durable snapshot with snapshotTaken().
   */
  snapshotMeta(slot: Slot): SnapshotMeta {
    assert(slot <= this.applied, `snapshot at ${slot} beyond applied ${this.applied}`);
    assert(slot >= this.log.snapshotSlot, "snapshots only move forward");
    return { slot, membership: this.log.membershipAt(slot + 1) };
  }

  /** The driver saved a durable snapshot at `slot` (<= applied); returns the metadata to store with it. */
  snapshotTaken(slot: Slot): SnapshotMeta {
    const meta = this.snapshotMeta(slot);
    this.log.snapshotSlot = slot;
    this.log.pruneMemberships(slot);
    return meta;
  }

  /** The driver compacted its durable log: entries below `firstSlot` are gone. */
  logCompacted(firstSlot: Slot): void {
    assert(firstSlot <= this.log.snapshotSlot + 1, "compaction only below a snapshot");
    assert(firstSlot >= this.log.diskFirstSlot, "compaction only moves forward");
    this.log.diskFirstSlot = firstSlot;
    if (firstSlot - 1 >= this.log.memFirstSlot) this.log.evictThrough(Math.min(firstSlot - 1, this.applied));
  }

  /**
   * A snapshot arrived from the leader and is durable at the driver. Returns false when it is
   * not newer than what this replica committed (the driver then discards it). When true, the
   * driver must restore the state machine from it before applying the next Ready's entries, and
   * compact its log to start at meta.slot + 1.
   */
  installSnapshot(meta: SnapshotMeta): boolean {
    if (meta.slot <= this.commit || meta.slot <= this.handedOut) return false;
    assert(this.outstanding.every((o) => o.committedThrough <= meta.slot), "install between readies");
    // A snapshot from another leader means this replica leads (or campaigns) no longer.
    if (this.role !== "follower") this.becomeFollower(undefined);
    this.log.installSnapshot(meta.slot, meta.membership);
    this.marks.snapshotInstalled++;
    this.commit = meta.slot;
    this.handedOut = meta.slot;
    this.applied = meta.slot;
    this.matched = Math.max(this.matched, meta.slot);
    this.pendingEntries = this.pendingEntries.filter((e) => e.slot > meta.slot);
    // A pending truncation still applies to durable entries above the snapshot (stale values the
    // driver's compaction did not remove); a truncation beyond the log's end is a no-op.
    if (this.pendingTruncate !== undefined) this.pendingTruncate = Math.max(this.pendingTruncate, meta.slot + 1);
    this.diskLast = Math.max(this.diskLast, meta.slot);
    this.durableLast = Math.max(this.durableLast, meta.slot);
    this.loadCache = this.loadCache.filter((e) => e.slot > meta.slot);
    this.afterCommitAdvanced();
    this.markHard(false);
    this.checkInvariants();
    return true;
  }

  /** The driver finished (ok) or gave up on (not ok) sending a snapshot to `peer`. */
  reportSnapshot(peer: ReplicaId, ok: boolean): void {
    const progress = this.leader?.progress.get(peer);
    if (progress === undefined || progress.state !== "snapshot") return;
    const next = ok ? progress.pendingSnapshotSlot + 1 : progress.next;
    progress.becomeProbe(next);
    if (ok) this.sendAppend(peer);
  }

  // ---- Ready / advance -----------------------------------------------------------------------

  ready(): Ready | undefined {
    // A Ready handed out while earlier ones are still being persisted (pipelining) may only
    // append: a hard-state write or a truncation waits until every earlier Ready is advanced,
    // so the Persist order (hard state durable, then truncate, then append) never interleaves
    // with an earlier Ready's writes. The commit hint waits too.
    const pipelined = this.outstanding.length > 0;
    if (pipelined && (this.hardDirty || this.pendingTruncate !== undefined) && this.o.plantedBug !== "pipelineUnheld") {
      this.marks.pipelineHeld++;
      return undefined;
    }
    if (pipelined && this.outstanding.length >= this.o.readiesInFlightMax) return undefined;
    if (this.leader !== undefined) {
      this.sealBatch();
      this.startReadRound();
      for (const peer of this.leader.progress.keys()) this.sendAppend(peer);
    }
    const committed = this.collectCommitted();
    const hardState = pipelined && this.o.plantedBug !== "pipelineUnheld" ? undefined : this.buildHardState();
    const softState = this.softStateChange();
    const persist = {
      hardState,
      truncateFromSlot: this.pendingTruncate,
      entries: this.pendingEntries,
      syncRequired: this.hardSync || this.pendingTruncate !== undefined || this.pendingEntries.length > 0,
    };
    const empty =
      hardState === undefined &&
      persist.truncateFromSlot === undefined &&
      persist.entries.length === 0 &&
      committed.length === 0 &&
      softState === undefined &&
      this.messagesNow.length === 0 &&
      this.messagesAfter.length === 0 &&
      this.readStates.length === 0 &&
      this.loadRequests.length === 0 &&
      this.snapshotRequests.length === 0;
    if (empty) return undefined;
    if (pipelined) this.marks.pipelinedReady++;
    if (pipelined && this.o.plantedBug === "pipelineEarlyReplies") {
      this.messagesNow.push(...this.messagesAfter);
      this.messagesAfter = [];
    }
    const ready: Ready = {
      number: ++this.readyNumber,
      softState,
      persist,
      messages: this.messagesNow,
      committed,
      reads: this.readStates,
      loads: this.loadRequests,
      snapshotSends: this.snapshotRequests,
    };
    this.outstanding.push({
      number: ready.number,
      afterPersist: this.messagesAfter,
      diskLastSlot: this.log.lastSlot,
      leaderBallot: this.leader?.ballot,
      committedThrough: committed.length > 0 ? committed[committed.length - 1].slot : this.handedOut,
      hardState,
    });
    this.resetOutputs();
    return ready;
  }

  private resetOutputs(): void {
    this.diskLast = this.log.lastSlot;
    this.pendingTruncate = undefined;
    this.pendingEntries = [];
    this.hardDirty = false;
    this.hardSync = false;
    this.messagesNow = [];
    this.messagesAfter = [];
    this.readStates = [];
    this.loadRequests = [];
    this.snapshotRequests = [];
  }

  /** The driver persisted (and fsynced) `ready.persist`; returns the messages that may now go out. */
  advance(ready: Ready): Message[] {
    const outstanding = this.outstanding[0];
    assert(outstanding !== undefined, "advance() without an outstanding ready()");
    assert(outstanding.number === ready.number, `advance(${ready.number}) does not match the oldest ready ${outstanding.number}`);
    this.outstanding.shift();
    this.durableLast = Math.min(outstanding.diskLastSlot, this.log.lastSlot);
    this.applied = Math.max(this.applied, outstanding.committedThrough);
    if (outstanding.hardState !== undefined) this.hintSlot = outstanding.hardState.commitSlot;
    const leader = this.leader;
    if (leader !== undefined && outstanding.leaderBallot !== undefined && ballotEquals(outstanding.leaderBallot, leader.ballot)) {
      leader.selfMatch = Math.max(leader.selfMatch, outstanding.diskLastSlot);
      this.maybeCommit();
    }
    this.evictApplied();
    this.checkInvariants();
    return outstanding.afterPersist;
  }

  private collectCommitted(): LogEntry[] {
    const committed: LogEntry[] = [];
    let bytes = 0;
    let slot = this.handedOut + 1;
    while (slot <= this.commit && (committed.length === 0 || bytes < this.o.committedBytesPerReadyMax)) {
      const entry = this.log.entry(slot) ?? this.cachedEntry(slot);
      if (entry === undefined) {
        this.requestLoad(slot, Math.min(this.commit, this.log.memFirstSlot - 1));
        break;
      }
      committed.push(entry);
      bytes += entryBytes(entry);
      slot++;
    }
    if (committed.length > 0) this.handedOut = committed[committed.length - 1].slot;
    assert(this.handedOut <= this.commit, "never hand out uncommitted entries");
    return committed;
  }

  private buildHardState(): HardState | undefined {
    const hintDue = this.hintBytesPending * 2 >= this.o.retainedCommittedBytesMax;
    if (!this.hardDirty && !hintDue) return undefined;
    // The hint may only name entries that are already durable and that this Ready does not touch.
    let hint = Math.min(this.commit, this.durableLast);
    if (this.pendingTruncate !== undefined) hint = Math.min(hint, this.pendingTruncate - 1);
    hint = Math.max(hint, this.log.snapshotSlot, this.hintSlot);
    hint = Math.min(hint, this.commit);
    this.log.pruneSteps(hint);
    this.hintBytesPending = 0;
    const state: HardState = {
      promisedBallot: this.promised,
      steps: this.log.steps.slice(),
      commitSlot: hint,
      recoveringThroughSlot: this.recoveringThrough,
    };
    assert(state.steps.length <= this.o.ballotStepsMax + 1, "steps bounded");
    return state;
  }

  private softStateChange(): SoftState | undefined {
    const soft: SoftState = { role: this.role, leaderId: this.leaderId, ballot: this.promised };
    const last = this.lastSoft;
    if (last !== undefined && last.role === soft.role && last.leaderId === soft.leaderId && ballotEquals(last.ballot, soft.ballot)) return undefined;
    this.lastSoft = soft;
    return soft;
  }

  private evictApplied(): void {
    const first = this.log.memFirstSlot;
    const through = Math.min(this.applied, this.commit);
    if (through < first || this.log.bytesBetween(first, through) <= this.o.retainedCommittedBytesMax) return;
    let lo = first;
    let hi = through;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.log.bytesBetween(mid + 1, through) <= this.o.retainedCommittedBytesMax) hi = mid;
      else lo = mid + 1;
    }
    this.log.evictThrough(lo);
    assert(this.log.memFirstSlot <= this.commit + 1, "the uncommitted tail stays in memory");
  }

  // ---- Time ------------------------------------------------------------------------------------

  private randomElectionTimeout(): number {
    return this.o.electionTicks + this.o.random.int(this.o.electionTicks);
  }

  private resetElectionTimer(): void {
    this.electionElapsed = 0;
    this.electionTimeout = this.randomElectionTimeout();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.electionElapsed < this.electionTimeout) return;
    this.resetElectionTimer();
    this.campaignNow();
  }

  private tickLeader(): void {
    const leader = this.leader!;
    leader.heartbeatElapsed++;
    if (leader.heartbeatElapsed >= this.o.heartbeatTicks) {
      leader.heartbeatElapsed = 0;
      this.sendHeartbeats();
    }
    if (leader.transfer !== undefined && ++leader.transfer.elapsed >= this.o.electionTicks) leader.transfer = undefined;
    leader.checkQuorumElapsed++;
    if (leader.checkQuorumElapsed < this.o.electionTicks) return;
    leader.checkQuorumElapsed = 0;
    const active = hasJointMajority(this.windowVoters(), (id) => id === this.id || leader.progress.get(id)?.recentActive === true);
    for (const progress of leader.progress.values()) progress.recentActive = false;
    if (this.o.checkQuorum && !active) {
      this.marks.checkQuorumStepDown++;
      this.becomeFollower(undefined);
    }
  }

  /** May campaign: a voter of its newest membership, not recovering, knowing the membership at its fromSlot. */
  private promotable(): boolean {
    if (this.role === "leader" || this.recoveringThrough !== 0) return false;
    return isVoter(this.log.latestMembership(), this.id) && this.log.membershipAt(this.commit + 1).voters.length > 0;
  }

  /** Stickiness: a replica that heard from a live leader recently will not help depose it. */
  private sticky(): boolean {
    return this.role === "leader" || this.leaderContactElapsed < this.o.electionTicks;
  }

  private observeRound(round: number): void {
    if (round > this.maxSeenRound) this.maxSeenRound = round;
  }

  // ---- Elections -------------------------------------------------------------------------------

  private nextBallot(): Ballot {
    return { round: Math.max(this.promised.round, this.maxSeenRound) + 1, replicaId: this.id };
  }

  private startPreVote(): void {
    this.clearRoleState();
    this.role = "preCandidate";
    this.leaderId = undefined;
    this.resetElectionTimer();
    const ballot = this.nextBallot();
    this.preVote = { ballot, granted: new Set([this.id]), rejected: new Set() };
    const voters = this.log.latestMembership().voters;
    for (const voter of voters) {
      if (voter === this.id) continue;
      this.messagesNow.push({ type: "preVote", from: this.id, to: voter, ballot, commitSlot: this.commit, lastSlot: this.log.lastSlot });
    }
    this.tallyPreVote();
  }

  private handlePreVote(m: PreVoteMessage): void {
    const latest = this.log.latestMembership();
    const knownCandidate = isVoter(latest, m.from) || m.commitSlot > this.commit;
    const granted = !this.sticky() && m.commitSlot >= this.commit && knownCandidate && this.recoveringThrough === 0;
    this.messagesNow.push({
      type: "preVoteReply",
      from: this.id,
      to: m.from,
      ballot: m.ballot,
      granted,
      promisedBallot: this.promised,
      commitSlot: this.commit,
    });
  }

  private handlePreVoteReply(m: PreVoteReplyMessage): void {
    this.observeRound(m.promisedBallot.round);
    const preVote = this.preVote;
    if (this.role !== "preCandidate" || preVote === undefined || !ballotEquals(m.ballot, preVote.ballot)) return;
    (m.granted ? preVote.granted : preVote.rejected).add(m.from);
    this.tallyPreVote();
  }

  private tallyPreVote(): void {
    const preVote = this.preVote!;
    const voters = this.log.latestMembership().voters;
    if (hasMajority(voters, (id) => preVote.granted.has(id))) {
      this.startCampaign(false);
      return;
    }
    // Granted plus undecided can no longer make a majority: give up until the next timeout.
    if (!hasMajority(voters, (id) => !preVote.rejected.has(id))) this.becomeFollower(undefined);
  }

  private startCampaign(force: boolean): void {
    this.clearRoleState();
    const ballot = this.nextBallot();
    this.setPromised(ballot);
    this.role = "candidate";
    this.leaderId = undefined;
    this.resetElectionTimer();
    const fromSlot = this.commit + 1;
    const campaign: Campaign = { ballot, fromSlot, promises: new Map(), asked: new Set([this.id]) };
    this.campaign = campaign;
    const own = this.report(fromSlot, Number.MAX_SAFE_INTEGER);
    campaign.promises.set(this.id, { commitSlot: this.commit, truncated: false, entries: own.entries });
    for (const m of this.log.membershipsAfter(this.commit)) this.askForPromises(m, force);
    this.tryWinCampaign(force);
  }

  private askForPromises(membership: Membership, force: boolean): void {
    const campaign = this.campaign!;
    for (const voter of membership.voters) {
      if (campaign.asked.has(voter)) continue;
      campaign.asked.add(voter);
      // After persistence: the candidate's own promise must be durable before it asks, or a crash
      // could let it reuse this ballot for different values.
      this.messagesAfter.push({ type: "prepare", from: this.id, to: voter, ballot: campaign.ballot, fromSlot: campaign.fromSlot, force });
    }
  }

  private handlePrepare(m: PrepareMessage): void {
    if (m.ballot.replicaId !== m.from) return;
    const order = compareBallots(m.ballot, this.promised);
    if (this.recoveringThrough !== 0) return this.reject(m.from, m.ballot, "prepare", RejectReason.recovering);
    if (order < 0 || (order === 0 && this.promised.replicaId !== m.from)) return this.reject(m.from, m.ballot, "prepare", RejectReason.ballot);
    if (order > 0 && !m.force && this.sticky()) {
      this.marks.stickyReject++;
      return this.reject(m.from, m.ballot, "prepare", RejectReason.sticky);
    }
    if (m.fromSlot < this.log.memFirstSlot) return this.reject(m.from, m.ballot, "prepare", RejectReason.behind);
    if (order > 0) {
      this.becomeFollower(undefined);
      this.setPromised(m.ballot);
    }
    const report = this.report(m.fromSlot, this.o.promiseBytesMax);
    const promise: PromiseMessage = { type: "promise", from: this.id, to: m.from, ballot: m.ballot, commitSlot: this.commit, ...report };
    (this.o.plantedBug === "promiseBeforePersist" ? this.messagesNow : this.messagesAfter).push(promise);
  }

  /** This replica's entries from `fromSlot` with effective ballots, up to `bytesMax`. */
  private report(fromSlot: Slot, bytesMax: number): { truncated: boolean; entries: LogEntry[] } {
    assert(fromSlot >= this.log.memFirstSlot, "reporting only from the in-memory window");
    const entries: LogEntry[] = [];
    let bytes = 0;
    for (let slot = fromSlot; slot <= this.log.lastSlot; slot++) {
      const entry = this.log.at(slot);
      bytes += entryBytes(entry);
      if (bytes > bytesMax) return { truncated: true, entries };
      entries.push({ slot, ballot: this.log.effectiveBallot(slot), kind: entry.kind, data: entry.data });
    }
    return { truncated: false, entries };
  }

  private handlePromise(m: PromiseMessage): void {
    const campaign = this.campaign;
    if (this.role !== "candidate" || campaign === undefined || !ballotEquals(m.ballot, campaign.ballot)) return;
    if (m.truncated) return; // incomplete: it cannot be used for recovery
    campaign.promises.set(m.from, m);
    this.tryWinCampaign(false);
  }

  /**
   * Becomes leader once the usable promises hold a majority of the membership governing fromSlot
   * AND of every membership in the recovered values (a lagging candidate may learn of newer
   * configurations from the promises; it must then hear from a majority of those too).
   */
  private tryWinCampaign(force: boolean): void {
    const campaign = this.campaign!;
    const base = this.log.membershipAt(campaign.fromSlot);
    assert(base.voters.length > 0, "a candidate knows the membership at its fromSlot (promotable)");
    if (!hasMajority(base.voters, (id) => campaign.promises.has(id))) return;
    const reports = this.o.plantedBug === "ignorePromises" ? [campaign.promises.get(this.id)!] : [...campaign.promises.values()];
    const recovered = recoverSlots(campaign.fromSlot, reports, this.o.plantedBug);
    const memberships = [base];
    for (const r of recovered) if (r.kind === EntryKind.config) memberships.push(decodeMembership(r.data));
    assert(memberships.every((m) => m.voters.length > 0), "recovered memberships have voters");
    for (const m of memberships) {
      if (hasMajority(m.voters, (id) => campaign.promises.has(id))) continue;
      this.askForPromises(m, force);
      return;
    }
    this.becomeLeader(recovered);
  }

  private becomeLeader(recovered: readonly RecoveredSlot[]): void {
    const campaign = this.campaign!;
    const ballot = campaign.ballot;
    assert(ballotEquals(ballot, this.promised), "leading in the promised ballot");
    // A promise's commit slot vouches only for the entries it actually reported.
    let chosenThrough = this.commit;
    for (const p of campaign.promises.values()) {
      const reportedThrough = p.entries.length > 0 ? p.entries[p.entries.length - 1].slot : campaign.fromSlot - 1;
      chosenThrough = Math.max(chosenThrough, Math.min(p.commitSlot, reportedThrough));
    }
    this.campaign = undefined;
    this.role = "leader";
    this.leaderId = this.id;
    this.marks.election++;
    for (const r of recovered) {
      if (r.source === "fill") this.marks.holeFilled++;
      else if (r.source === "chosen") this.marks.recoveredChosen++;
      else this.marks.recoveredValue++;
      if (r.contested) this.marks.recoveredContested++;
    }
    // Re-accept every recovered value under our ballot, then append our own no-op.
    this.acceptRange(campaign.fromSlot - 1, recovered, ballot, Number.MAX_SAFE_INTEGER);
    assert(this.log.lastSlot === campaign.fromSlot + recovered.length - 1, "the log ends at the recovered range");
    // A fresh group's log starts with its initial configuration (etcd bootstraps the same way), so
    // a replica that joins later and replicates from slot 1 learns it from the log.
    const bootstrapConfig = this.log.lastSlot === 0 && this.log.snapshotSlot === 0 && this.log.latestMembership().voters.length > 0;
    if (bootstrapConfig) this.appendLocal({ slot: 1, ballot, kind: EntryKind.config, data: encodeMembership(this.log.latestMembership()) });
    const firstSlot = this.log.lastSlot + 1;
    this.leader = this.newLeaderState(ballot, firstSlot);
    this.appendLocal({ slot: firstSlot, ballot, kind: EntryKind.noop, data: NOOP });
    this.syncProgress();
    if (chosenThrough > this.commit) this.setCommit(chosenThrough);
    this.sendHeartbeats();
    for (const peer of this.leader.progress.keys()) this.sendAppend(peer);
    this.maybeCommit();
  }

  private newLeaderState(ballot: Ballot, firstSlot: Slot): LeaderState {
    return {
      ballot,
      firstSlot,
      progress: new Map(),
      selfMatch: 0,
      batch: new BatchBuilder(Math.min(this.o.batchBytesMax, 64 * 1024)),
      heartbeatElapsed: 0,
      checkQuorumElapsed: 0,
      round: 0,
      confirmedRound: 0,
      roundSentAt: new Map(),
      leaseExpiryTick: 0,
      readsWaiting: [],
      readsBeforeCommit: [],
      transfer: undefined,
      pendingConfigSlot: this.log.lastConfigSlotAfter(this.commit),
    };
  }

  private newProgress(): Progress {
    return new Progress(this.log.lastSlot + 1, this.o.inflightMessagesMax, this.o.inflightBytesMax);
  }

  /** Keeps one Progress per member of every configuration in the uncommitted window. */
  private syncProgress(): void {
    const leader = this.leader!;
    const members = new Set<ReplicaId>();
    for (const m of this.log.membershipsAfter(this.commit)) for (const id of [...m.voters, ...m.learners]) members.add(id);
    members.delete(this.id);
    for (const id of members) if (!leader.progress.has(id)) leader.progress.set(id, this.newProgress());
    for (const id of [...leader.progress.keys()]) if (!members.has(id)) leader.progress.delete(id);
  }

  private handleTimeoutNow(m: TimeoutNowMessage): void {
    if (m.ballot.replicaId !== m.from || !ballotEquals(m.ballot, this.promised) || this.leaderId !== m.from) return;
    if (!this.promotable()) return;
    this.startCampaign(true);
  }

  private clearRoleState(): void {
    if (this.leader !== undefined) {
      this.failReads(this.leader);
      // Heartbeats and Accepts queued while leading would make followers sticky to a leader that
      // is gone: drop them (any message may be lost anyway).
      this.messagesNow = this.messagesNow.filter((m) => m.type !== "heartbeat" && m.type !== "accept" && m.type !== "timeoutNow");
    }
    this.preVote = undefined;
    this.campaign = undefined;
    this.leader = undefined;
  }

  private becomeFollower(leaderId: ReplicaId | undefined): void {
    this.clearRoleState();
    this.role = "follower";
    this.leaderId = leaderId;
    this.resetElectionTimer();
  }

  private failReads(leader: LeaderState): void {
    for (const r of leader.readsWaiting) this.readStates.push({ requestId: r.requestId, outcome: "notLeader", slot: 0 });
    for (const id of leader.readsBeforeCommit) this.readStates.push({ requestId: id, outcome: "notLeader", slot: 0 });
    leader.readsWaiting.length = 0;
    leader.readsBeforeCommit.length = 0;
  }

  private setPromised(ballot: Ballot): void {
    assert(compareBallots(ballot, this.promised) > 0, "promises only rise");
    this.promised = ballot;
    this.matched = 0;
    this.markHard(true);
  }

  private markHard(sync: boolean): void {
    this.hardDirty = true;
    if (sync) this.hardSync = true;
  }

  // ---- Phase 2: the acceptor -----------------------------------------------------------------

  /** Follows the sender of a valid leader message (ballot >= promise); false if rejected. */
  private followLeader(from: ReplicaId, ballot: Ballot, kind: RejectedKind): boolean {
    const order = compareBallots(ballot, this.promised);
    if (order < 0) {
      this.reject(from, ballot, kind, RejectReason.ballot);
      return false;
    }
    if (order > 0) {
      this.becomeFollower(from);
      this.setPromised(ballot);
    } else if (order === 0 && (this.role !== "follower" || this.leaderId !== from)) {
      assert(this.role !== "leader", "two leaders in one ballot");
      this.becomeFollower(from);
    }
    this.leaderContactElapsed = 0;
    this.electionElapsed = 0;
    return true;
  }

  private handleAccept(m: AcceptMessage): void {
    if (m.ballot.replicaId !== m.from) return;
    const lowerAccepted = this.o.plantedBug === "acceptLowerBallot" && compareBallots(m.ballot, this.promised) < 0;
    if (!lowerAccepted && !this.followLeader(m.from, m.ballot, "accept")) return;
    const prevOk =
      m.prevSlot <= this.commit ||
      (m.prevSlot <= this.matched &&
        m.prevSlot <= this.log.lastSlot &&
        ballotEquals(m.prevBallot, m.ballot) &&
        ballotEquals(this.log.effectiveBallot(m.prevSlot), m.ballot));
    if (!prevOk) return this.reject(m.from, m.ballot, "accept", RejectReason.mismatch);
    if (!this.acceptRange(m.prevSlot, m.entries, m.ballot, m.leaderLastSlot)) {
      return this.reject(m.from, m.ballot, "accept", RejectReason.mismatch);
    }
    this.advanceCommitTo(Math.min(m.leaderCommit, this.commitBound()));
    this.messagesAfter.push({ type: "accepted", from: this.id, to: m.from, ballot: m.ballot, matchedSlot: this.matched, commitSlot: this.commit });
  }

  /**
   * Accepts `entries` for slots prevSlot+1.. at `ballot` (the prev check already passed).
   * Committed slots are skipped (they hold the chosen value already); unchanged values are
   * re-accepted with a ballot step; the log is truncated only at the first slot whose value
   * DIFFERS from the leader's, and every entry dropped there is provably not chosen
   * (docs/consensus.md, "Truncation"). Returns false if the acceptor had to reset its tail.
   */
  private acceptRange(prevSlot: Slot, entries: readonly AcceptEntry[], ballot: Ballot, leaderLastSlot: Slot): boolean {
    const end = prevSlot + entries.length;
    const start = Math.max(prevSlot + 1, this.commit + 1);
    let identicalEnd = start - 1;
    let firstDiff: Slot | undefined;
    for (let slot = start; slot <= end; slot++) {
      const incoming = entries[slot - prevSlot - 1];
      const local = slot <= this.log.lastSlot ? this.log.at(slot) : undefined;
      if (local !== undefined && local.kind === incoming.kind && bytesEqual(local.data, incoming.data)) {
        identicalEnd = slot;
        continue;
      }
      firstDiff = slot;
      break;
    }
    if (identicalEnd >= start && identicalEnd > this.matched && this.log.recordStep(identicalEnd, ballot)) {
      this.marks.reacceptStep++;
      this.markHard(true);
    }
    if (firstDiff !== undefined) {
      if (firstDiff <= this.log.lastSlot) {
        this.marks.truncateDiffering++;
        this.truncateLocal(firstDiff);
      }
      for (let slot = firstDiff; slot <= end; slot++) {
        const e = entries[slot - prevSlot - 1];
        this.appendLocal({ slot, ballot, kind: e.kind, data: e.data });
      }
    }
    this.matched = Math.max(this.matched, end);
    // A stale tail beyond the leader's log holds values no leader from this ballot on can choose
    // (the leader's log covers everything phase 1 recovered). Ignore old messages (leaderLastSlot
    // below what we already matched in this ballot).
    if (this.log.lastSlot > leaderLastSlot && leaderLastSlot >= this.matched && leaderLastSlot >= this.commit) {
      this.marks.truncateStaleTail++;
      this.truncateLocal(leaderLastSlot + 1);
    }
    if (this.log.steps.filter((step) => step.throughSlot > this.commit).length > this.o.ballotStepsMax && this.commit < this.log.lastSlot) {
      this.resetTail();
      return false;
    }
    return true;
  }

  /**
   * Too many partial re-acceptances: forget the uncommitted tail and vote no more until caught up
   * past it (the same rule as after a lost disk tail). The hard state with the recovering flag is
   * made durable before the truncation (Persist contract), so a crash cannot forget the flag.
   */
  private resetTail(): void {
    const oldLast = this.log.lastSlot;
    assert(this.commit < oldLast, "a reset tail lies above the commit slot");
    this.marks.resetTail++;
    this.recoveringThrough = Math.max(this.recoveringThrough, oldLast);
    this.truncateLocal(this.commit + 1);
    this.log.setSteps([]);
    this.matched = Math.min(this.matched, this.commit);
    this.markHard(true);
  }

  private appendLocal(entry: LogEntry): void {
    assert(entry.slot === this.log.lastSlot + 1, "local appends are dense");
    assert(compareBallots(entry.ballot, this.promised) <= 0, "entries never above the promise");
    this.log.append(entry);
    this.pendingEntries.push(entry);
    if (this.role === "leader") this.matched = entry.slot;
  }

  private truncateLocal(slot: Slot): void {
    assert(slot > this.commit, `truncating committed slot ${slot} (commit ${this.commit})`);
    assert(slot <= this.log.lastSlot, "truncating held slots");
    this.log.truncateFrom(slot);
    this.matched = Math.min(this.matched, slot - 1);
    while (this.pendingEntries.length > 0 && this.pendingEntries[this.pendingEntries.length - 1].slot >= slot) this.pendingEntries.pop();
    if (slot <= this.diskLast) {
      this.pendingTruncate = Math.min(this.pendingTruncate ?? slot, slot);
      this.diskLast = slot - 1;
    }
    this.durableLast = Math.min(this.durableLast, slot - 1);
    this.markHard(false);
  }

  private handleHeartbeat(m: HeartbeatMessage): void {
    if (m.ballot.replicaId !== m.from) return;
    if (!this.followLeader(m.from, m.ballot, "heartbeat")) return;
    this.advanceCommitTo(Math.min(m.leaderCommit, this.commitBound()));
    this.messagesAfter.push({
      type: "heartbeatAck",
      from: this.id,
      to: m.from,
      ballot: m.ballot,
      round: m.round,
      matchedSlot: this.matched,
      commitSlot: this.commit,
    });
  }

  /** A follower may commit only what matches the leader's log (the planted bug uses its last slot). */
  private commitBound(): Slot {
    return this.o.plantedBug === "commitWithoutMatch" ? this.log.lastSlot : this.matched;
  }

  private advanceCommitTo(slot: Slot): void {
    if (slot <= this.commit) return;
    assert(slot <= this.log.lastSlot, "commit only held slots");
    this.setCommit(slot);
  }

  private reject(to: ReplicaId, ballot: Ballot, rejected: RejectedKind, reason: RejectReason): void {
    const message: RejectMessage = {
      type: "reject",
      from: this.id,
      to,
      ballot,
      rejected,
      reason,
      promisedBallot: this.promised,
      commitSlot: this.commit,
      matchedSlot: ballotEquals(ballot, this.promised) ? this.matched : 0,
      lastSlot: this.log.lastSlot,
    };
    this.messagesAfter.push(message);
  }

  // ---- Phase 2: the leader -------------------------------------------------------------------

  private sealBatch(): void {
    const leader = this.leader!;
    if (leader.batch.count === 0) return;
    const data = leader.batch.seal();
    this.appendLocal({ slot: this.log.lastSlot + 1, ballot: leader.ballot, kind: EntryKind.commands, data });
  }

  private entryForSend(slot: Slot): LogEntry | undefined {
    return this.log.entry(slot) ?? this.cachedEntry(slot);
  }

  private cachedEntry(slot: Slot): LogEntry | undefined {
    const cache = this.loadCache;
    if (cache.length === 0 || slot < cache[0].slot || slot > cache[cache.length - 1].slot) return undefined;
    const entry = cache[slot - cache[0].slot];
    assert(entry.slot === slot, "load cache is contiguous");
    return entry;
  }

  /** Sends the follower what it lacks, within its progress window and the message size limit. */
  private sendAppend(peer: ReplicaId): void {
    const leader = this.leader;
    if (leader === undefined) return; // stepped down while handling this input
    const progress = leader.progress.get(peer);
    if (progress === undefined) return;
    for (let sent = 0; sent < this.o.inflightMessagesMax && progress.canSend(); sent++) {
      if (progress.next > this.log.lastSlot && progress.state !== "probe") return;
      if (!this.neededEntriesAvailable(peer, progress)) return;
      this.sendAcceptRange(peer, progress, leader);
      if (progress.state === "probe") return;
    }
  }

  private neededEntriesAvailable(peer: ReplicaId, progress: Progress): boolean {
    const next = progress.next;
    if (next > this.log.lastSlot || this.entryForSend(next) !== undefined) return true;
    if (next < this.log.diskFirstSlot) {
      progress.becomeSnapshot(this.log.snapshotSlot);
      this.marks.snapshotSent++;
      this.snapshotRequests.push({ to: peer, slot: this.log.snapshotSlot });
      return false;
    }
    if (!progress.loadPending) {
      progress.loadPending = true;
      this.requestLoad(next, this.log.memFirstSlot - 1);
    }
    return false;
  }

  private sendAcceptRange(peer: ReplicaId, progress: Progress, leader: LeaderState): void {
    const prevSlot = progress.next - 1;
    const prevEntry = prevSlot >= 1 ? this.log.entry(prevSlot) : undefined;
    const prevBallot = prevEntry !== undefined ? this.log.effectiveBallot(prevSlot) : ZERO_BALLOT;
    const entries: AcceptEntry[] = [];
    let bytes = 0;
    for (let slot = progress.next; slot <= this.log.lastSlot; slot++) {
      const entry = this.entryForSend(slot);
      if (entry === undefined) break;
      const size = entryBytes(entry);
      if (entries.length > 0 && bytes + size > this.o.messageBytesMax) break;
      entries.push({ kind: entry.kind, data: entry.data });
      bytes += size;
    }
    this.messagesNow.push({
      type: "accept",
      from: this.id,
      to: peer,
      ballot: leader.ballot,
      prevSlot,
      prevBallot,
      leaderCommit: this.commit,
      leaderLastSlot: this.log.lastSlot,
      entries,
    });
    progress.sent(prevSlot + entries.length, bytes);
    progress.sendRound = leader.round;
    assert(progress.next >= 1, "next stays a real slot");
  }

  private handleAccepted(m: AcceptedMessage): void {
    const leader = this.leader;
    if (leader === undefined || !ballotEquals(m.ballot, leader.ballot)) return;
    const progress = leader.progress.get(m.from);
    if (progress === undefined) return;
    progress.recentActive = true;
    assert(m.matchedSlot <= this.log.lastSlot, "a follower cannot match beyond the leader's log");
    const advanced = progress.acknowledge(m.matchedSlot);
    if (progress.state === "probe") progress.becomeReplicate();
    if (advanced) {
      progress.matchRound = leader.round;
      this.maybeCommit();
      this.maybeSendTimeoutNow();
    }
    if (this.leader !== undefined) this.sendAppend(m.from);
  }

  private handleReject(m: RejectMessage): void {
    this.observeRound(m.promisedBallot.round);
    if (compareBallots(m.promisedBallot, this.promised) > 0 && this.role !== "follower") {
      this.becomeFollower(undefined);
      return;
    }
    const leader = this.leader;
    if (m.rejected !== "accept" || leader === undefined || !ballotEquals(m.ballot, leader.ballot)) return;
    const progress = leader.progress.get(m.from);
    if (progress === undefined || progress.state === "snapshot") return;
    progress.recentActive = true;
    const holds = Math.max(m.commitSlot, m.matchedSlot);
    if (holds < progress.match) this.marks.lowerMatch++;
    progress.lowerMatch(holds);
    progress.becomeProbe(holds + 1);
    this.sendAppend(m.from);
  }

  /** Commit = the slot matched by a majority of every configuration in the uncommitted window. */
  private maybeCommit(): void {
    const leader = this.leader;
    if (leader === undefined) return;
    const matchOf = (id: ReplicaId): Slot => (id === this.id ? leader.selfMatch : (leader.progress.get(id)?.match ?? 0));
    const candidate = jointQuorumMatch(this.windowVoters(), matchOf);
    if (candidate <= this.commit) return;
    assert(candidate <= this.log.lastSlot, "commit within the log");
    this.setCommit(candidate);
  }

  private windowVoters(): ReplicaId[][] {
    return this.log.membershipsAfter(this.commit).map((m) => m.voters as ReplicaId[]).filter((v) => v.length > 0);
  }

  private setCommit(slot: Slot): void {
    assert(slot > this.commit, "commit only rises");
    assert(slot <= this.log.lastSlot, "commit within the log");
    const from = Math.max(this.commit + 1, this.log.memFirstSlot);
    this.hintBytesPending += this.log.bytesBetween(from, slot);
    this.commit = slot;
    this.afterCommitAdvanced();
  }

  private afterCommitAdvanced(): void {
    if (this.recoveringThrough !== 0 && this.commit >= this.recoveringThrough) {
      this.marks.recoveringExit++;
      this.recoveringThrough = 0;
      this.markHard(true);
    }
    const leader = this.leader;
    if (leader === undefined) return;
    if (this.commit >= leader.firstSlot && leader.readsBeforeCommit.length > 0) {
      for (const requestId of leader.readsBeforeCommit) leader.readsWaiting.push({ requestId, slot: this.commit, round: 0 });
      leader.readsBeforeCommit.length = 0;
    }
    if (leader.pendingConfigSlot !== 0 && this.commit >= leader.pendingConfigSlot) {
      leader.pendingConfigSlot = 0;
      this.syncProgress();
      if (!isVoter(this.log.membershipAt(this.commit + 1), this.id)) {
        this.marks.removedLeaderStepDown++;
        this.becomeFollower(undefined);
      }
    }
  }

  private maybeSendTimeoutNow(): void {
    const leader = this.leader;
    const transfer = leader?.transfer;
    if (leader === undefined || transfer === undefined || transfer.sent) return;
    const progress = leader.progress.get(transfer.target);
    if (progress === undefined || progress.match < this.log.lastSlot) return;
    transfer.sent = true;
    this.messagesNow.push({ type: "timeoutNow", from: this.id, to: transfer.target, ballot: leader.ballot });
  }

  // ---- Heartbeats, read index and leases -----------------------------------------------------

  private sendHeartbeats(): void {
    const leader = this.leader!;
    leader.round++;
    leader.roundSentAt.set(leader.round, this.now);
    if (leader.roundSentAt.size > ROUNDS_KEPT_MAX) leader.roundSentAt.delete(leader.roundSentAt.keys().next().value!);
    for (const peer of leader.progress.keys()) {
      this.messagesNow.push({ type: "heartbeat", from: this.id, to: peer, ballot: leader.ballot, leaderCommit: this.commit, round: leader.round });
    }
    this.confirmRounds();
  }

  /** Reads queued since the last round need a round started after they arrived. */
  private startReadRound(): void {
    const leader = this.leader!;
    const unassigned = leader.readsWaiting.filter((r) => r.round === 0);
    if (unassigned.length === 0) return;
    this.sendHeartbeats();
    for (const r of unassigned) r.round = leader.round;
    this.confirmRounds();
  }

  private handleHeartbeatAck(m: HeartbeatAckMessage): void {
    const leader = this.leader;
    if (leader === undefined || !ballotEquals(m.ballot, leader.ballot)) return;
    const progress = leader.progress.get(m.from);
    if (progress === undefined) return;
    progress.recentActive = true;
    progress.ackedRound = Math.max(progress.ackedRound, m.round);
    this.confirmRounds();
    if (this.leader === undefined) return;
    if (m.round > progress.matchRound && m.matchedSlot < progress.match && progress.state !== "snapshot") {
      // An ack of a round sent after match last advanced reports less: the follower lost entries
      // (a corrupt disk tail). Start over from what it holds, or an idle leader would never resend.
      this.marks.lowerMatch++;
      progress.lowerMatch(Math.max(m.matchedSlot, m.commitSlot));
      progress.becomeProbe(progress.match + 1);
    }
    if (m.matchedSlot <= this.log.lastSlot && progress.acknowledge(m.matchedSlot)) {
      progress.matchRound = leader.round;
      this.maybeCommit();
    }
    if (progress.match >= this.log.lastSlot) return;
    if (progress.state === "probe") progress.probeSent = false;
    // The follower answered a heartbeat sent after our latest Accept without having matched what
    // we sent: an Accept (or its reply) was lost. Resume from what it holds.
    if (progress.state === "replicate" && m.round > progress.sendRound && m.matchedSlot < progress.next - 1) progress.becomeProbe(progress.match + 1);
    this.sendAppend(m.from);
  }

  /** The highest round a majority of every configuration acknowledged: extends the lease, serves reads. */
  private confirmRounds(): void {
    const leader = this.leader!;
    const roundOf = (id: ReplicaId): number => (id === this.id ? leader.round : (leader.progress.get(id)?.ackedRound ?? 0));
    const round = jointQuorumMatch(this.windowVoters(), roundOf);
    if (round <= leader.confirmedRound) return;
    leader.confirmedRound = round;
    const sentAt = leader.roundSentAt.get(round);
    if (sentAt !== undefined && leader.transfer === undefined) {
      leader.leaseExpiryTick = Math.max(leader.leaseExpiryTick, sentAt + leaseTicks(this.o));
    }
    for (const r of [...leader.roundSentAt.keys()]) if (r < round) leader.roundSentAt.delete(r);
    let served = 0;
    for (const r of leader.readsWaiting) {
      if (r.round === 0 || r.round > round) break;
      this.readStates.push({ requestId: r.requestId, outcome: "ok", slot: r.slot });
      this.marks.readIndexServed++;
      served++;
    }
    leader.readsWaiting.splice(0, served);
  }

  // ---- Loads and invariants ------------------------------------------------------------------

  private requestLoad(fromSlot: Slot, toSlot: Slot): void {
    if (toSlot < fromSlot || this.loadsOutstanding.length >= LOADS_OUTSTANDING_MAX) return;
    if (this.loadsOutstanding.some((l) => l.fromSlot <= fromSlot && fromSlot <= l.toSlot)) return;
    assert(fromSlot >= this.log.diskFirstSlot, "loads only from the durable log");
    this.loadsOutstanding.push({ fromSlot, toSlot });
    this.marks.loadRequested++;
    this.loadRequests.push({ fromSlot, toSlot, bytesMax: this.o.messageBytesMax });
  }

  /** The highest slot whose prefix matches the promised ballot's leader, from durable state. */
  private computeMatched(): Slot {
    for (let slot = this.log.lastSlot; slot > this.commit && slot >= this.log.memFirstSlot; slot--) {
      if (ballotEquals(this.log.effectiveBallot(slot), this.promised)) return slot;
    }
    return this.commit;
  }

  private checkInvariants(): void {
    assert(this.commit <= this.log.lastSlot, `commit ${this.commit} beyond last ${this.log.lastSlot}`);
    assert(this.log.memFirstSlot <= Math.min(this.commit, this.handedOut) + 1, "unapplied and uncommitted entries stay in memory");
    assert(this.handedOut <= this.commit && this.applied <= this.handedOut, "applied <= handed out <= commit");
    assert(this.commit >= this.log.snapshotSlot, "commit covers the snapshot");
    assert((this.role === "leader") === (this.leader !== undefined), "leader state iff leader");
    for (const step of this.log.steps) assert(compareBallots(step.ballot, this.promised) <= 0, "steps never above the promise");
    if (this.leader !== undefined) assert(ballotEquals(this.leader.ballot, this.promised), "the leader leads its promised ballot");
  }
}

function mergeLoadCache(cache: readonly LogEntry[], entries: readonly LogEntry[], bytesMax: number): LogEntry[] {
  let merged: LogEntry[];
  const last = cache[cache.length - 1];
  if (last !== undefined && entries[0].slot === last.slot + 1) merged = [...cache, ...entries];
  else merged = [...entries];
  let bytes = 0;
  for (const e of merged) bytes += entryBytes(e);
  let drop = 0;
  while (drop < merged.length - 1 && bytes > bytesMax) bytes -= entryBytes(merged[drop++]);
  return drop > 0 ? merged.slice(drop) : merged;
}

