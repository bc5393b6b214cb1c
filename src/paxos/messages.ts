// Every message replicas exchange. Phase 1 is Prepare/Promise (once per leadership, for all slots
// from `fromSlot` on); phase 2 is Accept/Accepted over contiguous ranges (Raft-style prev check);
// heartbeats carry the commit slot and confirm leadership for reads and leases. Rejections carry
// the acceptor's promised ballot and catch-up hints. The binary form is in codec.ts.
import type { Ballot, EntryKind, LogEntry, ReplicaId, Slot } from "./types.js";

interface Envelope {
  readonly from: ReplicaId;
  readonly to: ReplicaId;
  /** The ballot the message is about (the sender's, or the one being answered). */
  readonly ballot: Ballot;
}

/** "Would you promise me `ballot`?" Changes no state at the receiver (Raft thesis §9.6). */
export interface PreVoteMessage extends Envelope {
  readonly type: "preVote";
  readonly commitSlot: Slot;
  readonly lastSlot: Slot;
}

export interface PreVoteReplyMessage extends Envelope {
  readonly type: "preVoteReply";
  readonly granted: boolean;
  /** The responder's promised ballot, so a candidate can pick a round above it. */
  readonly promisedBallot: Ballot;
  readonly commitSlot: Slot;
}

/** Phase 1a for every slot from `fromSlot` on. `force` (leadership transfer) ignores stickiness. */
export interface PrepareMessage extends Envelope {
  readonly type: "prepare";
  readonly fromSlot: Slot;
  readonly force: boolean;
}

/**
 * Phase 1b: the acceptor promised `ballot` (durably, before this was sent) and reports every entry
 * it holds from `fromSlot` on with its effective accepted ballot. `truncated` means the report hit
 * `promiseBytesMax` and is incomplete: the candidate must not use it for recovery.
 */
export interface PromiseMessage extends Envelope {
  readonly type: "promise";
  readonly commitSlot: Slot;
  readonly truncated: boolean;
  readonly entries: readonly LogEntry[];
}

export interface AcceptEntry {
  readonly kind: EntryKind;
  readonly data: Uint8Array;
}

/**
 * Phase 2a for the range `prevSlot+1 .. prevSlot+entries.length`. The acceptor takes it iff
 * ballot >= its promise and `prevSlot` is within its committed prefix or was accepted in this
 * same ballot. `leaderLastSlot` lets it drop a stale tail beyond the leader's log.
 */
export interface AcceptMessage extends Envelope {
  readonly type: "accept";
  readonly prevSlot: Slot;
  readonly prevBallot: Ballot;
  readonly leaderCommit: Slot;
  readonly leaderLastSlot: Slot;
  readonly entries: readonly AcceptEntry[];
}

/** Phase 2b: durably accepted, in `ballot`, the leader's log up to `matchedSlot`. */
export interface AcceptedMessage extends Envelope {
  readonly type: "accepted";
  readonly matchedSlot: Slot;
  readonly commitSlot: Slot;
}

export const RejectReason = {
  /** The acceptor promised a higher ballot (`promisedBallot`). */
  ballot: 0,
  /** It heard from a live leader less than an election timeout ago (stickiness). */
  sticky: 1,
  /** The prev check failed; resume from `max(commitSlot, matchedSlot) + 1`. */
  mismatch: 2,
  /** It is rebuilding after losing durable entries and may not promise. */
  recovering: 3,
  /** It cannot report entries from the requested slot (compacted or out of its window). */
  behind: 4,
} as const;
export type RejectReason = (typeof RejectReason)[keyof typeof RejectReason];

export type RejectedKind = "prepare" | "accept" | "heartbeat";

export interface RejectMessage extends Envelope {
  readonly type: "reject";
  readonly rejected: RejectedKind;
  readonly reason: RejectReason;
  readonly promisedBallot: Ballot;
  readonly commitSlot: Slot;
  readonly matchedSlot: Slot;
  readonly lastSlot: Slot;
}

export interface HeartbeatMessage extends Envelope {
  readonly type: "heartbeat";
  readonly leaderCommit: Slot;
  /** The leader's heartbeat round, echoed in the ack (read index and lease bookkeeping). */
  readonly round: number;
}

export interface HeartbeatAckMessage extends Envelope {
  readonly type: "heartbeatAck";
  readonly round: number;
  readonly matchedSlot: Slot;
  readonly commitSlot: Slot;
}

/** Leadership transfer: "campaign now, with force". */
export interface TimeoutNowMessage extends Envelope {
  readonly type: "timeoutNow";
}

export type Message =
  | PreVoteMessage
  | PreVoteReplyMessage
  | PrepareMessage
  | PromiseMessage
  | AcceptMessage
  | AcceptedMessage
  | RejectMessage
  | HeartbeatMessage
  | HeartbeatAckMessage
  | TimeoutNowMessage;

export type MessageType = Message["type"];
