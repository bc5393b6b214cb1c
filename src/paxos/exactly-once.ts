// Exactly-once application of client commands (Raft thesis §6.3; TigerBeetle client_sessions).
// It sits between the chosen log and the user's StateMachine: a command carrying a session
// `(clientId, sequence)` is applied once; a retry gets the ORIGINAL result. The session table is
// part of every snapshot, so a replica restored from one deduplicates exactly like its peers.
//
// Bounds, all deterministic (they depend on log positions only, never on time):
//   - sequencesPerClientMax results are kept per client; a retry older than that is "expired";
//   - clientsMax sessions are kept; the least recently active one (by slot) is evicted first;
//   - a session idle for more than clientIdleSlotsMax slots is evicted.
// A new session starts its window at its first sequence, so an evicted client's older in-flight
// retries come back "expired" rather than applied twice. A retry of the very command that
// re-created the session after eviction is deduplicated normally.
import { assert } from "../util/assert.js";
import type { StateMachine } from "../util/state-machine.js";
import { ByteReader, ByteWriter } from "./bytes.js";
import { decodeBatch } from "./command.js";
import { EntryKind, type Slot } from "./types.js";

export interface ExactlyOnceOptions {
  /** Results remembered per client (its window of retryable commands). Default 64. */
  readonly sequencesPerClientMax?: number;
  /** Client sessions remembered; beyond it the least recently active is evicted. Default 10,000. */
  readonly clientsMax?: number;
  /** A session not seen for this many slots expires. Default 1,000,000. */
  readonly clientIdleSlotsMax?: number;
}

export type ApplyOutcome =
  | { readonly kind: "applied"; readonly result: Uint8Array }
  | { readonly kind: "duplicate"; readonly result: Uint8Array }
  | { readonly kind: "expired" };

export interface AppliedCommand {
  readonly slot: Slot;
  readonly index: number;
  readonly clientId: number | undefined;
  readonly sequence: number | undefined;
  readonly outcome: ApplyOutcome;
}

interface Session {
  lastSlot: Slot;
  /** Sequences below this are expired. */
  floorSequence: number;
  readonly results: Map<number, Uint8Array>;
}

const SNAPSHOT_VERSION = 1;
const RESULT_BYTES_MAX = 64 * 1024 * 1024;

export class ExactlyOnceStateMachine {
  private readonly sequencesPerClientMax: number;
  private readonly clientsMax: number;
  private readonly clientIdleSlotsMax: number;
  /** Insertion order = least recently active first (re-inserted on every touch). */
  private sessions = new Map<number, Session>();
  private appliedSlot: Slot = 0;

  constructor(
    private readonly inner: StateMachine<Uint8Array>,
    options: ExactlyOnceOptions = {},
  ) {
    this.sequencesPerClientMax = options.sequencesPerClientMax ?? 64;
    this.clientsMax = options.clientsMax ?? 10_000;
    this.clientIdleSlotsMax = options.clientIdleSlotsMax ?? 1_000_000;
    assert(this.sequencesPerClientMax >= 1 && this.clientsMax >= 1 && this.clientIdleSlotsMax >= 1, "positive limits");
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Applies one committed entry (no-ops and config entries apply nothing). Slots must ascend. */
  applyEntry(entry: { readonly slot: Slot; readonly kind: EntryKind; readonly data: Uint8Array }): AppliedCommand[] {
    assert(entry.slot > this.appliedSlot, `entry ${entry.slot} applied after ${this.appliedSlot}`);
    this.appliedSlot = entry.slot;
    this.expireIdle(entry.slot);
    if (entry.kind !== EntryKind.commands) return [];
    const commands = decodeBatch(entry.data);
    const applied: AppliedCommand[] = [];
    for (let index = 0; index < commands.length; index++) {
      const command = commands[index];
      const outcome = this.applyOne(command.data, command.clientId, command.sequence, entry.slot, index);
      applied.push({ slot: entry.slot, index, clientId: command.clientId, sequence: command.sequence, outcome });
    }
    return applied;
  }

  private applyOne(data: Uint8Array, clientId: number | undefined, sequence: number | undefined, slot: Slot, index: number): ApplyOutcome {
    if (clientId === undefined || sequence === undefined) return { kind: "applied", result: this.inner.apply(data, { slot, index }) };
    let session = this.sessions.get(clientId);
    if (session !== undefined) {
      this.sessions.delete(clientId);
      this.sessions.set(clientId, session);
      session.lastSlot = slot;
      if (sequence < session.floorSequence) return { kind: "expired" };
      const cached = session.results.get(sequence);
      if (cached !== undefined) return { kind: "duplicate", result: cached };
    } else {
      session = { lastSlot: slot, floorSequence: sequence, results: new Map() };
      this.sessions.set(clientId, session);
      if (this.sessions.size > this.clientsMax) this.sessions.delete(this.sessions.keys().next().value!);
    }
    const result = this.inner.apply(data, { slot, index });
    session.results.set(sequence, result);
    if (session.results.size > this.sequencesPerClientMax) this.dropOldestResult(session);
    return { kind: "applied", result };
  }

  private dropOldestResult(session: Session): void {
    let oldest = Number.MAX_SAFE_INTEGER;
    for (const seq of session.results.keys()) if (seq < oldest) oldest = seq;
    session.results.delete(oldest);
    session.floorSequence = Math.max(session.floorSequence, oldest + 1);
    assert(session.results.size <= this.sequencesPerClientMax, "session window bounded");
  }

  private expireIdle(slot: Slot): void {
    for (const [clientId, session] of this.sessions) {
      if (slot - session.lastSlot <= this.clientIdleSlotsMax) break;
      this.sessions.delete(clientId);
    }
  }

  snapshot(): Uint8Array {
    const inner = this.inner.snapshot();
    const w = new ByteWriter(64 + inner.length);
    w.u8(SNAPSHOT_VERSION).u64(this.appliedSlot).u32(this.sessions.size);
    for (const [clientId, session] of this.sessions) {
      w.u64(clientId).u64(session.lastSlot).u64(session.floorSequence).u32(session.results.size);
      for (const [sequence, result] of session.results) w.u64(sequence).blob(result);
    }
    w.blob(inner);
    return w.finish();
  }

  /** Replaces all state with a snapshot's; malformed bytes throw PaxosDecodeError. */
  restore(bytes: Uint8Array): void {
    const r = new ByteReader(bytes);
    const version = r.u8();
    if (version !== SNAPSHOT_VERSION) r.fail(`unknown exactly-once snapshot version ${version}`);
    const appliedSlot = r.u64();
    const count = r.count(this.clientsMax, 28);
    const sessions = new Map<number, Session>();
    for (let i = 0; i < count; i++) {
      const clientId = r.u64();
      const session: Session = { lastSlot: r.u64(), floorSequence: r.u64(), results: new Map() };
      const results = r.count(this.sequencesPerClientMax, 12);
      for (let j = 0; j < results; j++) session.results.set(r.u64(), r.blob(RESULT_BYTES_MAX).slice());
      sessions.set(clientId, session);
    }
    const inner = r.blob(bytes.length);
    r.end();
    this.inner.restore(inner);
    this.sessions = sessions;
    this.appliedSlot = appliedSlot;
  }
}
