// One segment: `<base>.log` (frames), `<base>.index` and `<base>.timeindex` (sparse indexes,
// written when the segment is closed). File names carry the segment's base index zero-padded to
// 20 digits (Kafka's convention), so a directory listing sorts in log order.
//
// Handles: the active segment keeps one read-write handle open. A closed segment opens a
// read-only handle when a reader acquires it; when the last reader releases it, the handle stays
// open only while the log keeps the segment in its small LRU of idle handles (`cached`), so a log
// with thousands of segments holds a handful of descriptors. A deleted (compacted,
// truncated) segment stays readable by readers that already hold its handle (POSIX unlink).
import { open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { assert } from "../util/assert.js";
import { NO_TIMESTAMP, type SegmentIndex, type SegmentSummary } from "./segment-index.js";

export const SEGMENT_NAME_DIGITS = 20;
const NAME_PATTERN = /^(\d{20})\.(log|index|timeindex)$/;

export type SegmentFileKind = "log" | "index" | "timeindex";

export function segmentFileName(baseIndex: number, kind: SegmentFileKind): string {
  return `${String(baseIndex).padStart(SEGMENT_NAME_DIGITS, "0")}.${kind}`;
}

/** Parses a segment file name; undefined for anything else (including out-of-range numbers). */
export function parseSegmentFileName(name: string): { baseIndex: number; kind: SegmentFileKind } | undefined {
  const match = NAME_PATTERN.exec(name);
  if (!match) return undefined;
  const baseIndex = Number(match[1]);
  if (!Number.isSafeInteger(baseIndex)) return undefined;
  return { baseIndex, kind: match[2] as SegmentFileKind };
}

export class Segment {
  readonly logPath: string;
  readonly indexPath: string;
  readonly timeIndexPath: string;
  /** Summary of a closed segment (from its index trailer or a rebuild scan). */
  summary: SegmentSummary;
  /** The full in-memory index: always present for the active segment, absent for closed ones. */
  activeIndex: SegmentIndex | undefined;
  /** Bytes handed to the OS (written); appended-but-buffered bytes are beyond it. */
  writtenBytes = 0;
  /**
   * The .log file's size while active: writtenBytes plus the sparse space preallocated beyond it
   * (see SegmentedLogOptions.preallocateBytes). A closed segment's file is exactly its entries.
   */
  allocatedBytes = 0;
  /** The .log file exists (a freshly rolled segment is created by the next write). */
  created: boolean;
  deleted = false;
  /** Monotonic ms of the first append in this process (roll by age). */
  firstAppendMs: number | undefined;

  private handle: Promise<FileHandle> | undefined;
  private readers = 0;
  private keepOpen = false;
  /** Set by the log while this segment is in its LRU of idle read handles. */
  private cached = false;

  constructor(
    readonly dir: string,
    readonly baseIndex: number,
    options: { created: boolean; summary?: SegmentSummary },
  ) {
    assert(Number.isSafeInteger(baseIndex) && baseIndex >= 0, `segment base ${baseIndex}`);
    this.logPath = join(dir, segmentFileName(baseIndex, "log"));
    this.indexPath = join(dir, segmentFileName(baseIndex, "index"));
    this.timeIndexPath = join(dir, segmentFileName(baseIndex, "timeindex"));
    this.created = options.created;
    this.summary = options.summary ?? { segmentBytes: 0, entryCount: 0, firstKey: 0, lastKey: 0, maxTimestamp: NO_TIMESTAMP };
  }

  get entryCount(): number {
    return this.activeIndex ? this.activeIndex.entryCount : this.summary.entryCount;
  }

  get sizeBytes(): number {
    return this.activeIndex ? this.activeIndex.sizeBytes : this.summary.segmentBytes;
  }

  get endIndex(): number {
    return this.baseIndex + this.entryCount;
  }

  get firstKey(): number {
    return this.activeIndex ? this.activeIndex.firstKey : this.summary.firstKey;
  }

  get lastKey(): number {
    return this.activeIndex ? this.activeIndex.lastKey : this.summary.lastKey;
  }

  get maxTimestamp(): number {
    return this.activeIndex ? this.activeIndex.maxTimestamp : this.summary.maxTimestamp;
  }

  /** Makes this the active segment: `handle` (read-write) stays open until deactivate(). */
  activate(handle: FileHandle, index: SegmentIndex): void {
    assert(!this.deleted, `activating deleted segment ${this.logPath}`);
    this.handle = Promise.resolve(handle);
    this.keepOpen = true;
    this.activeIndex = index;
    this.created = true;
  }

  /** The .log of a rolled segment was just created: keep its read-write handle. */
  attachWriteHandle(handle: FileHandle): void {
    assert(this.activeIndex && !this.created, `attaching a handle to ${this.logPath}`);
    this.handle = Promise.resolve(handle);
    this.keepOpen = true;
    this.created = true;
  }

  /** Closes the segment for appends; returns its index (for the closed-segment cache). */
  deactivate(): SegmentIndex | undefined {
    const index = this.activeIndex;
    if (index) this.summary = index.summary();
    this.activeIndex = undefined;
    this.keepOpen = false;
    this.closeIfIdle();
    return index;
  }

  /** The read-write handle of the active segment. */
  async writeHandle(): Promise<FileHandle> {
    assert(this.keepOpen && this.handle, `segment ${this.logPath} is not active`);
    return this.handle;
  }

  /** A handle for reading; pair every acquire with a release. Rejects (ENOENT) once deleted. */
  async acquire(): Promise<FileHandle> {
    this.readers++;
    this.handle ??= open(this.logPath, "r");
    try {
      return await this.handle;
    } catch (error) {
      this.readers--;
      this.handle = undefined;
      throw error;
    }
  }

  release(): void {
    assert(this.readers > 0, `release without acquire on ${this.logPath}`);
    this.readers--;
    this.closeIfIdle();
  }

  /** The log's handle LRU keeps (true) or evicts (false) this segment's idle handle. */
  setCached(cached: boolean): void {
    this.cached = cached;
    this.closeIfIdle();
  }

  markDeleted(): void {
    this.deleted = true;
    this.activeIndex = undefined;
    this.keepOpen = false;
    this.cached = false;
    this.closeIfIdle();
  }

  /** Closes the handle now (log close); waits for operations in flight on it. */
  async closeHandle(): Promise<void> {
    this.keepOpen = false;
    this.cached = false;
    const handle = this.handle;
    this.handle = undefined;
    if (handle) await (await handle.catch(() => undefined))?.close();
  }

  private closeIfIdle(): void {
    if (this.keepOpen || this.cached || this.readers > 0 || !this.handle) return;
    const handle = this.handle;
    this.handle = undefined;
    void handle.then((h) => h.close()).catch(() => undefined);
  }
}
