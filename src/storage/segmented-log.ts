// SegmentedLog: the durable, append-only log of one Paxos group, which is also the partition log
// of a Kafka partition (record bytes are written once). Entries are addressed by a dense index,
// framed with a CRC-32C (frame.ts), stored in segment files rolled by size and age, and indexed
// sparsely by position, key and timestamp (segment-index.ts). See docs/storage.md.
//
// Write path: append() frames the entry into an in-memory chunk (one memcpy, one crc32c call) and
// returns its index synchronously. Chunks go to the file in one writev per flush; sync() is group
// commit: every append made before the call is durable when it resolves, and all callers waiting
// at the same time share one fdatasync. The buffer is bounded (writeBufferBytesMax): beyond it
// append() throws BackpressureError and appends nothing; the caller awaits flush() and retries.
//
// Concurrency: one Mutex orders everything that changes files (writes, fsyncs, rolls, truncation,
// deletion); reads run concurrently with appends and writes, and take a shared lock that only
// truncateSuffix, a reset and close take exclusively.
import { mkdir, open, readdir, type FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Clock } from "../util/clock.js";
import type { Logger } from "../util/logger.js";
import { assert, assertSafeInteger, ProgrammerError } from "../util/assert.js";
import {
  BackpressureError,
  CorruptEntryError,
  EntryTooLargeError,
  IndexCompactedError,
  IndexOutOfRangeError,
  LogClosedError,
  LogFailedError,
  StorageFormatError,
} from "./errors.js";
import { FRAME_BYTES_LIMIT, FRAME_HEADER_BYTES, peekFrameBytes, readInt64LE, sealFrame, verifyFrame, writeInt64LE } from "./frame.js";
import { parseStorageFsyncPolicy, type ParsedFsyncPolicy, type StorageFsyncPolicy } from "./fsync-policy.js";
import { fsyncDirectory, isNotFound, isZeroRegion, readAt, unlinkIfExists, writeFully, writeFullySync } from "./fs-util.js";
import { Mutex, ReadWriteLock } from "./locks.js";
import { MetaStore } from "./meta-store.js";
import {
  emptyReport,
  fileBytesOf,
  loadIndexFiles,
  readIndexSummary,
  recordScanFindings,
  scanSegment,
  writeIndexFiles,
  type RecoveryReport,
} from "./recovery.js";
import { FrameScanner, resync, type ScanResult } from "./scan.js";
import { Segment, parseSegmentFileName } from "./segment.js";
import { SegmentIndex, lastWhere, type ScanStart } from "./segment-index.js";

export type { RecoveryReport } from "./recovery.js";

const MiB = 1024 * 1024;
const META_NAME = "log";
const META_FILE = `${META_NAME}.meta`;
/** Segment positions are u32 in the index files; keep a margin below 4 GiB. */
const SEGMENT_BYTES_LIMIT = 2 ** 31;
const NO_KEY = Number.MIN_SAFE_INTEGER;
/** Group-commit rounds (write + fdatasync) in flight at once; two overlap a write with a flush. */
const SYNC_ROUNDS_MAX = 2;
/**
 * Writes of at most this many bytes are made on the event-loop thread (writeFullySync): the copy
 * into the page cache is cheaper than the thread-pool round trip of an asynchronous write, which
 * on a loaded machine costs more than the fdatasync that follows. Larger writes (bulk Kafka
 * produce) stay off the event loop.
 */
const INLINE_WRITE_BYTES_MAX = 64 * 1024;
/** Reads of at most this many entries start with a READ_PROBE_BYTES window, not the full budget. */
const READ_PROBE_ENTRIES_MAX = 64;
const READ_PROBE_BYTES = 64 * 1024;
/** Bytes of large write chunks kept for reuse, shared by every log of the process (see takeLargeChunk). */
const LARGE_CHUNK_POOL_BYTES_MAX = 64 * MiB;
const largeChunkPool: Buffer[] = [];
let largeChunkPoolBytes = 0;

export interface SegmentedLogOptions {
  /** The log's directory (created if missing). One log per directory. */
  dir: string;
  /** Monotonic time for rolling by age; wall time for retention by age. */
  clock: Clock;
  logger: Logger;
  /** Default "always". */
  fsync?: StorageFsyncPolicy;
  /** Roll to a new segment before one would exceed this. Default 128 MiB (max 2 GiB). */
  segmentBytesMax?: number;
  /**
   * Roll a non-empty segment whose first append (in this process) is this old. Default 7 days
   * (Kafka's segment.ms). Infinity turns it off.
   */
  segmentAgeMsMax?: number;
  /** One sparse index point per this many log bytes. Default 4 KiB (Kafka's index.interval.bytes), at most segmentBytesMax. */
  indexIntervalBytes?: number;
  /** Appended-but-unwritten bytes beyond which append() throws BackpressureError. Default 8 MiB. */
  writeBufferBytesMax?: number;
  /** Size of one write-buffer chunk (appends are copied into chunks). Default 1 MiB. */
  writeChunkBytes?: number;
  /** Largest payload accepted by append(). Default 16 MiB. */
  entryBytesMax?: number;
  /** Read budget when read() is given no maxBytes. Default 1 MiB. */
  readBytesDefault?: number;
  /** Closed segments whose sparse indexes stay cached in memory. Default 8. */
  indexCacheSegmentsMax?: number;
  /** Closed segments whose read handle stays open between reads (file descriptors). Default 8. */
  readHandlesMax?: number;
  /** Index of the first entry of a brand-new log. Default 0. */
  initialIndex?: number;
  /**
   * The active segment's file is extended (sparse, by ftruncate) this many bytes at a time ahead
   * of its writes, so an fdatasync seldom has a file-size change to commit: on ext4 here that makes
   * a small append + fdatasync about 20 % faster (ZooKeeper pads its log the same way). The file is
   * trimmed to its entries when the segment is sealed or the log closes cleanly; after a crash,
   * recovery trims the zero tail. Default 64 MiB; 0 turns it off.
   */
  preallocateBytes?: number;
}

export interface AppendEntry {
  /** Milliseconds, caller-given (the Paxos leader stamps it). */
  timestamp: number;
  /** Caller-given and non-decreasing (Kafka: the batch's base offset). Default: the entry's index. */
  key?: number;
  /** Copied into the write buffer during append(); the caller may reuse it afterwards. */
  payload: Uint8Array | readonly Uint8Array[];
}

export interface Entry {
  index: number;
  timestamp: number;
  key: number;
  /** A slice of the read's one buffer (zero-copy). */
  payload: Buffer;
}

export interface ReadOptions {
  /** Stop before this index. */
  toExclusive?: number;
  maxEntries?: number;
  /** Budget of frame bytes (header + payload); at least one entry is returned even if larger. */
  maxBytes?: number;
}

export interface RawEntry {
  index: number;
  timestamp: number;
  key: number;
  /** Offset of the entry's frame in `buffer`; its payload starts FRAME_HEADER_BYTES later. */
  frameOffset: number;
  frameBytes: number;
}

/** Consecutive frames exactly as on disk (for Kafka fetch: write payload slices, no copy). */
export interface RawRange {
  buffer: Buffer;
  entries: RawEntry[];
}

export interface RetentionResult {
  deletedSegments: number;
  deletedBytes: number;
  firstIndex: number;
}

interface Chunk {
  segment: Segment;
  buffer: Buffer;
  used: number;
  /** Segment byte position of buffer[0]. */
  position: number;
  /** Index after the chunk's last entry. */
  endIndex: number;
}

