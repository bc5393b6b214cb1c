// The contract between the pure replica and its driver (the runtime in src/node/ or the simulator).
// The driver loop, for each replica:
//   1. rd = replica.ready(); if undefined, nothing to do.
//   2. Send rd.messages at once (they need no local persistence: the leader's Accepts and
//      heartbeats, pre-votes; the leader counts itself toward a quorum only once durable).
//   3. Act on rd.committed, rd.reads, rd.loads, rd.snapshotSends (see each field).
//   4. Persist rd.persist: write `hardState` and make it durable, then truncate from
//      `truncateFromSlot`, then append `entries`, then fsync everything when `syncRequired`.
//   5. msgs = replica.advance(rd); send msgs (replies that promise or accept something, Prepares).
// Pipelining: a driver may call ready() again before advancing earlier Readies, up to
// readiesInFlightMax of them. It must then persist the Readies in the order it got them (each
// write after the previous Ready's writes; an fsync covers everything written before it) and
// advance them in that order, each only once its persist and every earlier one is durable.
// A Ready handed out while others are outstanding only appends: it carries no hard state and no
// truncation (the core returns undefined until the earlier Readies are advanced when it has such
// a write pending). advance() asserts the order, so a driver cannot send a reply that depends on
// state it has not persisted. A driver that never pipelines advances before its next ready().
import type { SnapshotMeta } from "./codec.js";
import type { MembershipAt } from "./log.js";
import type { Message } from "./messages.js";
import type { Ballot, HardState, LogEntry, ReplicaId, Slot } from "./types.js";

export type Role = "follower" | "preCandidate" | "candidate" | "leader";

export interface SoftState {
  readonly role: Role;
  /** The leader this replica follows (itself when leader), if known. */
  readonly leaderId: ReplicaId | undefined;
  /** The promised ballot (the leader's ballot while following or leading). */
  readonly ballot: Ballot;
}

export interface Persist {
  /**
   * When present: replace the durable hard state atomically. It must be DURABLE before
   * `truncateFromSlot` is applied (the recovering flag and the promise guard what follows).
   */
  readonly hardState: HardState | undefined;
  /** When present: remove every durable log entry at or above this slot, before appending. */
  readonly truncateFromSlot: Slot | undefined;
  /** Append in slot order; the first follows the log's last slot after the truncation. */
  readonly entries: readonly LogEntry[];
  /** Whether an fsync is needed before advance() (false when only the commit hint changed). */
  readonly syncRequired: boolean;
}

export interface ReadState {
  readonly requestId: number;
  /** "ok": serve the read once the state machine has applied through `slot`. */
  readonly outcome: "ok" | "notLeader";
  readonly slot: Slot;
}

/** Read committed entries [fromSlot, toSlot] (up to bytesMax, at least one) and call loaded(). */
export interface LoadRequest {
  readonly fromSlot: Slot;
  readonly toSlot: Slot;
  readonly bytesMax: number;
}

/** Stream the latest snapshot (at least `slot`) to `to` out of band, then call reportSnapshot(). */
export interface SnapshotSend {
  readonly to: ReplicaId;
  readonly slot: Slot;
}

export interface Ready {
  /** Pairs this Ready with its advance(). */
  readonly number: number;
  /** Present when role, leader or ballot changed since the previous Ready. */
  readonly softState: SoftState | undefined;
  /** What to make durable BEFORE calling advance() (step 4). */
  readonly persist: Persist;
  /** Messages that may be sent immediately, before persisting (step 2). */
  readonly messages: readonly Message[];
  /**
   * Newly committed entries, in slot order, to apply to the state machine (skip no-ops; config
   * entries are handled by the core). Applying may happen before or after persisting.
   */
  readonly committed: readonly LogEntry[];
  /** Read-index results: serve each read once applied through its slot, or fail it. */
  readonly reads: readonly ReadState[];
  /** Log ranges the core needs from the driver's storage (catch-up, apply after restart). */
  readonly loads: readonly LoadRequest[];
  /** Followers that need a snapshot (their next slot is below the compacted log). */
  readonly snapshotSends: readonly SnapshotSend[];
}

/** What a driver reads back from durable storage to construct a replica at (re)start. */
export interface DurableState {
  readonly hardState: HardState;
  /** The latest durable snapshot's metadata (slot 0 and the initial membership when none). */
  readonly snapshot: SnapshotMeta;
  /** First slot the durable log holds (snapshot.slot + 1 when nothing is kept below it). */
  readonly logFirstSlot: Slot;
  /** The durable log's last slot (snapshot.slot when the log holds nothing above it). */
  readonly lastSlot: Slot;
  /**
   * A contiguous tail of the durable log ending at lastSlot (or at lostFromSlot - 1), covering at
   * least every slot above min(hardState.commitSlot, appliedSlot).
   */
  readonly tail: readonly LogEntry[];
  /** Config entries of the durable log above the snapshot and below the tail. */
  readonly memberships: readonly MembershipAt[];
  /** The state machine's applied slot after the driver restored it (normally snapshot.slot). */
  readonly appliedSlot: Slot;
  /**
   * Set when the driver found a corrupt entry inside its durable log: entries from here on are
   * unusable. The replica truncates there and rejoins as non-voting (Paxos Made Live).
   */
  readonly lostFromSlot?: Slot;
}
