// The binary form of every Paxos message, plus the records a driver persists (log entries, the
// hard state, snapshot metadata). Pure: Uint8Array and DataView only. Each message is
//   version u8 | type u8 | from u32 | to u32 | ballot (round u64, replica u32) | type fields
// with slots as u64, byte strings as u32 length + bytes, and lists as u32 count + elements.
// Decoding is bounded (`CodecLimits`) and reports bad input as PaxosDecodeError only; the fuzz
// test (test/paxos/codec.test.ts) holds it to that. The transport adds framing and group ids.
import { assert, assertNever } from "../util/assert.js";
import { ByteReader, ByteWriter, PaxosDecodeError } from "./bytes.js";
import { decodeMembership, encodeMembership, type Membership } from "./membership.js";
import {
  RejectReason,
  type AcceptEntry,
  type Message,
  type MessageType,
  type RejectedKind,
} from "./messages.js";
import {
  isEntryKind,
  replicaId,
  type Ballot,
  type BallotStep,
  type HardState,
  type LogEntry,
  type ReplicaId,
} from "./types.js";

export const CODEC_VERSION = 1;

export interface CodecLimits {
  /** Largest encoded message accepted, in bytes. Default 64 MiB. */
  readonly messageBytesMax: number;
  /** Most entries in one message. Default 1,048,576. */
  readonly entriesMax: number;
}

export const DEFAULT_CODEC_LIMITS: CodecLimits = Object.freeze({ messageBytesMax: 64 * 1024 * 1024, entriesMax: 1 << 20 });

const TYPE_CODES: Record<MessageType, number> = {
  preVote: 1,
  preVoteReply: 2,
  prepare: 3,
  promise: 4,
  accept: 5,
  accepted: 6,
  reject: 7,
  heartbeat: 8,
  heartbeatAck: 9,
  timeoutNow: 10,
};
const TYPES_BY_CODE = new Map<number, MessageType>(Object.entries(TYPE_CODES).map(([t, c]) => [c, t as MessageType]));
const REJECTED_KINDS: readonly RejectedKind[] = ["prepare", "accept", "heartbeat"];
const STEPS_MAX = 1024;

function writeBallot(w: ByteWriter, b: Ballot): void {
  w.u64(b.round).u32(b.replicaId);
}

function readBallot(r: ByteReader): Ballot {
  return { round: r.u64(), replicaId: r.u32() };
}

function readReplica(r: ByteReader): ReplicaId {
  const id = r.u32();
  if (id < 1) r.fail("replica id 0");
  return replicaId(id);
}

function writeLogEntry(w: ByteWriter, e: LogEntry): void {
  w.u64(e.slot);
  writeBallot(w, e.ballot);
  w.u8(e.kind).blob(e.data);
}

function readLogEntry(r: ByteReader, limits: CodecLimits): LogEntry {
  const slot = r.u64();
  const ballot = readBallot(r);
  const kind = r.u8();
  if (!isEntryKind(kind)) r.fail(`bad entry kind ${kind}`);
  const data = r.blob(limits.messageBytesMax);
  return { slot, ballot, kind, data };
}

const HEAD_BYTES = 1 + 1 + 4 + 4 + 12;
const BALLOT_BYTES = 12;
const ENTRY_HEAD_BYTES = 8 + BALLOT_BYTES + 1 + 4;

/** The exact size of encodeMessage(m), computed without encoding (budgets, statistics). */
export function encodedMessageBytes(m: Message): number {
  switch (m.type) {
    case "preVote":
      return HEAD_BYTES + 16;
    case "preVoteReply":
      return HEAD_BYTES + 1 + BALLOT_BYTES + 8;
    case "prepare":
      return HEAD_BYTES + 9;
    case "promise": {
      let bytes = HEAD_BYTES + 8 + 1 + 4;
      for (const e of m.entries) bytes += ENTRY_HEAD_BYTES + e.data.length;
      return bytes;
    }
    case "accept": {
      let bytes = HEAD_BYTES + 8 + BALLOT_BYTES + 8 + 8 + 4;
      for (const e of m.entries) bytes += 1 + 4 + e.data.length;
      return bytes;
    }
    case "accepted":
      return HEAD_BYTES + 16;
    case "reject":
      return HEAD_BYTES + 2 + BALLOT_BYTES + 24;
    case "heartbeat":
      return HEAD_BYTES + 16;
    case "heartbeatAck":
      return HEAD_BYTES + 24;
    case "timeoutNow":
      return HEAD_BYTES;
  }
}