interface SyncWaiter {
  target: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class SegmentedLog {
  readonly dir: string;
  /** What open() found and repaired. */
  readonly recovery: RecoveryReport = emptyReport();

  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly policy: ParsedFsyncPolicy;
  private readonly durable: boolean;
  private readonly segmentBytesMax: number;
  private readonly segmentAgeMsMax: number;
  private readonly intervalBytes: number;
  private readonly writeBufferBytesMax: number;
  private readonly chunkBytes: number;
  private readonly entryBytesMax: number;
  private readonly readBytesDefault: number;
  private readonly indexCacheSegmentsMax: number;
  private readonly readHandlesMax: number;
  private readonly initialIndex: number;
  private readonly preallocateBytes: number;

  private segments: Segment[] = [];
  private meta: MetaStore | undefined;
  /** Entries below it are gone (compactPrefix, retention), even if still in a segment file. */
  private floor = 0;
  private next = 0;
  /** Entries below it are in the OS (written). */
  private writtenEnd = 0;
  /** Entries below it are durable per the policy (fdatasynced; for "never", written). */
  private syncedEnd = 0;
  /** Entries below it are fdatasynced; stamped into frames as durableEnd. */
  private fsyncedEnd = 0;
  private lastKey = NO_KEY;

  private current: Chunk | undefined;
  private pending: Chunk[] = [];
  private unwrittenBytes = 0;
  private readonly chunkPool: Buffer[] = [];
  private writeScheduled = false;

  private readonly io = new Mutex();
  private readonly rw = new ReadWriteLock();
  private syncWaiters: SyncWaiter[] = [];
  /** Group-commit rounds in flight, the least end the latest one will cover, the end wanted. */
  private syncRounds = 0;
  private syncIssuedEnd = 0;
  private syncWantedEnd = 0;
  private readonly indexCache = new Map<Segment, Promise<SegmentIndex>>();
  private readonly handleCache = new Set<Segment>();
  private timer: NodeJS.Timeout | undefined;
  private failed: unknown;
  private closing: Promise<void> | undefined;
  /** Set while truncateSuffix or a reset runs: appends then are a caller bug (see append()). */
  private restructuring = false;
  /** Counts truncations and resets, so an fdatasync that overlapped one claims nothing. */
  private truncations = 0;

  private constructor(options: SegmentedLogOptions) {
    this.dir = options.dir;
    this.clock = options.clock;
    this.logger = options.logger;
    this.policy = parseStorageFsyncPolicy(options.fsync ?? "always");
    this.durable = this.policy.kind !== "never";
    this.segmentBytesMax = options.segmentBytesMax ?? 128 * MiB;
    this.segmentAgeMsMax = options.segmentAgeMsMax ?? 7 * 24 * 3600 * 1000;
    this.intervalBytes = options.indexIntervalBytes ?? Math.min(4096, this.segmentBytesMax);
    this.writeBufferBytesMax = options.writeBufferBytesMax ?? 8 * MiB;
    this.chunkBytes = Math.min(options.writeChunkBytes ?? MiB, this.writeBufferBytesMax);
    this.entryBytesMax = options.entryBytesMax ?? 16 * MiB;
    this.readBytesDefault = options.readBytesDefault ?? MiB;
    this.indexCacheSegmentsMax = options.indexCacheSegmentsMax ?? 8;
    this.readHandlesMax = options.readHandlesMax ?? 8;
    this.initialIndex = options.initialIndex ?? 0;
    this.preallocateBytes = options.preallocateBytes ?? 64 * MiB;
    assertLimit(this.segmentBytesMax, "segmentBytesMax", FRAME_HEADER_BYTES, SEGMENT_BYTES_LIMIT);
    assert(this.segmentAgeMsMax > 0, `segmentAgeMsMax ${this.segmentAgeMsMax}`);
    assertLimit(this.intervalBytes, "indexIntervalBytes", 1, this.segmentBytesMax);
    assertLimit(this.writeBufferBytesMax, "writeBufferBytesMax", FRAME_HEADER_BYTES, 2 ** 31);
    assertLimit(this.chunkBytes, "writeChunkBytes", FRAME_HEADER_BYTES, this.writeBufferBytesMax);
    assertLimit(this.entryBytesMax, "entryBytesMax", 0, FRAME_BYTES_LIMIT - FRAME_HEADER_BYTES);
    assertLimit(this.readBytesDefault, "readBytesDefault", 1, 2 ** 31);
    assertLimit(this.indexCacheSegmentsMax, "indexCacheSegmentsMax", 0, 1 << 20);
    assertLimit(this.readHandlesMax, "readHandlesMax", 0, 1 << 16);
    assertLimit(this.initialIndex, "initialIndex", 0, Number.MAX_SAFE_INTEGER);
    assertLimit(this.preallocateBytes, "preallocateBytes", 0, SEGMENT_BYTES_LIMIT);
  }

  /** Opens (or creates) the log in options.dir, recovering from whatever a crash left there. */
  static async open(options: SegmentedLogOptions): Promise<SegmentedLog> {
    const log = new SegmentedLog(options);
    const created = await mkdir(log.dir, { recursive: true });
    if (created !== undefined && log.durable) await fsyncDirectory(dirname(log.dir));
    try {
      await log.recover();
    } catch (error) {
      await log.closeHandles();
      throw error;
    }
    if (log.policy.kind === "interval") {
      log.timer = setInterval(() => log.backgroundSync(), log.policy.intervalMs);
      log.timer.unref();
    }
    log.logger.info(
      { dir: log.dir, firstIndex: log.firstIndex, lastIndex: log.lastIndex, segments: log.segments.length, scannedBytes: log.recovery.scannedBytes },
      "log opened",
    );
    return log;
  }

  /** The first readable index (entries below were compacted or retained away). */
  get firstIndex(): number {
    return Math.max(this.floor, this.segments[0].baseIndex);
  }

  /** The last appended index (perhaps not yet durable); firstIndex - 1 when empty. */
  get lastIndex(): number {
    return this.next - 1;
  }

  /** The last index that is durable under the fsync policy. */
  get syncedIndex(): number {
    return this.syncedEnd - 1;
  }

  /** Total bytes of the segment files, including appended-but-unwritten bytes. */
  get sizeBytes(): number {
    let total = 0;
    for (const segment of this.segments) total += segment.sizeBytes;
    return total;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Appended bytes not yet handed to the OS (bounded by writeBufferBytesMax). */
  get bufferedBytes(): number {
    return this.unwrittenBytes;
  }

  /**
   * Appends one entry and returns its index. Synchronous: it only fills the write buffer; call
   * sync() for durability. Throws BackpressureError (appending nothing) when the buffer is full.
   */
  append(entry: AppendEntry): number {
    this.checkUsable();
    const payload = entry.payload;
    // A single payload is the common case: no array is allocated for it.
    let payloadBytes = 0;
    if (isPayloadList(payload)) for (const part of payload) payloadBytes += part.byteLength;
    else payloadBytes = payload.byteLength;
    if (payloadBytes > this.entryBytesMax) throw new EntryTooLargeError(payloadBytes, this.entryBytesMax);
    const frameBytes = FRAME_HEADER_BYTES + payloadBytes;
    if (this.unwrittenBytes > 0 && this.unwrittenBytes + frameBytes > this.writeBufferBytesMax) {
      this.scheduleWrite();
      throw new BackpressureError(this.unwrittenBytes, this.writeBufferBytesMax);
    }
    assert(!this.restructuring, "append() while truncateSuffix() or compactPrefix() past the end is running: the caller must wait for it");
    const index = this.next;
    const key = entry.key ?? index;
    assertSafeInteger(entry.timestamp, "timestamp");
    assertSafeInteger(key, "key");
    if (key < this.lastKey) throw new ProgrammerError(`key ${key} is below the previous key ${this.lastKey}: keys must not decrease`);
    this.maybeRoll(frameBytes);
    const segment = this.segments[this.segments.length - 1];
    const chunk = this.chunkFor(segment, frameBytes);
    if (isPayloadList(payload)) {
      let offset = chunk.used + FRAME_HEADER_BYTES;
      for (const part of payload) {
        chunk.buffer.set(part, offset);
        offset += part.byteLength;
      }
    } else {
      chunk.buffer.set(payload, chunk.used + FRAME_HEADER_BYTES);
    }
    sealFrame(chunk.buffer, chunk.used, { frameBytes, index, timestamp: entry.timestamp, key, durableEnd: this.fsyncedEnd });
    segment.activeIndex!.addEntry(segment.sizeBytes, frameBytes, key, entry.timestamp);
    segment.firstAppendMs ??= this.clock.monotonicMs();
    chunk.used += frameBytes;
    chunk.endIndex = index + 1;
    this.unwrittenBytes += frameBytes;
    this.next = index + 1;
    this.lastKey = key;
    if (chunk.buffer.length - chunk.used < FRAME_HEADER_BYTES) {
      this.sealCurrent();
      this.scheduleWrite();
    }
    return index;
  }

  /** Hands every entry appended before the call to the OS (no fsync). */
  flush(): Promise<void> {
    this.checkUsable();
    return this.io.run(() => this.writeOutLocked());
  }

  /**
   * Group commit: resolves when every entry appended before the call is durable under the fsync
   * policy. Callers arriving while an fdatasync runs share the next round (see kickSync).
   */
  sync(): Promise<void> {
    if (this.failed) return Promise.reject(new LogFailedError(this.dir, this.failed));
    if (this.closing) return Promise.reject(new LogClosedError(this.dir));
    const target = this.next;
    if (this.syncedEnd >= target) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.syncWaiters.push({ target, resolve, reject });
      this.syncWantedEnd = Math.max(this.syncWantedEnd, target);
      this.kickSync();
    });
  }

