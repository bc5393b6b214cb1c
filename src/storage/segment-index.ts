// The sparse indexes of one segment, in memory and in their two files.
//
// Offset index (`.index`): one point every `indexIntervalBytes` of log (Kafka's rule: the first
// entry that starts at least that many bytes after the previous point), mapping the entry's
// index (relative to the segment's base) to its byte position, and carrying the entry's key. Keys
// are non-decreasing, so the same points are a sparse key index ("which entry holds Kafka offset
// k" = the last entry whose key <= k).
//
// Time index (`.timeindex`): at an offset-index point where the segment's running maximum
// timestamp grew since the previous time point, the pair (running max including this entry,
// point). Kafka's discipline: timestamps are not monotonic, the running max is. The first entry
// with timestamp >= t lies after the last offset point whose running max < t, and at or before
// the first time point whose max >= t, so every lookup scans at most one index interval.
//
// File layout (little-endian): the points back to back (16 bytes each), then a 72-byte trailer:
//   .index point:      relIndex u32 | position u32 | key i64
//   .timeindex point:  maxTimestamp i64 | relIndex u32 | position u32
//   trailer: magic u32 "SYNX" | version u16 | kind u16 | baseIndex u64 | segmentBytes u64 |
//            entryCount u64 | pointCount u32 | pointsCrc u32 | firstKey i64 | lastKey i64 |
//            maxTimestamp i64 | reserved u32 | trailerCrc u32 (CRC-32C of the first 68 bytes)
// The trailer is the segment's summary, so opening a closed segment reads 72 bytes, not the log.
// baseIndex ties the file to its segment: an index copied next to another segment of the same
// size is refused.
// Index files are rebuildable caches: any doubt (bad CRC, wrong size, segmentBytes different from
// the .log's size) means "rebuild from the segment", never "trust".
import { crc32c } from "@node-rs/crc32";
import { assert, ProgrammerError } from "../util/assert.js";
import { readInt64LE, writeInt64LE } from "./frame.js";

export const INDEX_POINT_BYTES = 16;
export const INDEX_TRAILER_BYTES = 72;
/** Sentinel for "no timestamp yet" (empty segment). */
export const NO_TIMESTAMP = Number.MIN_SAFE_INTEGER;
const TRAILER_MAGIC = 0x584e5953; // "SYNX" read as little-endian u32
const FORMAT_VERSION = 1;
export const KIND_OFFSET = 1;
export const KIND_TIME = 2;

/** The segment summary recorded in both index files' trailers. */
export interface SegmentSummary {
  segmentBytes: number;
  entryCount: number;
  firstKey: number;
  lastKey: number;
  maxTimestamp: number;
}

/** Where to start scanning inside a segment: an entry (relative index) and its byte position. */
export interface ScanStart {
  rel: number;
  position: number;
}

export class SegmentIndex {
  entryCount = 0;
  sizeBytes = 0;
  firstKey = 0;
  lastKey = 0;
  /** Running maximum timestamp (an upper bound after a truncation; see truncate()). */
  maxTimestamp = NO_TIMESTAMP;

  private pointRel = new Uint32Array(16);
  private pointPosition = new Uint32Array(16);
  private pointKey = new Float64Array(16);
  private pointCount = 0;
  private timeMax = new Float64Array(16);
  private timeRel = new Uint32Array(16);
  private timePosition = new Uint32Array(16);
  private timeCount = 0;

  constructor(readonly intervalBytes: number) {
    assert(Number.isSafeInteger(intervalBytes) && intervalBytes > 0, `indexIntervalBytes ${intervalBytes}`);
  }

  get offsetPoints(): number {
    return this.pointCount;
  }

  get timePoints(): number {
    return this.timeCount;
  }

  /** Memory held by the point arrays, for the bounded-memory accounting. */
  get heapBytes(): number {
    return this.pointRel.byteLength * 2 + this.pointKey.byteLength + this.timeMax.byteLength + this.timeRel.byteLength * 2;
  }