export function encodeMessage(m: Message): Uint8Array {
  const w = new ByteWriter(encodedMessageBytes(m));
  w.u8(CODEC_VERSION).u8(TYPE_CODES[m.type]).u32(m.from).u32(m.to);
  writeBallot(w, m.ballot);
  writeMessageBody(w, m);
  return w.finish();
}

function writeMessageBody(w: ByteWriter, m: Message): void {
  switch (m.type) {
    case "preVote":
      w.u64(m.commitSlot).u64(m.lastSlot);
      return;
    case "preVoteReply":
      w.bool(m.granted);
      writeBallot(w, m.promisedBallot);
      w.u64(m.commitSlot);
      return;
    case "prepare":
      w.u64(m.fromSlot).bool(m.force);
      return;
    case "promise":
      w.u64(m.commitSlot).bool(m.truncated).u32(m.entries.length);
      for (const e of m.entries) writeLogEntry(w, e);
      return;
    case "accept":
      w.u64(m.prevSlot);
      writeBallot(w, m.prevBallot);
      w.u64(m.leaderCommit).u64(m.leaderLastSlot).u32(m.entries.length);
      for (const e of m.entries) w.u8(e.kind).blob(e.data);
      return;
    case "accepted":
      w.u64(m.matchedSlot).u64(m.commitSlot);
      return;
    case "reject":
      w.u8(REJECTED_KINDS.indexOf(m.rejected)).u8(m.reason);
      writeBallot(w, m.promisedBallot);
      w.u64(m.commitSlot).u64(m.matchedSlot).u64(m.lastSlot);
      return;
    case "heartbeat":
      w.u64(m.leaderCommit).u64(m.round);
      return;
    case "heartbeatAck":
      w.u64(m.round).u64(m.matchedSlot).u64(m.commitSlot);
      return;
    case "timeoutNow":
      return;
    default:
      assertNever(m, "message type");
  }
}

/** Decodes one message; throws PaxosDecodeError (only) for malformed or oversized input. */
export function decodeMessage(bytes: Uint8Array, limits: CodecLimits = DEFAULT_CODEC_LIMITS): Message {
  if (bytes.length > limits.messageBytesMax) throw new PaxosDecodeError(`message of ${bytes.length} bytes above the maximum`, 0);
  const r = new ByteReader(bytes);
  const version = r.u8();
  if (version !== CODEC_VERSION) r.fail(`unknown codec version ${version}`);
  const code = r.u8();
  const type = TYPES_BY_CODE.get(code);
  if (type === undefined) return r.fail(`unknown message type ${code}`);
  const from = readReplica(r);
  const to = readReplica(r);
  const ballot = readBallot(r);
  const message = readMessageBody(r, type, { from, to, ballot }, limits);
  r.end();
  return message;
}

type Head = { from: ReplicaId; to: ReplicaId; ballot: Ballot };

function readMessageBody(r: ByteReader, type: MessageType, head: Head, limits: CodecLimits): Message {
  switch (type) {
    case "preVote":
      return { type, ...head, commitSlot: r.u64(), lastSlot: r.u64() };
    case "preVoteReply":
      return { type, ...head, granted: r.bool(), promisedBallot: readBallot(r), commitSlot: r.u64() };
    case "prepare":
      return { type, ...head, fromSlot: r.u64(), force: r.bool() };
    case "promise":
      return readPromise(r, head, limits);
    case "accept":
      return readAccept(r, head, limits);
    case "accepted":
      return { type, ...head, matchedSlot: r.u64(), commitSlot: r.u64() };
    case "reject":
      return readReject(r, head);
    case "heartbeat":
      return { type, ...head, leaderCommit: r.u64(), round: r.u64() };
    case "heartbeatAck":
      return { type, ...head, round: r.u64(), matchedSlot: r.u64(), commitSlot: r.u64() };
    case "timeoutNow":
      return { type, ...head };
    default:
      return assertNever(type, "message type");
  }
}

function readPromise(r: ByteReader, head: Head, limits: CodecLimits): Message {
  const commitSlot = r.u64();
  const truncated = r.bool();
  const count = r.count(limits.entriesMax, 8 + 12 + 1 + 4);
  const entries: LogEntry[] = [];
  for (let i = 0; i < count; i++) {
    const entry = readLogEntry(r, limits);
    if (i > 0 && entry.slot !== entries[i - 1].slot + 1) r.fail("promise entries are not contiguous");
    entries.push(entry);
  }
  return { type: "promise", ...head, commitSlot, truncated, entries };
}