  /** Entries from `from` on, within one segment and the budget; payloads share one buffer. */
  async read(from: number, options: ReadOptions = {}): Promise<Entry[]> {
    const raw = await this.readRaw(from, options);
    return raw.entries.map((e) => ({
      index: e.index,
      timestamp: e.timestamp,
      key: e.key,
      payload: raw.buffer.subarray(e.frameOffset + FRAME_HEADER_BYTES, e.frameOffset + e.frameBytes),
    }));
  }

  /**
   * The verified frames of entries from `from` on, back to back in one buffer. Stops at the end of
   * a segment, at toExclusive, maxEntries, the byte budget, or before a corrupt entry (a corrupt
   * `from` throws CorruptEntryError). Returns no entries when from = lastIndex + 1.
   */
  async readRaw(from: number, options: ReadOptions = {}): Promise<RawRange> {
    this.checkUsable();
    assertSafeInteger(from, "from");
    const maxBytes = options.maxBytes ?? this.readBytesDefault;
    const maxEntries = options.maxEntries ?? Number.POSITIVE_INFINITY;
    assert(maxBytes > 0 && maxEntries > 0, `read budget ${maxBytes} bytes, ${maxEntries} entries`);
    this.checkRange(from);
    const toExclusive = Math.min(options.toExclusive ?? Number.POSITIVE_INFINITY, this.next);
    if (from >= toExclusive) return { buffer: Buffer.alloc(0), entries: [] };
    if (toExclusive > this.writtenEnd) await this.flush();
    return this.rw.shared(async () => {
      this.checkUsable();
      this.checkRange(from);
      const end = Math.min(toExclusive, this.writtenEnd);
      if (from >= end) return { buffer: Buffer.alloc(0), entries: [] };
      return this.readFromSegment(this.segmentFor(from), from, end, maxEntries, maxBytes);
    });
  }

  /** The last entry whose key <= key (e.g. the slot holding Kafka offset `key`), or undefined. */
  async lookupByKey(key: number): Promise<number | undefined> {
    this.checkUsable();
    assertSafeInteger(key, "key");
    if (this.unwrittenBytes > 0) await this.flush();
    return this.rw.shared(async () => {
      const written = this.writtenEnd;
      // Segments are in key order; the answer is in the last non-empty one starting at or below key.
      const candidates = this.segments.filter((s) => s.entryCount > 0 && s.baseIndex < written);
      const i = lastWhere(candidates.length, (j) => candidates[j].firstKey <= key);
      if (i < 0) return undefined;
      const segment = candidates[i];
      let best: number | undefined;
      await this.scanFrom(segment, (index) => index.startForKey(key), written, (header, index) => {
        if (header.key > key) return false;
        best = index;
        return true;
      });
      return best !== undefined && best >= this.firstIndex ? best : undefined;
    });
  }

  /** The first entry whose timestamp >= timestamp (Kafka ListOffsets semantics), or undefined. */
  async lookupByTimestamp(timestamp: number): Promise<number | undefined> {
    this.checkUsable();
    assertSafeInteger(timestamp, "timestamp");
    if (this.unwrittenBytes > 0) await this.flush();
    return this.rw.shared(async () => {
      const written = this.writtenEnd;
      const first = this.firstIndex;
      for (const segment of [...this.segments]) {
        if (segment.endIndex <= first || segment.entryCount === 0 || segment.baseIndex >= written) continue;
        // A segment's max timestamp is exact or an upper bound: skipping by it is safe.
        if (segment.maxTimestamp < timestamp) continue;
        let found: number | undefined;
        const startFor = (index: SegmentIndex): ScanStart => {
          const byTime = index.startForTimestamp(timestamp);
          const byFloor = index.startForRel(Math.max(0, first - segment.baseIndex));
          return byTime.rel >= byFloor.rel ? byTime : byFloor;
        };
        await this.scanFrom(segment, startFor, written, (header, index) => {
          if (index < first || header.timestamp < timestamp) return true;
          found = index;
          return false;
        });
        if (found !== undefined) return found;
      }
      return undefined;
    });
  }

  /**
   * Removes entries >= index (a new Paxos leader overwrote a conflicting tail). Durable when it
   * resolves, together with every entry below index.
   */
  async truncateSuffix(index: number): Promise<void> {
    this.checkUsable();
    assertSafeInteger(index, "index");
    await this.rw.exclusive(() => this.io.run(() => this.restructure(() => this.truncateLocked(index))));
  }

  /**
   * Entries < index are no longer needed (a snapshot covers them): firstIndex moves to index
   * durably, whole segments below it are deleted. An index beyond lastIndex + 1 (a snapshot
   * installed from a peer) empties the log, which continues at index.
   */
  async compactPrefix(index: number): Promise<void> {
    this.checkUsable();
    assertSafeInteger(index, "index");
    if (index <= this.firstIndex) return;
    // Exclusive: the reset case deletes the active segment. Unlinks and one fsync take milliseconds.
    await this.rw.exclusive(() =>
      this.io.run(async () => {
        this.checkUsable();
        if (index <= this.firstIndex) return;
        if (index > this.next) return this.restructure(() => this.resetLocked(index));
        await this.writeOutLocked();
        await this.writeFloor(index);
        try {
          await this.deleteSegments(this.sealedPrefix().filter((s) => s.endIndex <= index), "compacted");
        } catch (error) {
          throw this.fail(error);
        }
      }),
    );
  }

