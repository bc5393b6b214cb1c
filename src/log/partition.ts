// The partition state machine: the deterministic state of one Kafka partition that every replica
// of the partition's Paxos group derives from the chosen log. It holds no records (those live in
// the log itself); it holds what decides whether a produce is appended and at which offsets:
// the next offset (high watermark), the log start offset, and the idempotent producers' state
// (epoch and the last five batches' sequences, as Kafka's ProducerStateManager keeps).
//
// The leader runs a speculative clone of this state ahead of the log (see `check`/`clone`): it
// assigns offsets and rejects duplicates when it proposes, so in steady state every proposed
// produce applies exactly as the leader predicted. After a leader change the log can contain a
// batch whose offsets were assigned by an older leader against a different prefix; `apply`
// deterministically rejects it (every replica does the same), and its slot is remembered as
// skipped so readers never serve its bytes. Offsets stay dense.
import { assert } from "../util/assert.js";
import { ByteReader, ByteWriter } from "../util/bytes.js";
import type { LogPosition, StateMachine } from "../util/state-machine.js";
import {
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  isControlBatch,
  isTransactionalBatch,
  lastOffsetOf,
  nextSequence,
  readBatchHeaders,
  type BatchHeader,
} from "./batch.js";
import { EXPIRE_PRODUCERS, PRODUCE, SET_LOG_START, decodePartitionCommand } from "./partition-command.js";

/** How many recent batches per producer are remembered for duplicate detection (Kafka: 5). */
export const PRODUCER_BATCHES_RETAINED = 5;

export interface ProducerBatch {
  firstSequence: number;
  lastSequence: number;
  firstOffset: number;
  lastOffset: number;
}

export interface ProducerState {
  epoch: number;
  /** Oldest first, at most PRODUCER_BATCHES_RETAINED. */
  batches: ProducerBatch[];
  /** Leader-stamped time of the producer's last append (for expiry). */
  lastAppendMs: number;
}

/** Why a produce is not appended; the Kafka front-end maps these to error codes in one place. */
export type ProduceRejection =
  | "corruptBatch" // CORRUPT_MESSAGE
  | "offsetMismatch" // the leader's offsets do not match this log: NOT_LEADER_OR_FOLLOWER (retriable)
  | "outOfOrderSequence" // OUT_OF_ORDER_SEQUENCE_NUMBER
  | "unknownProducerId" // UNKNOWN_PRODUCER_ID
  | "invalidProducerEpoch" // INVALID_PRODUCER_EPOCH
  | "transactionalUnsupported" // transactions are not implemented yet
  | "mixedDuplicate"; // some batches of one request are duplicates, some are not: INVALID_RECORD

export type PartitionResult =
  | { kind: "appended"; baseOffset: number; lastOffset: number; logAppendTimeMs: number }
  | { kind: "duplicate"; baseOffset: number; lastOffset: number }
  | { kind: "rejected"; reason: ProduceRejection }
  | { kind: "logStartMoved"; logStartOffset: number }
  | { kind: "producersExpired"; count: number }
  | { kind: "invalidCommand" };

export type ProduceVerdict =
  | { kind: "append"; headers: BatchHeader[] }
  | { kind: "duplicate"; baseOffset: number; lastOffset: number }
  | { kind: "rejected"; reason: ProduceRejection };

const SNAPSHOT_VERSION = 1;

export class PartitionState implements StateMachine<PartitionResult> {
  /** The offset the next appended record gets; also the high watermark once applied. */
  nextOffset = 0;
  logStartOffset = 0;
  /** Slots whose produce command was rejected at apply time: their bytes are never served. */
  skippedSlots: number[] = [];
  readonly producers = new Map<number, ProducerState>();