function readAccept(r: ByteReader, head: Head, limits: CodecLimits): Message {
  const prevSlot = r.u64();
  const prevBallot = readBallot(r);
  const leaderCommit = r.u64();
  const leaderLastSlot = r.u64();
  const count = r.count(limits.entriesMax, 1 + 4);
  if (prevSlot + count > Number.MAX_SAFE_INTEGER) r.fail("accept range beyond the slot range");
  const entries: AcceptEntry[] = [];
  for (let i = 0; i < count; i++) {
    const kind = r.u8();
    if (!isEntryKind(kind)) r.fail(`bad entry kind ${kind}`);
    entries.push({ kind, data: r.blob(limits.messageBytesMax) });
  }
  return { type: "accept", ...head, prevSlot, prevBallot, leaderCommit, leaderLastSlot, entries };
}

function readReject(r: ByteReader, head: Head): Message {
  const kindIndex = r.u8();
  const rejected = REJECTED_KINDS[kindIndex];
  if (rejected === undefined) r.fail(`bad rejected kind ${kindIndex}`);
  const reason = r.u8();
  if (!(Object.values(RejectReason) as number[]).includes(reason)) r.fail(`bad reject reason ${reason}`);
  const promisedBallot = readBallot(r);
  return {
    type: "reject",
    ...head,
    rejected,
    reason: reason as RejectReason,
    promisedBallot,
    commitSlot: r.u64(),
    matchedSlot: r.u64(),
    lastSlot: r.u64(),
  };
}

// ---- Records a driver persists -------------------------------------------------------------

/** One log entry as the driver stores it (the storage engine adds framing and a CRC). */
export function encodeLogEntry(entry: LogEntry): Uint8Array {
  const w = new ByteWriter(32 + entry.data.length);
  writeLogEntry(w, entry);
  return w.finish();
}

export function decodeLogEntry(bytes: Uint8Array, limits: CodecLimits = DEFAULT_CODEC_LIMITS): LogEntry {
  const r = new ByteReader(bytes);
  const entry = readLogEntry(r, limits);
  r.end();
  return entry;
}

export function encodeHardState(state: HardState): Uint8Array {
  assert(state.steps.length <= STEPS_MAX, "steps bounded");
  const w = new ByteWriter(64 + 20 * state.steps.length);
  w.u8(CODEC_VERSION);
  writeBallot(w, state.promisedBallot);
  w.u64(state.commitSlot).u64(state.recoveringThroughSlot).u32(state.steps.length);
  for (const step of state.steps) {
    w.u64(step.throughSlot);
    writeBallot(w, step.ballot);
  }
  return w.finish();
}

export function decodeHardState(bytes: Uint8Array): HardState {
  const r = new ByteReader(bytes);
  const version = r.u8();
  if (version !== CODEC_VERSION) r.fail(`unknown hard state version ${version}`);
  const promisedBallot = readBallot(r);
  const commitSlot = r.u64();
  const recoveringThroughSlot = r.u64();
  const count = r.count(STEPS_MAX, 20);
  const steps: BallotStep[] = [];
  for (let i = 0; i < count; i++) steps.push({ throughSlot: r.u64(), ballot: readBallot(r) });
  r.end();
  return { promisedBallot, commitSlot, recoveringThroughSlot, steps };
}

/** What a snapshot image is taken at: its slot and the membership in force there. */
export interface SnapshotMeta {
  readonly slot: number;
  readonly membership: Membership;
}

export function encodeSnapshotMeta(meta: SnapshotMeta): Uint8Array {
  const w = new ByteWriter(64);
  w.u8(CODEC_VERSION).u64(meta.slot).blob(encodeMembership(meta.membership));
  return w.finish();
}

export function decodeSnapshotMeta(bytes: Uint8Array): SnapshotMeta {
  const r = new ByteReader(bytes);
  const version = r.u8();
  if (version !== CODEC_VERSION) r.fail(`unknown snapshot meta version ${version}`);
  const slot = r.u64();
  const membership = decodeMembership(r.blob(64 * 1024));
  r.end();
  return { slot, membership };
}