  /**
   * Deletes whole old segments (never the active one) while the log exceeds bytesMax, and those
   * whose newest timestamp is older than ageMsMax (wall clock). Only a prefix is ever deleted.
   */
  async applyRetention(limits: { bytesMax?: number; ageMsMax?: number }): Promise<RetentionResult> {
    this.checkUsable();
    return this.io.run(async () => {
      this.checkUsable();
      await this.writeOutLocked();
      const closed = this.sealedPrefix();
      let doomedCount = 0;
      if (limits.bytesMax !== undefined) {
        let total = this.sizeBytes;
        while (doomedCount < closed.length && total > limits.bytesMax) total -= closed[doomedCount++].sizeBytes;
      }
      if (limits.ageMsMax !== undefined) {
        const cutoff = this.clock.wallMs() - limits.ageMsMax;
        let old = 0;
        while (old < closed.length && closed[old].maxTimestamp < cutoff) old++;
        doomedCount = Math.max(doomedCount, old);
      }
      const doomed = closed.slice(0, doomedCount);
      let deletedBytes = 0;
      for (const segment of doomed) deletedBytes += segment.sizeBytes;
      if (doomed.length > 0) {
        await this.writeFloor(Math.max(this.floor, doomed[doomed.length - 1].endIndex));
        try {
          await this.deleteSegments(doomed, "retention");
        } catch (error) {
          throw this.fail(error);
        }
      }
      return { deletedSegments: doomed.length, deletedBytes, firstIndex: this.firstIndex };
    });
  }

  /**
   * Makes everything durable (per policy), writes the active segment's index files so the next
   * open needs no scan, and releases all files. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  // ---------------------------------------------------------------------------------------------
  // Write path

  /**
   * The closed segments that are sealed (fdatasynced, indexed): the only ones compaction and
   * retention may delete. A segment closed by a roll but not yet sealed by a write, and the
   * active segment, are never in it.
   */
  private sealedPrefix(): Segment[] {
    const sealed: Segment[] = [];
    for (const segment of this.segments) {
      if (segment.activeIndex) break;
      sealed.push(segment);
    }
    return sealed;
  }

  private maybeRoll(frameBytes: number): void {
    const active = this.segments[this.segments.length - 1];
    if (active.entryCount === 0) return;
    const full = active.sizeBytes + frameBytes > this.segmentBytesMax;
    const old = Number.isFinite(this.segmentAgeMsMax) && this.clock.monotonicMs() - active.firstAppendMs! >= this.segmentAgeMsMax;
    if (!full && !old) return;
    // The file is created (and the old segment sealed) by the next write, off the append path.
    const segment = new Segment(this.dir, this.next, { created: false });
    segment.activeIndex = new SegmentIndex(this.intervalBytes);
    this.segments.push(segment);
  }

  private chunkFor(segment: Segment, frameBytes: number): Chunk {
    let chunk = this.current;
    if (chunk && (chunk.segment !== segment || chunk.buffer.length - chunk.used < frameBytes)) {
      this.sealCurrent();
      chunk = undefined;
    }
    if (!chunk) {
      const buffer = frameBytes <= this.chunkBytes ? (this.chunkPool.pop() ?? Buffer.allocUnsafe(this.chunkBytes)) : this.takeLargeChunk(frameBytes);
      chunk = { segment, buffer, used: 0, position: segment.sizeBytes, endIndex: this.next };
      this.current = chunk;
    }
    return chunk;
  }

  private sealCurrent(): void {
    const chunk = this.current;
    if (!chunk) return;
    this.current = undefined;
    if (chunk.used > 0) this.pending.push(chunk);
    else this.recycle(chunk.buffer);
  }

  /**
   * A chunk for a frame larger than chunkBytes: a power-of-two size, reused when one of that size
   * was written out before. Copying an entry into freshly allocated memory costs its page faults —
   * on this project's VM 1.5–2.3 GB/s against 36 GB/s into a reused buffer — and a Kafka
   * partition's entries are routinely several MiB.
   */
  private takeLargeChunk(frameBytes: number): Buffer {
    const size = 2 ** Math.ceil(Math.log2(frameBytes));
    const at = largeChunkPool.findIndex((b) => b.length === size);
    if (at < 0) return Buffer.allocUnsafe(size);
    const [buffer] = largeChunkPool.splice(at, 1);
    largeChunkPoolBytes -= buffer.length;
    return buffer;
  }

  private recycle(buffer: Buffer): void {
    if (buffer.length === this.chunkBytes) {
      if (this.chunkPool.length * this.chunkBytes < this.writeBufferBytesMax) this.chunkPool.push(buffer);
    } else if (buffer.length > this.chunkBytes && largeChunkPoolBytes + buffer.length <= LARGE_CHUNK_POOL_BYTES_MAX) {
      largeChunkPool.push(buffer);
      largeChunkPoolBytes += buffer.length;
    }
  }

  private scheduleWrite(): void {
    if (this.writeScheduled) return;
    this.writeScheduled = true;
    void this.io
      .run(async () => {
        this.writeScheduled = false;
        if (!this.failed && !this.closing) await this.writeOutLocked();
      })
      .catch(() => undefined); // writeOutLocked has already failed the log
  }

  /** Writes every pending chunk: one writev per segment run. Caller holds the io mutex. */
  private async writeOutLocked(): Promise<void> {
    this.sealCurrent();
    if (this.pending.length === 0) return;
    const chunks = this.pending;
    this.pending = [];
    try {
      let i = 0;
      while (i < chunks.length) {
        const segment = chunks[i].segment;
        const buffers: Buffer[] = [];
        let j = i;
        for (; j < chunks.length && chunks[j].segment === segment; j++) buffers.push(chunks[j].buffer.subarray(0, chunks[j].used));
        if (!segment.created) await this.createRolledSegment(segment);
        assert(chunks[i].position === segment.writtenBytes, `write at ${chunks[i].position}, ${segment.logPath} has ${segment.writtenBytes}`);
        let total = 0;
        for (const buffer of buffers) total += buffer.byteLength;
        const handle = await segment.writeHandle();
        const end = segment.writtenBytes + total;
        if (this.preallocateBytes > 0 && end > segment.allocatedBytes) {
          const size = Math.ceil(end / this.preallocateBytes) * this.preallocateBytes;
          await handle.truncate(size);
          segment.allocatedBytes = size;
        }
        const bytes = total <= INLINE_WRITE_BYTES_MAX ? writeFullySync(handle.fd, buffers, chunks[i].position) : await writeFully(handle, buffers, chunks[i].position);
        segment.allocatedBytes = Math.max(segment.allocatedBytes, end);
        segment.writtenBytes += bytes;
        this.unwrittenBytes -= bytes;
        this.writtenEnd = chunks[j - 1].endIndex;
        if (!this.durable) this.syncedEnd = this.writtenEnd;
        for (let k = i; k < j; k++) this.recycle(chunks[k].buffer);
        i = j;
      }
    } catch (error) {
      throw this.fail(error);
    }
  }