  /**
   * Decides what a produce of these batches would do against the current state, without changing
   * it. `nextOffset` is the offset the first batch must carry.
   */
  check(batches: Uint8Array): ProduceVerdict {
    const headers = readBatchHeaders(batches);
    if (typeof headers === "string" || headers.length === 0) return { kind: "rejected", reason: "corruptBatch" };
    let expectedOffset = this.nextOffset;
    let duplicates = 0;
    let duplicate: { baseOffset: number; lastOffset: number } | undefined;
    // Sequence checks run against a per-request view so that several batches of one producer in
    // one request are checked against each other too.
    const pending = new Map<number, { epoch: number; lastSequence: number }>();
    for (const header of headers) {
      if (isControlBatch(header) || isTransactionalBatch(header)) return { kind: "rejected", reason: "transactionalUnsupported" };
      if (header.producerId !== NO_PRODUCER_ID) {
        const found = this.findDuplicate(header);
        if (found) {
          duplicates++;
          duplicate ??= { baseOffset: found.firstOffset, lastOffset: found.lastOffset };
          continue;
        }
        const reason = this.checkSequence(header, pending.get(header.producerId));
        if (reason) return { kind: "rejected", reason };
        pending.set(header.producerId, { epoch: header.producerEpoch, lastSequence: nextSequence(header.baseSequence, header.lastOffsetDelta) });
      }
      if (header.baseOffset !== expectedOffset) return { kind: "rejected", reason: "offsetMismatch" };
      expectedOffset = lastOffsetOf(header) + 1;
    }
    if (duplicates > 0) {
      return duplicates === headers.length && duplicate ? { kind: "duplicate", ...duplicate } : { kind: "rejected", reason: "mixedDuplicate" };
    }
    return { kind: "append", headers };
  }

  private findDuplicate(header: BatchHeader): ProducerBatch | undefined {
    const state = this.producers.get(header.producerId);
    if (!state || state.epoch !== header.producerEpoch) return undefined;
    const lastSequence = nextSequence(header.baseSequence, header.lastOffsetDelta);
    return state.batches.find((b) => b.firstSequence === header.baseSequence && b.lastSequence === lastSequence);
  }

  /** Kafka's ProducerAppendInfo.checkSequence, for one batch. */
  private checkSequence(header: BatchHeader, inRequest: { epoch: number; lastSequence: number } | undefined): ProduceRejection | undefined {
    const state = this.producers.get(header.producerId);
    const epoch = inRequest?.epoch ?? state?.epoch;
    const lastSequence = inRequest?.lastSequence ?? state?.batches.at(-1)?.lastSequence ?? NO_SEQUENCE;
    if (header.baseSequence < 0) return "outOfOrderSequence";
    if (epoch === undefined) return header.baseSequence === 0 ? undefined : "unknownProducerId";
    if (header.producerEpoch < epoch) return "invalidProducerEpoch";
    if (header.producerEpoch > epoch) return header.baseSequence === 0 ? undefined : "outOfOrderSequence";
    if (lastSequence === NO_SEQUENCE) return header.baseSequence === 0 ? undefined : "outOfOrderSequence";
    return header.baseSequence === nextSequence(lastSequence, 1) ? undefined : "outOfOrderSequence";
  }

  /** Applies batches that `check` accepted: advances offsets and producer state. */
  private append(headers: BatchHeader[], appendTimeMs: number): { baseOffset: number; lastOffset: number } {
    assert(headers.length > 0, "append of no batches");
    assert(headers[0].baseOffset === this.nextOffset, "append at the wrong offset");
    for (const header of headers) {
      const lastOffset = lastOffsetOf(header);
      if (header.producerId !== NO_PRODUCER_ID) {
        let state = this.producers.get(header.producerId);
        if (!state || state.epoch !== header.producerEpoch) {
          state = { epoch: header.producerEpoch, batches: [], lastAppendMs: appendTimeMs };
          this.producers.set(header.producerId, state);
        }
        state.batches.push({
          firstSequence: header.baseSequence,
          lastSequence: nextSequence(header.baseSequence, header.lastOffsetDelta),
          firstOffset: header.baseOffset,
          lastOffset,
        });
        if (state.batches.length > PRODUCER_BATCHES_RETAINED) state.batches.shift();
        state.lastAppendMs = appendTimeMs;
      }
      this.nextOffset = lastOffset + 1;
    }
    return { baseOffset: headers[0].baseOffset, lastOffset: this.nextOffset - 1 };
  }

