// One Kafka partition hosted on this node: its Paxos group, whose state machine is the partition
// state (src/log/partition.ts) and whose log holds the record batches. On the group's leader this
// object also holds the speculative partition state that assigns offsets and screens idempotent
// producers before proposing (docs/architecture.md, "The Kafka data path").
import type { Logger } from "../util/logger.js";
import { storedCommands, type ReplicatedGroup } from "../node/group.js";
import { PartitionState, type PartitionResult, type ProduceRejection } from "../log/partition.js";
import { PRODUCE, decodePartitionCommand, encodeSetLogStart, produceCommandParts } from "../log/partition-command.js";
import { ATTRIBUTE_TIMESTAMP_TYPE, readBatchHeaders } from "../log/batch.js";
import { ErrorCode } from "./protocol/generated/errors.js";
import { RecordBatchError } from "./records/errors.js";
import { BatchField, computeBatchCrc, decodeRecordBatch, setBaseOffset, validateBatch } from "./records/record-batch.js";
import type { FetchPartitionResult, ListOffsetResult, ProduceOutcome } from "./backend.js";
import type { Entry } from "../storage/segmented-log.js";

/**
 * The most record bytes one produce request may carry for one partition. They become one Paxos
 * command, so this must stay below the partition groups' batch limit (node/runtime.ts).
 */
export const PARTITION_REQUEST_BYTES_MAX = 8 * 2 ** 20 - 1024;

export interface PartitionConfig {
  maxMessageBytes: number;
  logAppendTime: boolean;
}

const REJECTION_CODES: Record<ProduceRejection, number> = {
  corruptBatch: ErrorCode.CORRUPT_MESSAGE,
  offsetMismatch: ErrorCode.NOT_LEADER_OR_FOLLOWER,
  outOfOrderSequence: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
  unknownProducerId: ErrorCode.UNKNOWN_PRODUCER_ID,
  invalidProducerEpoch: ErrorCode.INVALID_PRODUCER_EPOCH,
  transactionalUnsupported: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  mixedDuplicate: ErrorCode.INVALID_RECORD,
};

/** Where the record batches of a partition entry are: its produce commands' batch bytes. */
export function recordBatchesOf(commands: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const command of commands) {
    const decoded = decodePartitionCommand(command);
    if (decoded?.type === PRODUCE) out.push(decoded.batches);
  }
  return out;
}

/** The storage index fields of a partition entry: its first offset and its largest timestamp. */
export function partitionEntryIndexFields(commands: readonly Uint8Array[]): { key?: number; timestamp: number } {
  let key: number | undefined;
  let timestamp = 0;
  for (const batches of recordBatchesOf(commands)) {
    const headers = readBatchHeaders(batches);
    if (typeof headers === "string") continue;
    for (const h of headers) {
      key ??= h.baseOffset;
      if (h.maxTimestamp > timestamp) timestamp = h.maxTimestamp;
    }
  }
  return { key, timestamp };
}

/** Bytes of committed log entries kept for consumers' next fetches, over all partitions. */
export const FETCH_READ_CACHE_BYTES_MAX = 64 * 2 ** 20;

/**
 * The last entries each partition read for a fetch, kept so the next fetch of a consumer reading
 * sequentially does not read (and CRC-check) them again. A Paxos entry holds everything proposed
 * in one round — several MiB under load — while a consumer takes 1 MiB per fetch by default: one
 * entry was read and verified four times over. Committed entries never change, so a cached entry
 * stays valid; the cache is an LRU bounded in bytes (FETCH_READ_CACHE_BYTES_MAX).
 */
class FetchReadCache {
  /** Insertion order is recency: the first key is evicted first. */
  private readonly reads = new Map<object, { entries: Entry[]; bytes: number }>();
  private bytes = 0;

  constructor(private readonly bytesMax: number) {}

  /** The cached entries from `slot` on, when the owner's last read holds that slot. */
  get(owner: object, slot: number): Entry[] | undefined {
    const read = this.reads.get(owner);
    if (!read) return undefined;
    const at = slot - read.entries[0].index;
    if (at < 0 || at >= read.entries.length) return undefined;
    this.reads.delete(owner);
    this.reads.set(owner, read);
    return at === 0 ? read.entries : read.entries.slice(at);
  }