  /**
   * Seals the previous segment (fdatasync, index files) before its successor gets a byte, so every
   * segment but the last is durable and indexed: recovery scans only the last one.
   */
  private async createRolledSegment(segment: Segment): Promise<void> {
    const position = this.segments.indexOf(segment);
    assert(position > 0, `rolled segment ${segment.logPath} has no predecessor`);
    const previous = this.segments[position - 1];
    assert(previous.created, `predecessor of ${segment.logPath} was never written`);
    if (previous.activeIndex) {
      await this.trimPreallocated(previous);
      if (this.durable) await (await previous.writeHandle()).datasync();
      const index = previous.deactivate()!;
      await writeIndexFiles(previous, index, this.durable);
      this.cacheIndex(previous, index);
      if (this.durable) {
        this.fsyncedEnd = Math.max(this.fsyncedEnd, previous.endIndex);
        this.syncedEnd = Math.max(this.syncedEnd, previous.endIndex);
      }
    }
    segment.attachWriteHandle(await open(segment.logPath, "wx+"));
    if (this.durable) await fsyncDirectory(this.dir);
    this.logger.debug({ file: segment.logPath, baseIndex: segment.baseIndex }, "rolled to a new segment");
  }

  /** Gives back the sparse space beyond a segment's entries (before it is sealed or closed). */
  private async trimPreallocated(segment: Segment): Promise<void> {
    if (segment.allocatedBytes === segment.writtenBytes) return;
    await (await segment.writeHandle()).truncate(segment.writtenBytes);
    segment.allocatedBytes = segment.writtenBytes;
  }

  /**
   * Group commit. A round writes everything appended so far (under the io mutex) and then
   * fdatasyncs OUTSIDE the mutex. Up to SYNC_ROUNDS_MAX rounds run at once: while the disk
   * flushes one batch, the next is written and its fdatasync queued, so callers that arrive
   * during an fdatasync do not wait for it to finish before their own batch starts. An fdatasync
   * covers every byte written before it was called, so whichever round completes may resolve
   * the waiters up to its own target, in any order.
   */
  private kickSync(): void {
    while (this.syncRounds < SYNC_ROUNDS_MAX && !this.failed && !this.closing && this.syncWantedEnd > this.syncIssuedEnd) {
      // The round's write happens later, so it covers at least what is appended now.
      this.syncIssuedEnd = this.next;
      this.syncRounds++;
      void this.syncRound()
        .catch(() => undefined) // fail() has rejected every waiter
        .finally(() => {
          this.syncRounds--;
          this.resolveSyncWaiters();
          this.kickSync();
        });
    }
  }

  private async syncRound(): Promise<void> {
    let target = 0;
    let truncations = 0;
    let handle: FileHandle | undefined;
    await this.io.run(async () => {
      if (this.failed || this.closing) return;
      target = this.next;
      truncations = this.truncations;
      await this.writeOutLocked();
      if (this.durable) handle = await this.lastWrittenSegment().writeHandle();
      else this.syncedEnd = Math.max(this.syncedEnd, target);
    });
    if (!handle) return;
    try {
      await handle.datasync();
    } catch (error) {
      throw this.fail(error);
    }
    // A truncation during the fdatasync replaced entries below target: it made its own prefix
    // durable, and entries appended after it were not covered by this fdatasync.
    if (truncations !== this.truncations) return;
    this.fsyncedEnd = Math.max(this.fsyncedEnd, target);
    this.syncedEnd = Math.max(this.syncedEnd, target);
  }

  /**
   * The segment the last write went to. Every segment before it was fdatasynced when it was
   * sealed; segments after it are rolls made by appends during the write, whose files do not
   * exist yet and whose entries are beyond any sync target taken before the write.
   */
  private lastWrittenSegment(): Segment {
    for (let i = this.segments.length - 1; i >= 0; i--) if (this.segments[i].created) return this.segments[i];
    assert(false, "no segment has been created");
  }

  private resolveSyncWaiters(): void {
    const waiting: SyncWaiter[] = [];
    for (const waiter of this.syncWaiters) {
      if (waiter.target <= this.syncedEnd) waiter.resolve();
      else waiting.push(waiter);
    }
    this.syncWaiters = waiting;
  }

  private backgroundSync(): void {
    if (this.failed || this.closing || this.syncedEnd >= this.next) return;
    this.sync().catch(() => undefined); // a failure has already failed the log and been logged
  }

  /** Makes the log unusable after a write or fsync error. Never retried (errors.ts). */
  private fail(error: unknown): LogFailedError {
    if (!this.failed) {
      this.failed = error;
      this.logger.error({ err: error, dir: this.dir }, "storage write or fsync failed; the log is unusable until the process restarts and recovers");
      if (this.timer) clearInterval(this.timer);
      const waiters = this.syncWaiters;
      this.syncWaiters = [];
      for (const waiter of waiters) waiter.reject(new LogFailedError(this.dir, error));
    }
    return new LogFailedError(this.dir, this.failed);
  }

  // ---------------------------------------------------------------------------------------------
  // Read path

  private async readFromSegment(segment: Segment, from: number, end: number, maxEntries: number, maxBytes: number): Promise<RawRange> {
    const index = await this.indexFor(segment);
    const handle = await this.acquire(segment, from);
    try {
      const endBytes = segment.activeIndex ? segment.writtenBytes : segment.sizeBytes;
      const endIndex = Math.min(end, segment.endIndex);
      const start = index.startForRel(from - segment.baseIndex);
      // One pread usually covers the hop from the index point and the whole answer. A read of a
      // few entries (a lookup, a Paxos catch-up probe) starts smaller; a larger answer is read
      // separately below.
      const probeBytes = maxEntries <= READ_PROBE_ENTRIES_MAX ? Math.min(maxBytes, READ_PROBE_BYTES) : maxBytes;
      const window = Math.max(FRAME_HEADER_BYTES, Math.min(endBytes - start.position, this.intervalBytes + probeBytes + FRAME_HEADER_BYTES));
      const scanner = new FrameScanner(handle, endBytes, window);
      const position = await this.hop(segment, index, handle, scanner, start, from);
      const first = await scanner.at(position);
      if (first.kind !== "frame" || first.header.index !== from) throw this.corruptAt(segment, position, from, first);
      const regionBytes = Math.min(Math.max(first.header.frameBytes, maxBytes), endBytes - position);
      const sliced = scanner.slice(position, regionBytes);
      const buffer = sliced ?? (await readAt(handle, position, regionBytes));
      const entries: RawEntry[] = [];
      let offset = 0;
      while (from + entries.length < endIndex && entries.length < maxEntries && offset + FRAME_HEADER_BYTES <= buffer.length) {
        const frameBytes = peekFrameBytes(buffer, offset);
        if (entries.length > 0 && (offset + frameBytes > maxBytes || offset + frameBytes > buffer.length)) break;
        // The first frame was verified by the scanner just above: not again when these are the
        // same bytes (a region larger than the scanner's window is read anew and verified anew).
        const verified = entries.length === 0 && sliced !== undefined ? first.header : verifyFrame(buffer, offset);
        const index = from + entries.length;
        if (typeof verified === "string" || verified.index !== index) {
          if (entries.length === 0) throw new CorruptEntryError(segment.logPath, position + offset, index, typeof verified === "string" ? verified : `frame holds index ${verified.index}`);
          break; // return what precedes the damage; a read from it reports it
        }
        entries.push({ index, timestamp: verified.timestamp, key: verified.key, frameOffset: offset, frameBytes });
        offset += frameBytes;
      }
      return { buffer: buffer.subarray(0, offset), entries };
    } finally {
      segment.release();
    }
  }