  /**
   * The leader's speculative step: check, and if accepted, advance this (cloned) state as apply
   * will. Returns the verdict so the leader can answer duplicates and errors without proposing.
   */
  admit(batches: Uint8Array, appendTimeMs: number): ProduceVerdict {
    const verdict = this.check(batches);
    if (verdict.kind === "append") this.append(verdict.headers, appendTimeMs);
    return verdict;
  }

  apply(command: Uint8Array, position: LogPosition): PartitionResult {
    const decoded = decodePartitionCommand(command);
    if (!decoded) return { kind: "invalidCommand" };
    switch (decoded.type) {
      case PRODUCE: {
        const verdict = this.check(decoded.batches);
        if (verdict.kind === "duplicate") return verdict;
        if (verdict.kind === "rejected") {
          if (this.skippedSlots.at(-1) !== position.slot) this.skippedSlots.push(position.slot);
          return verdict;
        }
        const appended = this.append(verdict.headers, decoded.appendTimeMs);
        return { kind: "appended", ...appended, logAppendTimeMs: decoded.logAppendTime ? decoded.appendTimeMs : -1 };
      }
      case SET_LOG_START: {
        const target = Math.min(decoded.logStartOffset, this.nextOffset);
        if (target > this.logStartOffset) this.logStartOffset = target;
        this.skippedSlots = this.skippedSlots.filter((slot) => slot >= decoded.firstRetainedSlot);
        return { kind: "logStartMoved", logStartOffset: this.logStartOffset };
      }
      case EXPIRE_PRODUCERS: {
        let count = 0;
        for (const [producerId, state] of this.producers) {
          if (decoded.nowMs - state.lastAppendMs > decoded.producerIdleMsMax) {
            this.producers.delete(producerId);
            count++;
          }
        }
        return { kind: "producersExpired", count };
      }
    }
  }

  /** True if readers must not serve the entry at this slot (its produce was rejected). */
  isSkipped(slot: number): boolean {
    const slots = this.skippedSlots;
    let low = 0;
    let high = slots.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (slots[mid] === slot) return true;
      if (slots[mid] < slot) low = mid + 1;
      else high = mid - 1;
    }
    return false;
  }

  clone(): PartitionState {
    const copy = new PartitionState();
    copy.restore(this.snapshot());
    return copy;
  }

  snapshot(): Uint8Array {
    const w = new ByteWriter(64 + this.producers.size * 64 + this.skippedSlots.length * 8);
    w.u8(SNAPSHOT_VERSION).i64(this.nextOffset).i64(this.logStartOffset);
    w.u32(this.skippedSlots.length);
    for (const slot of this.skippedSlots) w.i64(slot);
    // Sorted by producer id so that equal states give equal bytes on every replica.
    const ids = [...this.producers.keys()].sort((a, b) => a - b);
    w.u32(ids.length);
    for (const id of ids) {
      const state = this.producers.get(id)!;
      w.i64(id).i16(state.epoch).i64(state.lastAppendMs).u8(state.batches.length);
      for (const b of state.batches) w.i32(b.firstSequence).i32(b.lastSequence).i64(b.firstOffset).i64(b.lastOffset);
    }
    return w.finish();
  }

  restore(snapshot: Uint8Array): void {
    const r = new ByteReader(snapshot);
    const version = r.u8();
    assert(version === SNAPSHOT_VERSION, `unknown partition snapshot version ${version}`);
    this.nextOffset = r.i64();
    this.logStartOffset = r.i64();
    const skipped = r.u32();
    this.skippedSlots = [];
    for (let i = 0; i < skipped; i++) this.skippedSlots.push(r.i64());
    this.producers.clear();
    const count = r.u32();
    for (let i = 0; i < count; i++) {
      const id = r.i64();
      const epoch = r.i16();
      const lastAppendMs = r.i64();
      const batchCount = r.u8();
      const batches: ProducerBatch[] = [];
      for (let j = 0; j < batchCount; j++) {
        batches.push({ firstSequence: r.i32(), lastSequence: r.i32(), firstOffset: r.i64(), lastOffset: r.i64() });
      }
      this.producers.set(id, { epoch, batches, lastAppendMs });
    }
    r.end();
  }
}