  put(owner: object, entries: Entry[]): void {
    this.drop(owner);
    let bytes = 0;
    for (const entry of entries) bytes += entry.payload.byteLength;
    if (entries.length === 0 || bytes > this.bytesMax / 4) return;
    this.reads.set(owner, { entries, bytes });
    this.bytes += bytes;
    for (const key of this.reads.keys()) {
      if (this.bytes <= this.bytesMax) break;
      this.drop(key);
    }
  }

  drop(owner: object): void {
    const read = this.reads.get(owner);
    if (!read) return;
    this.reads.delete(owner);
    this.bytes -= read.bytes;
  }
}

const fetchReadCache = new FetchReadCache(FETCH_READ_CACHE_BYTES_MAX);

export class KafkaPartition {
  /** The leader's state ahead of the log; undefined when not leading or after a divergence. */
  private speculative: PartitionState | undefined;
  /** Proposals in flight from this leader; a resync waits for them to settle. */
  private inflight = 0;
  private resyncing: Promise<void> | undefined;
  private readonly dataWaiters = new Set<() => void>();

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly group: ReplicatedGroup<PartitionResult>,
    readonly state: PartitionState,
    public config: PartitionConfig,
    private readonly logger: Logger,
    private readonly nowMs: () => number,
  ) {
    group.onApplied(() => {
      for (const wake of [...this.dataWaiters]) wake();
    });
    group.onRoleChange(() => {
      this.speculative = undefined;
    });
  }

  /** Drops this partition's cached reads (the partition is leaving this node). */
  forgetReads(): void {
    fetchReadCache.drop(this);
  }

  get highWatermark(): number {
    return this.state.nextOffset;
  }

  get leaderEpoch(): number {
    return this.group.status().promisedBallot.round;
  }

  /** Resolves when the high watermark passes `highWatermark` or after `timeoutMs`. */
  waitForData(highWatermark: number, timeoutMs: number, signal: { cancelled: boolean }): Promise<void> {
    if (this.state.nextOffset > highWatermark) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.dataWaiters.delete(check);
        resolve();
      };
      const check = (): void => {
        if (signal.cancelled || this.state.nextOffset > highWatermark) done();
      };
      const timer = setTimeout(done, timeoutMs);
      this.dataWaiters.add(check);
    });
  }

  /** Wakes long polls (another partition of the same fetch got data). */
  wake(): void {
    for (const wake of [...this.dataWaiters]) wake();
  }

  private async ensureSpeculative(): Promise<PartitionState | undefined> {
    if (!this.group.isLeaderReady) return undefined;
    while (this.resyncing) await this.resyncing;
    if (!this.speculative) this.speculative = this.state.clone();
    return this.speculative;
  }

  /** The leader's view diverged from the log: wait for in-flight proposals, then re-clone. */
  private resync(): void {
    this.speculative = undefined;
    if (this.resyncing) return;
    this.resyncing = (async () => {
      while (this.inflight > 0) await new Promise((resolve) => setTimeout(resolve, 1));
      this.resyncing = undefined;
    })();
  }

  async produce(records: Buffer, options: { acks: number; timeoutMs: number }): Promise<ProduceOutcome> {
    const fail = (errorCode: number, errorMessage?: string): ProduceOutcome => ({ errorCode, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: this.state.logStartOffset, errorMessage });
    if (records.length > PARTITION_REQUEST_BYTES_MAX) return fail(ErrorCode.MESSAGE_TOO_LARGE, `more than ${PARTITION_REQUEST_BYTES_MAX} bytes for one partition in one request`);
    const invalid = this.validate(records);
    if (invalid) return invalid;
    const speculative = await this.ensureSpeculative();
    if (!speculative) return fail(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    const nowMs = this.nowMs();
    // Offsets: rewrite each batch's baseOffset (outside its CRC) from the leader's next offset.
    let offset = speculative.nextOffset;
    for (let at = 0; at < records.length; ) {
      const size = 12 + records.readInt32BE(at + BatchField.batchLength);
      setBaseOffset(records, BigInt(offset), at);
      offset += records.readInt32BE(at + BatchField.lastOffsetDelta) + 1;
      if (this.config.logAppendTime) this.stampAppendTime(records, at, size, nowMs);
      at += size;
    }
    const verdict = speculative.admit(records, nowMs);
    if (verdict.kind === "duplicate") return { errorCode: ErrorCode.NONE, baseOffset: verdict.baseOffset, logAppendTimeMs: -1, logStartOffset: this.state.logStartOffset };
    if (verdict.kind === "rejected") return fail(REJECTION_CODES[verdict.reason]);
    this.inflight++;
    let timer: NodeJS.Timeout | undefined;
    try {
      let locallyDurable: (() => void) | undefined;
      const durable = options.acks === 1 ? new Promise<"durable">((resolve) => (locallyDurable = () => resolve("durable"))) : undefined;
      const proposal = this.group.propose(produceCommandParts(nowMs, this.config.logAppendTime, [records]), locallyDurable);
      const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), Math.max(1, options.timeoutMs))));
      if (durable) {
        // acks=1: answer once the leader's own log has the batch on disk, with the offsets it
        // assigned. The apply outcome is still watched: a divergence resyncs the leader's view.
        void proposal.then((outcome) => {
          if (!outcome.ok || outcome.result.kind !== "appended") this.resync();
        });
        const first = await Promise.race([durable, proposal, timeout]);
        if (first === "durable") {
          return { errorCode: ErrorCode.NONE, baseOffset: verdict.headers[0].baseOffset, logAppendTimeMs: this.config.logAppendTime ? nowMs : -1, logStartOffset: this.state.logStartOffset };
        }
        if (first === "timeout") return fail(ErrorCode.REQUEST_TIMED_OUT);
        return this.outcomeToResponse(first, fail);
      }
      const outcome = await Promise.race([proposal, timeout]);
      if (outcome === "timeout") {
        // The proposal may still be chosen; the client retries (idempotent producers dedupe).
        return fail(ErrorCode.REQUEST_TIMED_OUT);
      }
      return this.outcomeToResponse(outcome, fail);
    } finally {
      clearTimeout(timer);
      this.inflight--;
    }
  }

  private outcomeToResponse(outcome: Awaited<ReturnType<ReplicatedGroup<PartitionResult>["propose"]>>, fail: (errorCode: number, errorMessage?: string) => ProduceOutcome): ProduceOutcome {
    if (!outcome.ok) {
      this.resync();
      if (outcome.reason === "tooLarge") return fail(ErrorCode.MESSAGE_TOO_LARGE);
      return fail(outcome.reason === "backpressure" ? ErrorCode.REQUEST_TIMED_OUT : ErrorCode.NOT_LEADER_OR_FOLLOWER);
    }
    const result = outcome.result;
    switch (result.kind) {
      case "appended":
        return { errorCode: ErrorCode.NONE, baseOffset: result.baseOffset, logAppendTimeMs: result.logAppendTimeMs, logStartOffset: this.state.logStartOffset };
      case "duplicate":
        this.resync();
        return { errorCode: ErrorCode.NONE, baseOffset: result.baseOffset, logAppendTimeMs: -1, logStartOffset: this.state.logStartOffset };
      case "rejected":
        this.resync();
        return fail(REJECTION_CODES[result.reason]);
      default:
        this.resync();
        return fail(ErrorCode.UNKNOWN_SERVER_ERROR);
    }
  }

  /** Checks every batch (magic 2, sizes, CRC, record framing) before anything is proposed. */
  private validate(records: Buffer): ProduceOutcome | undefined {
    let at = 0;
    let batches = 0;
    try {
      while (at < records.length) {
        const header = validateBatch(records, at);
        const size = 12 + header.batchLength;
        // max.message.bytes bounds one record batch, as in Kafka (the default 1048588 is 1 MB + 12).
        if (size > this.config.maxMessageBytes) {
          return { errorCode: ErrorCode.MESSAGE_TOO_LARGE, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 };
        }
        if (header.recordsCount < 1 || header.lastOffsetDelta + 1 < header.recordsCount) throw new RecordBatchError("CORRUPT_BATCH", "record count and lastOffsetDelta disagree");
        at += size;
        batches++;
      }
    } catch (error) {
      if (error instanceof RecordBatchError) {
        const errorCode = error.code === "UNSUPPORTED_MAGIC" ? ErrorCode.INVALID_RECORD : error.kafkaErrorCode;
        this.logger.debug({ topic: this.topic, partition: this.partition, reason: error.message }, "produce rejected");
        return { errorCode, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, errorMessage: error.message };
      }
      throw error;
    }
    if (batches === 0) return { errorCode: ErrorCode.CORRUPT_MESSAGE, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 };
    return undefined;
  }

  /** LogAppendTime topics: the broker's time replaces maxTimestamp, which is inside the CRC. */
  private stampAppendTime(records: Buffer, at: number, size: number, nowMs: number): void {
    records.writeInt16BE(records.readInt16BE(at + BatchField.attributes) | ATTRIBUTE_TIMESTAMP_TYPE, at + BatchField.attributes);
    records.writeBigInt64BE(BigInt(nowMs), at + BatchField.maxTimestamp);
    records.writeUInt32BE(computeBatchCrc(records, at, size), at + BatchField.crc);
  }

  /**
   * Reads whole batches from `fetchOffset` up to the high watermark, straight from the log: the
   * batches are slices of what storage read, never re-encoded. At least one batch is returned
   * when any is available, even if larger than maxBytes.
   */
  async fetch(fetchOffset: number, maxBytes: number): Promise<FetchPartitionResult> {
    const base = { highWatermark: this.state.nextOffset, lastStableOffset: this.state.nextOffset, logStartOffset: this.state.logStartOffset };
    if (!this.group.isLeaderReady) return { ...base, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, records: [], recordsBytes: 0 };
    if (fetchOffset < base.logStartOffset || fetchOffset > base.highWatermark) return { ...base, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, records: [], recordsBytes: 0 };
    if (fetchOffset === base.highWatermark) return { ...base, errorCode: ErrorCode.NONE, records: [], recordsBytes: 0 };
    const log = this.group.storage;
    const appliedSlot = this.group.appliedSlot;
    // Read from the key index's candidate straight away; only when its first entry cannot hold the
    // offset (a no-op or skipped entry, rare) look further back. One read per fetch, usually.
    let slot = (await log.lookupByKey(fetchOffset)) ?? log.firstIndex;
    const read = async (from: number, bytesMax: number): Promise<Entry[]> => {
      const cached = fetchReadCache.get(this, from);
      if (cached) return cached;
      const entries = await log.read(from, { toExclusive: appliedSlot + 1, maxBytes: Math.max(64 * 1024, bytesMax) });
      fetchReadCache.put(this, entries);
      return entries;
    };
    let entries = await read(slot, maxBytes);
    if (entries.length > 0 && !this.holdsOffsetAtOrBefore(entries[0], fetchOffset)) {
      slot = await this.startSlotFor(fetchOffset);
      entries = await read(slot, maxBytes);
    }
    const records: Buffer[] = [];
    let bytes = 0;
    for (let first = true; slot <= appliedSlot && (bytes < maxBytes || records.length === 0); first = false) {
      if (!first) entries = await read(slot, maxBytes - bytes);
      if (entries.length === 0) break;
      for (const stored of entries) {
        slot = stored.index + 1;
        if (this.state.isSkipped(stored.index)) continue;
        for (const batches of recordBatchesOf(storedCommands(stored.payload).commands)) {
          const buffer = Buffer.from(batches.buffer, batches.byteOffset, batches.byteLength);
          for (let at = 0; at < buffer.length; ) {
            const size = 12 + buffer.readInt32BE(at + BatchField.batchLength);
            const last = Number(buffer.readBigInt64BE(at + BatchField.baseOffset)) + buffer.readInt32BE(at + BatchField.lastOffsetDelta);
            if (last >= fetchOffset && (bytes + size <= maxBytes || records.length === 0)) {
              records.push(buffer.subarray(at, at + size));
              bytes += size;
            } else if (last >= fetchOffset) {
              return { ...base, errorCode: ErrorCode.NONE, records, recordsBytes: bytes };
            }
            at += size;
          }
        }
        if (bytes >= maxBytes && records.length > 0) break;
      }
    }
    return { ...base, errorCode: ErrorCode.NONE, records, recordsBytes: bytes };
  }

  /**
   * The slot to start reading at for `offset`. The storage key index answers "the last entry
   * whose key <= offset"; that entry may be a no-op (it repeats the previous key) or a skipped
   * entry (its key was claimed by an older leader and clamped), so step back to the nearest
   * entry that holds applied batches starting at or before the offset.
   */
  /** True when the stored entry carries applied batches whose first offset is <= `offset`. */
  private holdsOffsetAtOrBefore(stored: { index: number; payload: Buffer }, offset: number): boolean {
    if (this.state.isSkipped(stored.index)) return false;
    const batches = recordBatchesOf(storedCommands(stored.payload).commands);
    if (batches.length === 0) return false;
    const first = batches[0];
    return Number(Buffer.from(first.buffer, first.byteOffset, first.byteLength).readBigInt64BE(BatchField.baseOffset)) <= offset;
  }

  private async startSlotFor(offset: number): Promise<number> {
    const log = this.group.storage;
    let slot = (await log.lookupByKey(offset)) ?? log.firstIndex;
    // Usually the candidate itself holds the offset; step back one entry at a time otherwise
    // (no-ops are tiny, skipped entries rare), reading one entry per step, never a window.
    for (let steps = 0; slot >= log.firstIndex && steps < 256; steps++, slot--) {
      const [stored] = await log.read(slot, { maxEntries: 1 });
      if (!stored) return slot;
      if (this.holdsOffsetAtOrBefore(stored, offset)) return stored.index;
    }
    return Math.max(slot, log.firstIndex);
  }

  /** ListOffsets: -1 latest, -2 earliest, else the first offset with timestamp >= the given one. */
  async listOffset(timestamp: number): Promise<ListOffsetResult> {
    const leaderEpoch = this.leaderEpoch;
    if (!this.group.isLeaderReady) return { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, offset: -1, timestamp: -1, leaderEpoch };
    if (timestamp === -1) return { errorCode: ErrorCode.NONE, offset: this.state.nextOffset, timestamp: -1, leaderEpoch };
    if (timestamp === -2) return { errorCode: ErrorCode.NONE, offset: this.state.logStartOffset, timestamp: -1, leaderEpoch };
    if (timestamp < 0) return { errorCode: ErrorCode.INVALID_REQUEST, offset: -1, timestamp: -1, leaderEpoch };
    const log = this.group.storage;
    const appliedSlot = this.group.appliedSlot;
    let slot = (await log.lookupByTimestamp(timestamp)) ?? appliedSlot + 1;
    while (slot <= appliedSlot) {
      const entries = await log.read(slot, { toExclusive: appliedSlot + 1, maxBytes: 1 << 20 });
      if (entries.length === 0) break;
      for (const stored of entries) {
        slot = stored.index + 1;
        if (this.state.isSkipped(stored.index)) continue;
        for (const batches of recordBatchesOf(storedCommands(stored.payload).commands)) {
          const buffer = Buffer.from(batches.buffer, batches.byteOffset, batches.byteLength);
          for (let at = 0; at < buffer.length; ) {
            const size = 12 + buffer.readInt32BE(at + BatchField.batchLength);
            if (Number(buffer.readBigInt64BE(at + BatchField.maxTimestamp)) >= timestamp) {
              const found = this.firstRecordAtOrAfter(buffer.subarray(at, at + size), timestamp);
              if (found && found.offset >= this.state.logStartOffset) return { errorCode: ErrorCode.NONE, ...found, leaderEpoch };
            }
            at += size;
          }
        }
      }
    }
    return { errorCode: ErrorCode.NONE, offset: -1, timestamp: -1, leaderEpoch };
  }

  private firstRecordAtOrAfter(batch: Buffer, timestamp: number): { offset: number; timestamp: number } | undefined {
    const decoded = decodeRecordBatch(batch, { skipCrc: true });
    const logAppend = (decoded.attributes & ATTRIBUTE_TIMESTAMP_TYPE) !== 0;
    for (const record of decoded.records) {
      const ts = logAppend ? Number(decoded.maxTimestamp) : Number(decoded.baseTimestamp) + Number(record.timestampDelta);
      if (ts >= timestamp) return { offset: Number(decoded.baseOffset) + record.offsetDelta, timestamp: ts };
    }
    return undefined;
  }

  /** DeleteRecords: moves the log start offset through the group (-1 = the high watermark). */
  async deleteRecords(offset: number): Promise<{ errorCode: number; lowWatermark: number }> {
    if (!this.group.isLeaderReady) return { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, lowWatermark: -1 };
    const target = offset === -1 ? this.state.nextOffset : offset;
    if (target < 0 || target > this.state.nextOffset) return { errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, lowWatermark: this.state.logStartOffset };
    if (target <= this.state.logStartOffset) return { errorCode: ErrorCode.NONE, lowWatermark: this.state.logStartOffset };
    return this.moveLogStart(target);
  }

  /** Proposes a new log start; replicas then drop whole segments below it (retainedSlot). */
  async moveLogStart(target: number): Promise<{ errorCode: number; lowWatermark: number }> {
    const slot = (await this.group.storage.lookupByKey(target)) ?? this.group.storage.firstIndex;
    const outcome = await this.group.propose(encodeSetLogStart(target, slot));
    if (!outcome.ok) return { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, lowWatermark: this.state.logStartOffset };
    return { errorCode: ErrorCode.NONE, lowWatermark: this.state.logStartOffset };
  }
}