  /**
   * Walks from a sparse-index point to entry `target`, verifying each frame on the way. A damaged
   * frame on the way is stepped over by a resync search bounded by the next index point.
   */
  private async hop(segment: Segment, index: SegmentIndex, handle: FileHandle, scanner: FrameScanner, start: ScanStart, target: number): Promise<number> {
    let position = start.position;
    let current = segment.baseIndex + start.rel;
    while (current < target) {
      const result = await scanner.at(position);
      if (result.kind === "frame" && result.header.index === current) {
        position += result.header.frameBytes;
        current++;
        continue;
      }
      const limit = index.nextPointAfter(position)?.position ?? scanner.endPosition;
      const found = await resync(handle, scanner, {
        fromPosition: position + 1,
        limitPosition: limit,
        indexMin: current + 1,
        indexMax: target,
      });
      if (!found) throw this.corruptAt(segment, position, current, result);
      position = found.position;
      current = found.header.index;
    }
    return position;
  }

  /**
   * Scans frames of `segment` from the point chosen by `startFor`, calling `visit` until it
   * returns false or the written end is reached. Damage on the way throws CorruptEntryError.
   */
  private async scanFrom(
    segment: Segment,
    startFor: (index: SegmentIndex) => ScanStart,
    writtenEnd: number,
    visit: (header: { key: number; timestamp: number }, index: number) => boolean,
  ): Promise<void> {
    const index = await this.indexFor(segment);
    const handle = await this.acquire(segment, segment.baseIndex);
    try {
      const endIndex = Math.min(segment.endIndex, writtenEnd);
      const endBytes = segment.activeIndex ? segment.writtenBytes : segment.sizeBytes;
      let start = startFor(index);
      // A point of an entry appended but not yet written is not readable yet.
      if (segment.baseIndex + start.rel >= endIndex) start = index.startForRel(endIndex - 1 - segment.baseIndex);
      const scanner = new FrameScanner(handle, endBytes, Math.min(4 * MiB, 2 * this.intervalBytes + FRAME_HEADER_BYTES));
      let position = start.position;
      for (let current = segment.baseIndex + start.rel; current < endIndex; current++) {
        const result = await scanner.at(position);
        if (result.kind !== "frame" || result.header.index !== current) throw this.corruptAt(segment, position, current, result);
        if (!visit(result.header, current)) return;
        position += result.header.frameBytes;
      }
    } finally {
      segment.release();
    }
  }

  private corruptAt(segment: Segment, position: number, index: number, result: ScanResult): CorruptEntryError {
    const reason = result.kind === "frame" ? `frame holds index ${result.header.index}` : result.kind === "end" ? "segment ends before it" : result.reason;
    return new CorruptEntryError(segment.logPath, position, index, reason);
  }

  private async acquire(segment: Segment, index: number): Promise<FileHandle> {
    let handle: FileHandle;
    try {
      handle = await segment.acquire();
    } catch (error) {
      if (isNotFound(error) && segment.deleted) throw new IndexCompactedError(index, this.firstIndex);
      throw error;
    }
    if (!segment.activeIndex) this.keepHandleOpen(segment);
    return handle;
  }

  /** LRU of closed segments whose read handle stays open between reads (readHandlesMax). */
  private keepHandleOpen(segment: Segment): void {
    this.handleCache.delete(segment);
    this.handleCache.add(segment);
    segment.setCached(true);
    while (this.handleCache.size > this.readHandlesMax) {
      const oldest = this.handleCache.values().next().value!;
      this.handleCache.delete(oldest);
      oldest.setCached(false); // closes now if idle, else when its last reader releases it
    }
  }

  private checkRange(from: number): void {
    if (from < this.firstIndex) throw new IndexCompactedError(from, this.firstIndex);
    if (from > this.next) throw new IndexOutOfRangeError(from, this.lastIndex);
  }

  /** The segment holding `index` (which is >= the first segment's base). */
  private segmentFor(index: number): Segment {
    const i = lastWhere(this.segments.length, (j) => this.segments[j].baseIndex <= index);
    assert(i >= 0, `no segment holds index ${index}`);
    return this.segments[i];
  }

  /** The full sparse index of a segment: the active one's, or a closed one's from the cache. */
  private indexFor(segment: Segment): Promise<SegmentIndex> {
    if (segment.activeIndex) return Promise.resolve(segment.activeIndex);
    const cached = this.indexCache.get(segment);
    if (cached) {
      this.indexCache.delete(segment);
      this.indexCache.set(segment, cached);
      return cached;
    }
    const loading = this.loadClosedIndex(segment);
    this.cacheIndexPromise(segment, loading);
    loading.catch(() => this.indexCache.delete(segment));
    return loading;
  }

  private cacheIndex(segment: Segment, index: SegmentIndex): void {
    this.cacheIndexPromise(segment, Promise.resolve(index));
  }

  private cacheIndexPromise(segment: Segment, index: Promise<SegmentIndex>): void {
    this.indexCache.delete(segment);
    this.indexCache.set(segment, index);
    while (this.indexCache.size > this.indexCacheSegmentsMax) {
      const oldest = this.indexCache.keys().next().value!;
      this.indexCache.delete(oldest);
    }
  }