  /**
   * Records the next entry of the segment. `forcePoint` adds an offset point regardless of the
   * interval: recovery uses it right after a corrupt region so that later entries stay reachable.
   */
  addEntry(position: number, frameBytes: number, key: number, timestamp: number, forcePoint = false): void {
    // Hot path (every append): the messages are built only when a check fails.
    if (position !== this.sizeBytes && !forcePoint) throw new ProgrammerError(`entry at ${position}, segment ends at ${this.sizeBytes}`);
    if (position > 0xffffffff) throw new ProgrammerError(`segment position ${position} beyond u32`);
    const rel = this.entryCount;
    if (rel === 0) this.firstKey = key;
    else if (key < this.lastKey) throw new ProgrammerError(`key ${key} < previous key ${this.lastKey}`);
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
    const lastPointPosition = this.pointCount === 0 ? 0 : this.pointPosition[this.pointCount - 1];
    if (rel > 0 && (forcePoint || position - lastPointPosition >= this.intervalBytes)) {
      this.pushPoint(rel, position, key);
      const lastTimeMax = this.timeCount === 0 ? NO_TIMESTAMP : this.timeMax[this.timeCount - 1];
      if (this.maxTimestamp > lastTimeMax) this.pushTimePoint(this.maxTimestamp, rel, position);
    }
    this.entryCount = rel + 1;
    this.sizeBytes = position + frameBytes;
    this.lastKey = key;
  }

  /** Accounts for `count` unreadable (corrupt) entries that end at byte `endPosition`. */
  skipCorrupt(count: number, endPosition: number): void {
    assert(count > 0 && endPosition >= this.sizeBytes, `skipCorrupt ${count} to ${endPosition}`);
    this.entryCount += count;
    this.sizeBytes = endPosition;
  }

  /**
   * Drops entries with rel >= `rel`, which start at byte `position`; `lastKey` is the key of the
   * entry rel - 1 (the caller read it). The running max timestamp is kept as it was: an upper
   * bound, which is all lookups need (a time point promises "nothing before me is newer").
   */
  truncate(rel: number, position: number, lastKey: number): void {
    assert(rel >= 0 && rel <= this.entryCount, `truncate to ${rel} of ${this.entryCount}`);
    while (this.pointCount > 0 && this.pointRel[this.pointCount - 1] >= rel) this.pointCount--;
    while (this.timeCount > 0 && this.timeRel[this.timeCount - 1] >= rel) this.timeCount--;
    this.entryCount = rel;
    this.sizeBytes = position;
    if (rel === 0) {
      this.firstKey = 0;
      this.lastKey = 0;
      this.maxTimestamp = NO_TIMESTAMP;
    } else {
      this.lastKey = lastKey;
    }
  }

  /** The last point at or before entry `rel` (or the segment start). */
  startForRel(rel: number): ScanStart {
    const i = lastWhere(this.pointCount, (j) => this.pointRel[j] <= rel);
    return i < 0 ? { rel: 0, position: 0 } : { rel: this.pointRel[i], position: this.pointPosition[i] };
  }

  /** The last point whose key <= key (or the segment start). */
  startForKey(key: number): ScanStart {
    const i = lastWhere(this.pointCount, (j) => this.pointKey[j] <= key);
    return i < 0 ? { rel: 0, position: 0 } : { rel: this.pointRel[i], position: this.pointPosition[i] };
  }

  /** A point before the first entry with timestamp >= t, at most one interval before it. */
  startForTimestamp(timestamp: number): ScanStart {
    const firstAtLeast = lastWhere(this.timeCount, (j) => this.timeMax[j] < timestamp) + 1;
    const limitRel = firstAtLeast < this.timeCount ? this.timeRel[firstAtLeast] : Number.POSITIVE_INFINITY;
    const i = lastWhere(this.pointCount, (j) => this.pointRel[j] < limitRel);
    return i < 0 ? { rel: 0, position: 0 } : { rel: this.pointRel[i], position: this.pointPosition[i] };
  }

  /** The first point strictly after byte `position`, or undefined: bounds resync searches. */
  nextPointAfter(position: number): ScanStart | undefined {
    const i = lastWhere(this.pointCount, (j) => this.pointPosition[j] <= position) + 1;
    return i < this.pointCount ? { rel: this.pointRel[i], position: this.pointPosition[i] } : undefined;
  }

  summary(): SegmentSummary {
    return {
      segmentBytes: this.sizeBytes,
      entryCount: this.entryCount,
      firstKey: this.firstKey,
      lastKey: this.lastKey,
      maxTimestamp: this.maxTimestamp,
    };
  }

