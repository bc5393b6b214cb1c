// Recovery: turning whatever a crash left in a log directory into a consistent log.
//
// Invariants the write path keeps, which recovery relies on:
//  1. Every segment but the last is durable: a roll fdatasyncs the old segment and writes its
//     index files before the new segment receives a byte (policies always and interval).
//  2. Index files describe a prefix of their .log that was fdatasynced before they were written;
//     their trailer records its length (segmentBytes). Truncating a .log deletes them first.
//  3. Each frame records `durableEnd`, the log's fsynced end when it was appended.
//
// So on open: closed segments are checked by their index trailers only (64 bytes each); a missing
// or bad index is rebuilt by scanning that segment. The last segment is scanned from the end of
// its trusted prefix (all of it after a crash, nothing after a clean close) to its end. The first
// frame that fails verification ends the scan:
//  - if some later valid frame says the damaged entry had been fsynced (durableEnd > its index),
//    the damage is in the durable prefix: keep the log, report the entry as corrupt (a peer
//    repairs it), continue after it;
//  - otherwise it is a torn or unsynced tail: cut the file there, fdatasync, report how much.
// A damaged frame in a closed segment is never cut: it is reported, and reads of it fail with
// CorruptEntryError (Protocol-Aware Recovery, Alagappan et al., FAST 2018).
import type { FileHandle } from "node:fs/promises";
import { open, readFile, stat } from "node:fs/promises";
import type { Logger } from "../util/logger.js";
import { FrameScanner, resync, RESYNC_CANDIDATES_MAX } from "./scan.js";
import { decodeTrailer, INDEX_TRAILER_BYTES, KIND_OFFSET, KIND_TIME, SegmentIndex, type SegmentSummary } from "./segment-index.js";
import { isNotFound, readAt, writeFully } from "./fs-util.js";
import type { Segment } from "./segment.js";

/** What open() found and did; also logged line by line. */
export interface RecoveryReport {
  /** Segments in the log after recovery. */
  segmentCount: number;
  /** True when the last segment needed no scan (its index was written by a clean close). */
  cleanShutdown: boolean;
  /** Bytes of the last segment verified frame by frame. */
  scannedBytes: number;
  /** The torn or corrupt tail that was cut, if any. */
  truncation: { file: string; position: number; index: number; bytes: number; reason: string } | undefined;
  /** Damaged entries kept in place (reads of them fail with CorruptEntryError). */
  corruptEntries: Array<{ file: string; position: number; index: number; count: number; reason: string }>;
  /** Index files rebuilt from their segment. */
  rebuiltIndexes: Array<{ file: string; reason: string }>;
  /** Files removed: stray temp files, orphan index files, segments below the first index. */
  removedFiles: Array<{ file: string; reason: string }>;
}

export function emptyReport(): RecoveryReport {
  return { segmentCount: 0, cleanShutdown: true, scannedBytes: 0, truncation: undefined, corruptEntries: [], rebuiltIndexes: [], removedFiles: [] };
}

export interface ScanOutcome {
  index: SegmentIndex;
  /** Where a torn tail starts (only when requireEvidence: the last segment). */
  cut: { position: number; index: number; reason: string } | undefined;
  corrupt: Array<{ position: number; index: number; count: number; reason: string }>;
  scannedBytes: number;
  /** Bytes after the expected last entry (a closed segment longer than its successor allows). */
  extraBytes: number;
}

export interface ScanOptions {
  baseIndex: number;
  intervalBytes: number;
  /** An index of a verified prefix to continue from (the last segment after a clean close). */
  trusted?: SegmentIndex;
  /** Last segment: damage is a torn tail unless a later frame proves it durable. */
  requireEvidence: boolean;
  /** Closed segment: the index its successor starts at. */
  expectedEnd?: number;
}