  private async loadClosedIndex(segment: Segment): Promise<SegmentIndex> {
    const loaded = await loadIndexFiles(segment, this.intervalBytes, segment.sizeBytes);
    if (typeof loaded !== "string") return loaded;
    if (segment.deleted) throw new IndexCompactedError(segment.baseIndex, this.firstIndex);
    this.logger.warn({ file: segment.indexPath, reason: loaded }, "segment index unusable; rebuilding it from the segment");
    const handle = await this.acquire(segment, segment.baseIndex);
    try {
      const outcome = await scanSegment(handle, segment.sizeBytes, {
        baseIndex: segment.baseIndex,
        intervalBytes: this.intervalBytes,
        requireEvidence: false,
        expectedEnd: segment.endIndex,
      });
      recordScanFindings(this.recovery, this.logger, segment.logPath, outcome);
      if (outcome.corrupt.length === 0) {
        await this.io.run(async () => {
          if (!segment.deleted && !segment.activeIndex) await writeIndexFiles(segment, outcome.index, this.durable);
        });
      }
      return outcome.index;
    } finally {
      segment.release();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Structural changes: truncation, compaction, deletion

  private async truncateLocked(index: number): Promise<void> {
    this.checkUsable();
    if (index < this.firstIndex) throw new IndexCompactedError(index, this.firstIndex);
    if (index > this.next) throw new IndexOutOfRangeError(index, this.lastIndex);
    await this.writeOutLocked();
    if (index < this.next) {
      const target = this.segmentFor(index);
      // Locate the cut before changing anything, so a corrupt entry leaves the log untouched.
      const targetIndex = await this.indexFor(target);
      const rel = index - target.baseIndex;
      const cut = rel === 0 ? { position: 0, key: NO_KEY } : await this.locateEnd(target, targetIndex, rel - 1);
      try {
        // Later segments go newest first, each unlink made durable before the next, so a crash
        // leaves a prefix of the log, never a hole.
        const later = this.segments.slice(this.segments.indexOf(target) + 1).reverse();
        for (const segment of later) await this.deleteSegments([segment], "truncated");
        await this.truncateSegment(target, targetIndex, rel, cut);
      } catch (error) {
        throw this.fail(error);
      }
      this.next = index;
      this.writtenEnd = index;
      this.lastKey = rel > 0 ? cut.key : this.lastKeyBefore(target);
    }
    if (this.durable) {
      try {
        await (await this.segments[this.segments.length - 1].writeHandle()).datasync();
      } catch (error) {
        throw this.fail(error);
      }
    }
    this.fsyncedEnd = this.durable ? index : Math.min(this.fsyncedEnd, index);
    this.syncedEnd = index;
    for (const waiter of this.syncWaiters) waiter.target = Math.min(waiter.target, index);
    this.resolveSyncWaiters();
  }

  private async restructure(fn: () => Promise<void>): Promise<void> {
    assert(!this.restructuring, "nested restructuring");
    this.restructuring = true;
    this.truncations++;
    try {
      await fn();
    } finally {
      this.restructuring = false;
      // Indexes above the new end will be new entries: rounds issued for the old ones cover nothing.
      this.syncIssuedEnd = Math.min(this.syncIssuedEnd, this.next);
      this.syncWantedEnd = Math.min(this.syncWantedEnd, this.next);
    }
  }

  /** Cuts `target` so it ends before entry rel, making it the active segment. */
  private async truncateSegment(target: Segment, index: SegmentIndex, rel: number, cut: { position: number; key: number }): Promise<void> {
    // Its index files describe bytes about to disappear: remove them first (recovery invariant 2).
    const removedOffsetIndex = await unlinkIfExists(target.indexPath);
    const removedTimeIndex = await unlinkIfExists(target.timeIndexPath);
    if ((removedOffsetIndex || removedTimeIndex) && this.durable) await fsyncDirectory(this.dir);
    if (!target.activeIndex) {
      this.indexCache.delete(target);
      this.handleCache.delete(target);
      target.setCached(false);
      target.activate(await open(target.logPath, "r+"), index);
    }
    const handle = await target.writeHandle();
    await handle.truncate(cut.position);
    index.truncate(rel, cut.position, cut.key);
    target.writtenBytes = cut.position;
    target.allocatedBytes = cut.position;
    target.firstAppendMs = this.clock.monotonicMs();
    this.logger.info({ file: target.logPath, position: cut.position, index: target.baseIndex + rel }, "truncated the log suffix");
  }

  /** Position just after entry rel of a segment, and that entry's key. */
  private async locateEnd(segment: Segment, index: SegmentIndex, rel: number): Promise<{ position: number; key: number }> {
    const handle = await this.acquire(segment, segment.baseIndex + rel);
    try {
      const endBytes = segment.activeIndex ? segment.writtenBytes : segment.sizeBytes;
      const scanner = new FrameScanner(handle, endBytes, Math.min(4 * MiB, 2 * this.intervalBytes + FRAME_HEADER_BYTES));
      const target = segment.baseIndex + rel;
      const position = await this.hop(segment, index, handle, scanner, index.startForRel(rel), target);
      const result = await scanner.at(position);
      if (result.kind !== "frame" || result.header.index !== target) throw this.corruptAt(segment, position, target, result);
      return { position: position + result.header.frameBytes, key: result.header.key };
    } finally {
      segment.release();
    }
  }

  private lastKeyBefore(segment: Segment): number {
    const i = this.segments.indexOf(segment);
    for (let j = i - 1; j >= 0; j--) if (this.segments[j].entryCount > 0) return this.segments[j].lastKey;
    return NO_KEY;
  }

  /** compactPrefix past the end: the log restarts empty at `index`. */
  private async resetLocked(index: number): Promise<void> {
    this.checkUsable();
    if (index <= this.next) return;
    await this.writeOutLocked();
    try {
      await this.writeFloor(index);
      await this.deleteSegments([...this.segments].reverse(), "compacted past the end");
      await this.createFirstSegment(index);
    } catch (error) {
      throw this.fail(error);
    }
    this.next = index;
    this.writtenEnd = index;
    this.syncedEnd = index;
    this.fsyncedEnd = index;
    this.lastKey = NO_KEY;
    for (const waiter of this.syncWaiters) waiter.target = Math.min(waiter.target, index);
    this.resolveSyncWaiters();
  }

  private async writeFloor(floor: number): Promise<void> {
    assert(floor >= this.floor, `floor moves back from ${this.floor} to ${floor}`);
    const record = Buffer.alloc(8);
    writeInt64LE(record, 0, floor);
    try {
      await this.meta!.write(record);
    } catch (error) {
      throw this.fail(error);
    }
    this.floor = floor;
  }

  /** Deletes segments (log file first, then its indexes), then makes the deletions durable. */
  private async deleteSegments(doomed: Segment[], reason: string): Promise<void> {
    if (doomed.length === 0) return;
    for (const segment of doomed) {
      segment.markDeleted();
      this.indexCache.delete(segment);
      this.handleCache.delete(segment);
      this.segments.splice(this.segments.indexOf(segment), 1);
      await unlinkIfExists(segment.logPath);
      await unlinkIfExists(segment.indexPath);
      await unlinkIfExists(segment.timeIndexPath);
      this.logger.info({ file: segment.logPath, reason }, "deleted segment");
    }
    if (this.durable) await fsyncDirectory(this.dir);
  }

  // ---------------------------------------------------------------------------------------------
  // Open and close

  private async recover(): Promise<void> {
    const report = this.recovery;
    const bases: number[] = [];
    const indexFiles: Array<{ path: string; baseIndex: number }> = [];
    let changed = false;
    for (const name of (await readdir(this.dir)).sort()) {
      const path = join(this.dir, name);
      if (name === META_FILE) continue;
      if (name.endsWith(".tmp")) {
        await unlinkIfExists(path);
        this.removed(path, "temporary file of an interrupted write");
        changed = true;
        continue;
      }
      const parsed = parseSegmentFileName(name);
      if (!parsed) {
        throw new StorageFormatError(path, `is not a file of this log (expected <20-digit index>.log/.index/.timeindex or ${META_FILE}); move it out of ${this.dir}`);
      }
      if (parsed.kind === "log") bases.push(parsed.baseIndex);
      else indexFiles.push({ path, baseIndex: parsed.baseIndex });
    }
    this.meta = await MetaStore.open({ dir: this.dir, name: META_NAME });
    // Without a recorded floor, a new log starts at initialIndex and an existing one at its first segment.
    this.floor = this.meta.record ? decodeFloor(this.meta.record, join(this.dir, META_FILE)) : bases.length === 0 ? this.initialIndex : 0;
    bases.sort((a, b) => a - b);
    const baseSet = new Set(bases);
    for (const file of indexFiles) {
      if (baseSet.has(file.baseIndex)) continue;
      await unlinkIfExists(file.path);
      this.removed(file.path, "index file without its segment (an interrupted deletion)");
      changed = true;
    }
    // Segments wholly below the floor: a compaction or retention interrupted after recording it.
    while (bases.length > 1 && bases[1] <= this.floor) {
      const segment = new Segment(this.dir, bases.shift()!, { created: true });
      for (const path of [segment.logPath, segment.indexPath, segment.timeIndexPath]) if (await unlinkIfExists(path)) this.removed(path, "below the log's first index");
      changed = true;
    }
    if (bases.length === 0) {
      await this.createFirstSegment(this.floor);
    } else {
      const segments = bases.map((base) => new Segment(this.dir, base, { created: true }));
      this.segments = segments;
      for (let i = 0; i + 1 < segments.length; i++) changed = (await this.openClosedSegment(segments[i], segments[i + 1].baseIndex)) || changed;
      await this.recoverLastSegment(segments[segments.length - 1]);
      if (segments[segments.length - 1].endIndex < this.floor) {
        // compactPrefix past the end was interrupted: finish it.
        await this.deleteSegments([...segments].reverse(), "compacted past the end");
        await this.createFirstSegment(this.floor);
      }
    }
    if (changed && this.durable) await fsyncDirectory(this.dir);
    const last = this.segments[this.segments.length - 1];
    this.next = last.endIndex;
    this.writtenEnd = this.next;
    this.syncedEnd = this.next;
    this.fsyncedEnd = this.durable ? this.next : this.firstIndex;
    this.lastKey = last.entryCount > 0 ? last.lastKey : this.lastKeyBefore(last);
    report.segmentCount = this.segments.length;
  }

  /** Checks a closed segment by its index trailers; rebuilds the indexes if they do not fit. */
  private async openClosedSegment(segment: Segment, nextBase: number): Promise<boolean> {
    const fileBytes = await fileBytesOf(segment.logPath);
    assert(fileBytes !== undefined, `${segment.logPath} vanished during open`);
    const summary = await readIndexSummary(segment);
    let reason: string;
    if (typeof summary === "string") reason = summary;
    else if (summary.segmentBytes !== fileBytes) reason = `index describes ${summary.segmentBytes} bytes, the segment has ${fileBytes}`;
    else if (segment.baseIndex + summary.entryCount !== nextBase) reason = `index counts ${summary.entryCount} entries, the next segment starts at ${nextBase}`;
    else {
      segment.summary = summary;
      segment.writtenBytes = fileBytes;
      return false;
    }
    this.logger.warn({ file: segment.logPath, reason }, "rebuilding the index of a closed segment");
    const handle = await open(segment.logPath, "r");
    let outcome;
    try {
      outcome = await scanSegment(handle, fileBytes, { baseIndex: segment.baseIndex, intervalBytes: this.intervalBytes, requireEvidence: false, expectedEnd: nextBase });
    } finally {
      await handle.close();
    }
    recordScanFindings(this.recovery, this.logger, segment.logPath, outcome);
    segment.summary = outcome.index.summary();
    segment.writtenBytes = segment.summary.segmentBytes;
    this.cacheIndex(segment, outcome.index);
    if (outcome.corrupt.length > 0) return false;
    await writeIndexFiles(segment, outcome.index, this.durable);
    this.recovery.rebuiltIndexes.push({ file: segment.indexPath, reason });
    return true;
  }

  /** Verifies the last segment's unverified tail; cuts a torn tail; makes the rest durable. */
  private async recoverLastSegment(segment: Segment): Promise<void> {
    const handle = await open(segment.logPath, "r+");
    try {
      const fileBytes = (await handle.stat()).size;
      let trusted: SegmentIndex | undefined;
      const summary = await readIndexSummary(segment);
      if (typeof summary !== "string" && summary.segmentBytes <= fileBytes) {
        const loaded = await loadIndexFiles(segment, this.intervalBytes, summary.segmentBytes);
        if (typeof loaded !== "string") trusted = loaded;
      }
      const outcome = await scanSegment(handle, fileBytes, { baseIndex: segment.baseIndex, intervalBytes: this.intervalBytes, trusted, requireEvidence: true });
      this.recovery.scannedBytes = outcome.scannedBytes;
      this.recovery.cleanShutdown = trusted !== undefined && trusted.sizeBytes === fileBytes;
      recordScanFindings(this.recovery, this.logger, segment.logPath, outcome);
      if (outcome.cut && (await isZeroRegion(handle, outcome.cut.position, fileBytes))) {
        // Sparse space preallocated ahead of writes (and any unwritten pages): no entry is lost
        // that a write had reached the file with.
        await handle.truncate(outcome.cut.position);
        this.logger.info({ file: segment.logPath, position: outcome.cut.position, bytes: fileBytes - outcome.cut.position }, "trimmed the preallocated zero tail of the last segment");
      } else if (outcome.cut) {
        const bytes = fileBytes - outcome.cut.position;
        await handle.truncate(outcome.cut.position);
        this.recovery.truncation = { file: segment.logPath, position: outcome.cut.position, index: outcome.cut.index, bytes, reason: outcome.cut.reason };
        this.logger.warn(
          { file: segment.logPath, position: outcome.cut.position, index: outcome.cut.index, bytes, reason: outcome.cut.reason },
          "cut a torn tail from the last segment (entries that were never fsynced)",
        );
      }
      // Entries recovered from the page cache after a process crash may never have reached the disk.
      if (this.durable) await handle.datasync();
      segment.activate(handle, outcome.index);
      segment.writtenBytes = outcome.index.sizeBytes;
      segment.allocatedBytes = outcome.index.sizeBytes;
      segment.firstAppendMs = outcome.index.entryCount > 0 ? this.clock.monotonicMs() : undefined;
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  private async createFirstSegment(baseIndex: number): Promise<void> {
    const segment = new Segment(this.dir, baseIndex, { created: false });
    segment.activate(await open(segment.logPath, "wx+"), new SegmentIndex(this.intervalBytes));
    this.segments = [segment];
    if (this.durable) await fsyncDirectory(this.dir);
  }

  private removed(file: string, reason: string): void {
    this.recovery.removedFiles.push({ file, reason });
    this.logger.warn({ file, reason }, "removed a leftover file");
  }

  private async closeNow(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.rw.exclusive(() =>
      this.io.run(async () => {
        if (this.failed) return;
        try {
          await this.writeOutLocked();
          const active = this.lastWrittenSegment();
          assert(active === this.segments[this.segments.length - 1], "close left a rolled segment unwritten");
          await this.trimPreallocated(active);
          if (this.durable) {
            await (await active.writeHandle()).datasync();
            // A clean close leaves the active segment indexed: the next open scans nothing.
            await writeIndexFiles(active, active.activeIndex!, true);
            await fsyncDirectory(this.dir);
            this.fsyncedEnd = this.next;
          }
          this.syncedEnd = this.next;
        } catch (error) {
          this.fail(error);
        }
      }),
    );
    this.resolveSyncWaiters();
    for (const waiter of this.syncWaiters) waiter.reject(new LogClosedError(this.dir));
    this.syncWaiters = [];
    await this.closeHandles();
    this.logger.info({ dir: this.dir, lastIndex: this.lastIndex }, "log closed");
  }

  private async closeHandles(): Promise<void> {
    for (const segment of this.segments) await segment.closeHandle();
    await this.meta?.close();
  }

  private checkUsable(): void {
    if (this.failed) throw new LogFailedError(this.dir, this.failed);
    if (this.closing) throw new LogClosedError(this.dir);
  }
}

function decodeFloor(record: Uint8Array, path: string): number {
  if (record.byteLength !== 8) throw new StorageFormatError(path, `holds a ${record.byteLength}-byte record, expected 8 (the first index)`);
  const floor = readInt64LE(Buffer.from(record), 0);
  if (!(floor >= 0)) throw new StorageFormatError(path, "holds an invalid first index");
  return floor;
}

function isPayloadList(payload: Uint8Array | readonly Uint8Array[]): payload is readonly Uint8Array[] {
  return Array.isArray(payload);
}

function assertLimit(value: number, name: string, min: number, max: number): void {
  assert(Number.isSafeInteger(value) && value >= min && value <= max, `${name} must be an integer in [${min}, ${max}], got ${value}`);
}