  /** Serializes both files (points + trailer) for the segment starting at baseIndex. */
  encode(baseIndex: number): { offsetFile: Buffer; timeFile: Buffer } {
    const summary = this.summary();
    const offsetFile = Buffer.alloc(this.pointCount * INDEX_POINT_BYTES + INDEX_TRAILER_BYTES);
    for (let i = 0; i < this.pointCount; i++) {
      const o = i * INDEX_POINT_BYTES;
      offsetFile.writeUInt32LE(this.pointRel[i], o);
      offsetFile.writeUInt32LE(this.pointPosition[i], o + 4);
      writeInt64LE(offsetFile, o + 8, this.pointKey[i]);
    }
    writeTrailer(offsetFile, KIND_OFFSET, baseIndex, this.pointCount, summary);
    const timeFile = Buffer.alloc(this.timeCount * INDEX_POINT_BYTES + INDEX_TRAILER_BYTES);
    for (let i = 0; i < this.timeCount; i++) {
      const o = i * INDEX_POINT_BYTES;
      writeInt64LE(timeFile, o, this.timeMax[i]);
      timeFile.writeUInt32LE(this.timeRel[i], o + 8);
      timeFile.writeUInt32LE(this.timePosition[i], o + 12);
    }
    writeTrailer(timeFile, KIND_TIME, baseIndex, this.timeCount, summary);
    return { offsetFile, timeFile };
  }

  /**
   * Rebuilds an index from its two files; returns a reason string when they are not a valid,
   * mutually consistent pair describing a segment of `segmentBytes` bytes.
   */
  static decode(offsetFile: Buffer, timeFile: Buffer, segment: { intervalBytes: number; baseIndex: number; segmentBytes: number }): SegmentIndex | string {
    const { intervalBytes, baseIndex, segmentBytes } = segment;
    const offsetTrailer = decodeTrailer(offsetFile, KIND_OFFSET);
    if (typeof offsetTrailer === "string") return `.index: ${offsetTrailer}`;
    const timeTrailer = decodeTrailer(timeFile, KIND_TIME);
    if (typeof timeTrailer === "string") return `.timeindex: ${timeTrailer}`;
    if (offsetTrailer.baseIndex !== baseIndex || timeTrailer.baseIndex !== baseIndex) return `index files belong to the segment at ${offsetTrailer.baseIndex}, not ${baseIndex}`;
    const a = offsetTrailer.summary;
    const b = timeTrailer.summary;
    if (a.segmentBytes !== segmentBytes) return `.index describes ${a.segmentBytes} bytes, the segment has ${segmentBytes}`;
    if (a.segmentBytes !== b.segmentBytes || a.entryCount !== b.entryCount || a.maxTimestamp !== b.maxTimestamp) {
      return ".index and .timeindex describe different segments";
    }
    if (crc32c(offsetFile.subarray(0, offsetFile.length - INDEX_TRAILER_BYTES)) !== offsetTrailer.pointsCrc) return ".index points fail their CRC";
    if (crc32c(timeFile.subarray(0, timeFile.length - INDEX_TRAILER_BYTES)) !== timeTrailer.pointsCrc) return ".timeindex points fail their CRC";
    const index = new SegmentIndex(intervalBytes);
    for (let i = 0; i < offsetTrailer.pointCount; i++) {
      const o = i * INDEX_POINT_BYTES;
      const rel = offsetFile.readUInt32LE(o);
      const position = offsetFile.readUInt32LE(o + 4);
      const key = readInt64LE(offsetFile, o + 8);
      const previous = index.pointCount - 1;
      const ordered = previous < 0 || (rel > index.pointRel[previous] && position > index.pointPosition[previous] && key >= index.pointKey[previous]);
      if (!ordered || rel === 0 || rel >= a.entryCount || position >= segmentBytes || Number.isNaN(key)) return `.index point ${i} is out of order or range`;
      index.pushPoint(rel, position, key);
    }
    for (let i = 0; i < timeTrailer.pointCount; i++) {
      const o = i * INDEX_POINT_BYTES;
      const max = readInt64LE(timeFile, o);
      const rel = timeFile.readUInt32LE(o + 8);
      const position = timeFile.readUInt32LE(o + 12);
      const previous = index.timeCount - 1;
      const ordered = previous < 0 || (rel > index.timeRel[previous] && max > index.timeMax[previous]);
      if (!ordered || rel >= a.entryCount || position >= segmentBytes || Number.isNaN(max) || max > a.maxTimestamp) return `.timeindex point ${i} is out of order or range`;
      index.pushTimePoint(max, rel, position);
    }
    index.entryCount = a.entryCount;
    index.sizeBytes = a.segmentBytes;
    index.firstKey = a.firstKey;
    index.lastKey = a.lastKey;
    index.maxTimestamp = a.maxTimestamp;
    return index;
  }

