// The vocabulary of the consensus core: replica ids, slots, ballots, log entries and the durable
// hard state. One set of words everywhere (notes §1.0): `ballot`, `slot`, `commitSlot`,
// `appliedSlot`, `promisedBallot`, `acceptedBallot`.
import { assert } from "../util/assert.js";

/** A replica's identity inside one group: a positive 32-bit integer, never reused. */
export type ReplicaId = number & { readonly __replicaId: unique symbol };

/** A position in the replicated log. Slot 0 is "before the first entry"; entries start at 1. */
export type Slot = number;

export const REPLICA_ID_MAX = 0xffff_ffff;
/** Ballot rounds and slots are safe integers; the codec writes them as 64-bit fields. */
export const SLOT_MAX = Number.MAX_SAFE_INTEGER;

export function replicaId(value: number): ReplicaId {
  assert(Number.isSafeInteger(value), `replica id is not an integer: ${value}`);
  assert(value >= 1 && value <= REPLICA_ID_MAX, `replica id out of range: ${value}`);
  return value as ReplicaId;
}

export function assertSlot(slot: number, what = "slot"): void {
  assert(Number.isSafeInteger(slot), `${what} is not a safe integer: ${slot}`);
  assert(slot >= 0, `${what} is negative: ${slot}`);
}

/**
 * A ballot `(round, replicaId)`, ordered by round then by replica id, so two proposers never
 * share one. `replicaId` 0 appears only in the zero ballot, below every real ballot.
 */
export interface Ballot {
  readonly round: number;
  readonly replicaId: number;
}

export const ZERO_BALLOT: Ballot = Object.freeze({ round: 0, replicaId: 0 });

export function ballot(round: number, replica: number): Ballot {
  assert(Number.isSafeInteger(round) && round >= 0, `ballot round out of range: ${round}`);
  assert(Number.isSafeInteger(replica) && replica >= 0 && replica <= REPLICA_ID_MAX, `ballot replica out of range: ${replica}`);
  return { round, replicaId: replica };
}

/** Negative, zero or positive as a is below, equal to or above b. */
export function compareBallots(a: Ballot, b: Ballot): number {
  if (a.round !== b.round) return a.round < b.round ? -1 : 1;
  if (a.replicaId !== b.replicaId) return a.replicaId < b.replicaId ? -1 : 1;
  return 0;
}

export function ballotEquals(a: Ballot, b: Ballot): boolean {
  return a.round === b.round && a.replicaId === b.replicaId;
}

export function maxBallot(a: Ballot, b: Ballot): Ballot {
  return compareBallots(a, b) >= 0 ? a : b;
}

export function formatBallot(b: Ballot): string {
  return `${b.round}.${b.replicaId}`;
}

/** What a slot carries. A no-op fills a slot without touching the state machine. */
export const EntryKind = { noop: 0, commands: 1, config: 2 } as const;
export type EntryKind = (typeof EntryKind)[keyof typeof EntryKind];

export function isEntryKind(value: number): value is EntryKind {
  return value === 0 || value === 1 || value === 2;
}

/**
 * One slot of the log as a replica holds it. `ballot` is the ballot under which THIS replica
 * wrote the entry (its accepted ballot at write time); the hard state's `steps` may raise the
 * effective accepted ballot of entries that were re-accepted unchanged (see log.ts).
 */
export interface LogEntry {
  readonly slot: Slot;
  readonly ballot: Ballot;
  readonly kind: EntryKind;
  readonly data: Uint8Array;
}

/** Bytes an entry is charged for in every budget: its data plus a fixed header allowance. */
export const ENTRY_OVERHEAD_BYTES = 32;

export function entryBytes(entry: { readonly data: Uint8Array }): number {
  return entry.data.length + ENTRY_OVERHEAD_BYTES;
}

/**
 * "Every slot of my log at or below `throughSlot` (and above my commit) was accepted at
 * `ballot`": a re-acceptance recorded without rewriting the entries (see log.ts, docs/consensus.md).
 */
export interface BallotStep {
  readonly throughSlot: Slot;
  readonly ballot: Ballot;
}

/**
 * The small durable record of a replica, written atomically by the driver (a MetaStore).
 * Safety depends on `promisedBallot`, `steps` and `recoveringThroughSlot`; `commitSlot` is a hint
 * that bounds restart work (it only ever names entries that were already durable).
 */
export interface HardState {
  readonly promisedBallot: Ballot;
  readonly steps: readonly BallotStep[];
  readonly commitSlot: Slot;
  /** Non-zero while this replica is rebuilding after losing durable entries (Paxos Made Live). */
  readonly recoveringThroughSlot: Slot;
}

export const EMPTY_HARD_STATE: HardState = Object.freeze({
  promisedBallot: ZERO_BALLOT,
  steps: [],
  commitSlot: 0,
  recoveringThroughSlot: 0,
});

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