/** Scans a segment from its trusted prefix (or its start), building its index. */
export async function scanSegment(handle: FileHandle, fileBytes: number, options: ScanOptions): Promise<ScanOutcome> {
  const index = options.trusted ?? new SegmentIndex(options.intervalBytes);
  const scanner = new FrameScanner(handle, fileBytes);
  const corrupt: ScanOutcome["corrupt"] = [];
  const startPosition = index.sizeBytes;
  let position = startPosition;
  let next = options.baseIndex + index.entryCount;
  let forcePoint = false;
  while (options.expectedEnd === undefined || next < options.expectedEnd) {
    const result = await scanner.at(position);
    if (result.kind === "end") break;
    let reason: string;
    if (result.kind === "frame") {
      const header = result.header;
      if (header.index !== next) reason = `frame holds index ${header.index}, expected ${next}`;
      else if (index.entryCount > 0 && header.key < index.lastKey) reason = `key ${header.key} below the previous key ${index.lastKey}`;
      else {
        index.addEntry(position, header.frameBytes, header.key, header.timestamp, forcePoint);
        forcePoint = false;
        position += header.frameBytes;
        next++;
        continue;
      }
    } else {
      reason = result.reason;
    }
    const found = await resync(handle, scanner, {
      fromPosition: position + 1,
      limitPosition: fileBytes,
      indexMin: next + 1,
      indexMax: options.expectedEnd !== undefined ? options.expectedEnd - 1 : next + RESYNC_CANDIDATES_MAX,
    });
    if (found && (!options.requireEvidence || (await provesDurable(scanner, found.position, found.header.index, next)))) {
      const count = found.header.index - next;
      corrupt.push({ position, index: next, count, reason });
      index.skipCorrupt(count, found.position);
      position = found.position;
      next = found.header.index;
      forcePoint = true;
      continue;
    }
    if (options.requireEvidence) {
      return { index, cut: { position, index: next, reason }, corrupt, scannedBytes: position - startPosition, extraBytes: 0 };
    }
    const count = (options.expectedEnd ?? next + 1) - next;
    corrupt.push({ position, index: next, count, reason });
    index.skipCorrupt(count, fileBytes);
    position = fileBytes;
    next += count;
  }
  if (options.expectedEnd !== undefined && next < options.expectedEnd) {
    const count = options.expectedEnd - next;
    corrupt.push({ position, index: next, count, reason: `segment ends after ${next - options.baseIndex} entries, its successor starts at ${options.expectedEnd}` });
    index.skipCorrupt(count, position);
  }
  return { index, cut: undefined, corrupt, scannedBytes: position - startPosition, extraBytes: fileBytes - Math.max(position, index.sizeBytes) };
}

/** True if a valid chain of frames from `position` contains one appended after `damaged` was fsynced. */
async function provesDurable(scanner: FrameScanner, position: number, index: number, damaged: number): Promise<boolean> {
  let expected = index;
  for (;;) {
    const result = await scanner.at(position);
    if (result.kind !== "frame" || result.header.index !== expected) return false;
    if (result.header.durableEnd > damaged) return true;
    position += result.header.frameBytes;
    expected++;
  }
}

/** Reads the trailer-described summary of a closed segment's two index files, or why not. */
export async function readIndexSummary(segment: Segment): Promise<SegmentSummary | string> {
  const summaries: SegmentSummary[] = [];
  for (const [path, kind] of [
    [segment.indexPath, KIND_OFFSET],
    [segment.timeIndexPath, KIND_TIME],
  ] as const) {
    let handle: FileHandle;
    try {
      handle = await open(path, "r");
    } catch (error) {
      if (isNotFound(error)) return `${path} is missing`;
      throw error;
    }
    try {
      const size = (await handle.stat()).size;
      if (size < INDEX_TRAILER_BYTES) return `${path} is ${size} bytes, shorter than its trailer`;
      const trailer = decodeTrailer(await readAt(handle, size - INDEX_TRAILER_BYTES, INDEX_TRAILER_BYTES), kind, size);
      if (typeof trailer === "string") return `${path}: ${trailer}`;
      if (trailer.baseIndex !== segment.baseIndex) return `${path} belongs to the segment at ${trailer.baseIndex}`;
      summaries.push(trailer.summary);
    } finally {
      await handle.close();
    }
  }
  const [a, b] = summaries;
  if (a.segmentBytes !== b.segmentBytes || a.entryCount !== b.entryCount || a.maxTimestamp !== b.maxTimestamp) return "index and time index describe different segments";
  return a;
}

/** Loads a segment's full index from its files, checking it describes `segmentBytes` bytes. */
export async function loadIndexFiles(segment: Segment, intervalBytes: number, segmentBytes: number): Promise<SegmentIndex | string> {
  let offsetFile: Buffer;
  let timeFile: Buffer;
  try {
    offsetFile = await readFile(segment.indexPath);
    timeFile = await readFile(segment.timeIndexPath);
  } catch (error) {
    if (isNotFound(error)) return "index file missing";
    throw error;
  }
  return SegmentIndex.decode(offsetFile, timeFile, { intervalBytes, baseIndex: segment.baseIndex, segmentBytes });
}

/** Writes both index files of a segment (the caller fsyncs the directory). */
export async function writeIndexFiles(segment: Segment, index: SegmentIndex, durable: boolean): Promise<void> {
  const { offsetFile, timeFile } = index.encode(segment.baseIndex);
  for (const [path, bytes] of [
    [segment.indexPath, offsetFile],
    [segment.timeIndexPath, timeFile],
  ] as const) {
    const handle = await open(path, "w");
    try {
      await writeFully(handle, [bytes], 0);
      if (durable) await handle.datasync();
    } finally {
      await handle.close();
    }
  }
}

/** The .log file size, or undefined if it vanished. */
export async function fileBytesOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Logs and records each finding of a scan. */
export function recordScanFindings(report: RecoveryReport, logger: Logger, file: string, outcome: ScanOutcome): void {
  for (const c of outcome.corrupt) {
    report.corruptEntries.push({ file, ...c });
    logger.error({ file, position: c.position, index: c.index, count: c.count, reason: c.reason }, "corrupt entries kept in place; reads of them fail until repaired from a peer");
  }
  if (outcome.extraBytes > 0) {
    logger.error({ file, bytes: outcome.extraBytes }, "segment holds bytes beyond the entries its successor allows; ignored");
  }
}