  private pushPoint(rel: number, position: number, key: number): void {
    if (this.pointCount === this.pointRel.length) {
      this.pointRel = grow(this.pointRel);
      this.pointPosition = grow(this.pointPosition);
      this.pointKey = grow(this.pointKey);
    }
    this.pointRel[this.pointCount] = rel;
    this.pointPosition[this.pointCount] = position;
    this.pointKey[this.pointCount] = key;
    this.pointCount++;
  }

  private pushTimePoint(max: number, rel: number, position: number): void {
    if (this.timeCount === this.timeRel.length) {
      this.timeMax = grow(this.timeMax);
      this.timeRel = grow(this.timeRel);
      this.timePosition = grow(this.timePosition);
    }
    this.timeMax[this.timeCount] = max;
    this.timeRel[this.timeCount] = rel;
    this.timePosition[this.timeCount] = position;
    this.timeCount++;
  }
}

export interface DecodedTrailer {
  kind: number;
  baseIndex: number;
  pointCount: number;
  pointsCrc: number;
  summary: SegmentSummary;
}

function writeTrailer(file: Buffer, kind: number, baseIndex: number, pointCount: number, summary: SegmentSummary): void {
  const o = file.length - INDEX_TRAILER_BYTES;
  file.writeUInt32LE(TRAILER_MAGIC, o);
  file.writeUInt16LE(FORMAT_VERSION, o + 4);
  file.writeUInt16LE(kind, o + 6);
  writeInt64LE(file, o + 8, baseIndex);
  writeInt64LE(file, o + 16, summary.segmentBytes);
  writeInt64LE(file, o + 24, summary.entryCount);
  file.writeUInt32LE(pointCount, o + 32);
  file.writeUInt32LE(crc32c(file.subarray(0, o)), o + 36);
  writeInt64LE(file, o + 40, summary.firstKey);
  writeInt64LE(file, o + 48, summary.lastKey);
  writeInt64LE(file, o + 56, summary.maxTimestamp);
  file.writeUInt32LE(0, o + 64);
  file.writeUInt32LE(crc32c(file.subarray(o, o + 68)), o + 68);
}

/** Decodes and checks the trailer at the end of an index file (or of its last 64 bytes). */
export function decodeTrailer(file: Buffer, kind: number, fileBytes = file.length): DecodedTrailer | string {
  if (fileBytes < INDEX_TRAILER_BYTES || (fileBytes - INDEX_TRAILER_BYTES) % INDEX_POINT_BYTES !== 0) return `bad file size ${fileBytes}`;
  const o = file.length - INDEX_TRAILER_BYTES;
  if (file.readUInt32LE(o) !== TRAILER_MAGIC) return "bad magic";
  if (crc32c(file.subarray(o, o + 68)) !== file.readUInt32LE(o + 68)) return "trailer fails its CRC";
  if (file.readUInt16LE(o + 4) !== FORMAT_VERSION) return `unknown format version ${file.readUInt16LE(o + 4)}`;
  if (file.readUInt16LE(o + 6) !== kind) return `wrong kind ${file.readUInt16LE(o + 6)}`;
  const pointCount = file.readUInt32LE(o + 32);
  if (pointCount * INDEX_POINT_BYTES + INDEX_TRAILER_BYTES !== fileBytes) return `trailer counts ${pointCount} points, file has room for a different number`;
  const baseIndex = readInt64LE(file, o + 8);
  const summary: SegmentSummary = {
    segmentBytes: readInt64LE(file, o + 16),
    entryCount: readInt64LE(file, o + 24),
    firstKey: readInt64LE(file, o + 40),
    lastKey: readInt64LE(file, o + 48),
    maxTimestamp: readInt64LE(file, o + 56),
  };
  if (!(baseIndex >= 0) || !(summary.segmentBytes >= 0) || !(summary.entryCount >= 0) || Number.isNaN(summary.firstKey) || Number.isNaN(summary.lastKey) || Number.isNaN(summary.maxTimestamp)) {
    return "trailer fields out of range";
  }
  return { kind, baseIndex, pointCount, pointsCrc: file.readUInt32LE(o + 36), summary };
}

/** The largest i in [0, n) with predicate(i) true, for a predicate true-then-false; -1 if none. */
export function lastWhere(n: number, predicate: (i: number) => boolean): number {
  let low = 0;
  let high = n; // invariant: predicate true below low, false at and above high
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (predicate(mid)) low = mid + 1;
    else high = mid;
  }
  return low - 1;
}

function grow<T extends Uint32Array | Float64Array>(array: T): T {
  const bigger = new (array.constructor as { new (n: number): T })(array.length * 2);
  bigger.set(array);
  return bigger;
}
