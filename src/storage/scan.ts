// Reading frames out of a segment file through one bounded window buffer: sequential scans
// (recovery, index rebuild, lookups) and the hop from a sparse-index point to a wanted entry.
// Every frame handed out has passed verifyFrame (length bounds, CRC-32C, field ranges).
import type { FileHandle } from "node:fs/promises";
import { FRAME_HEADER_BYTES, FRAME_INDEX_FIELD_OFFSET, indexFieldBytes, peekFrameBytes, plausibleFrameBytes, verifyFrame, type FrameHeader } from "./frame.js";
import { readAt } from "./fs-util.js";
import { assert } from "../util/assert.js";

/** Window used by sequential scans: large enough to amortize syscalls, small enough to not matter. */
export const SCAN_WINDOW_BYTES = 1 << 20;
/** How many following entries a resync search looks for after a damaged frame. */
export const RESYNC_CANDIDATES_MAX = 64;

export type ScanResult =
  | { kind: "frame"; header: FrameHeader; buffer: Buffer; offset: number }
  | { kind: "end" }
  | { kind: "torn"; reason: string }
  | { kind: "corrupt"; reason: string };

/**
 * Reads frames of one file region [?, endPosition) through a window of `windowBytes`. A frame
 * larger than the window gets a buffer of its own (bounded by FRAME_BYTES_LIMIT, and by the file
 * size: a length field that points past endPosition is reported torn, never allocated).
 */
export class FrameScanner {
  private window: Buffer = Buffer.alloc(0);
  private windowStart = 0;

  constructor(
    private readonly handle: FileHandle,
    readonly endPosition: number,
    private readonly windowBytes: number = SCAN_WINDOW_BYTES,
  ) {
    assert(windowBytes >= FRAME_HEADER_BYTES, `window ${windowBytes}`);
  }

  /** The frame starting at `position`. */
  async at(position: number): Promise<ScanResult> {
    if (position >= this.endPosition) return { kind: "end" };
    const remaining = this.endPosition - position;
    if (remaining < FRAME_HEADER_BYTES) return { kind: "torn", reason: `incomplete header: ${remaining} bytes at the end` };
    if (!this.covers(position, FRAME_HEADER_BYTES)) await this.fill(position, Math.min(this.windowBytes, remaining));
    if (!this.covers(position, FRAME_HEADER_BYTES)) return { kind: "torn", reason: "file ends inside the header" };
    const frameBytes = peekFrameBytes(this.window, position - this.windowStart);
    if (!plausibleFrameBytes(frameBytes)) return { kind: "corrupt", reason: `implausible frame length ${frameBytes}` };
    if (frameBytes > remaining) return { kind: "torn", reason: `frame of ${frameBytes} bytes, only ${remaining} remain` };
    if (!this.covers(position, frameBytes)) await this.fill(position, Math.min(Math.max(this.windowBytes, frameBytes), remaining));
    if (!this.covers(position, frameBytes)) return { kind: "torn", reason: "file ends inside the frame" };
    const offset = position - this.windowStart;
    const verified = verifyFrame(this.window, offset);
    if (typeof verified === "string") return { kind: "corrupt", reason: verified };
    return { kind: "frame", header: verified, buffer: this.window, offset };
  }

  /** The window's bytes from `position` on, if it holds at least `length` of them (zero-copy). */
  slice(position: number, length: number): Buffer | undefined {
    return this.covers(position, length) ? this.window.subarray(position - this.windowStart, position - this.windowStart + length) : undefined;
  }

  /** Loads `length` bytes at `position` into the window (a fresh buffer: old slices stay valid). */
  async fill(position: number, length: number): Promise<void> {
    this.window = await readAt(this.handle, position, length);
    this.windowStart = position;
  }

  private covers(position: number, length: number): boolean {
    return position >= this.windowStart && position + length <= this.windowStart + this.window.length;
  }
}

/**
 * After a damaged frame, searches for the first verified frame that starts in
 * [fromPosition, limitPosition) and whose index is in [indexMin, indexMax] (at most
 * RESYNC_CANDIDATES_MAX of them). Frames are not aligned, so the search looks for the 8-byte index
 * field itself (Buffer.indexOf, native), then verifies the whole frame around each hit. The cost is
 * paid only on the corrupt path, and the region is bounded by the caller.
 */
export async function resync(
  handle: FileHandle,
  scanner: FrameScanner,
  range: { fromPosition: number; limitPosition: number; indexMin: number; indexMax: number },
): Promise<{ position: number; header: FrameHeader } | undefined> {
  const indexMax = Math.min(range.indexMax, range.indexMin + RESYNC_CANDIDATES_MAX - 1);
  if (indexMax < range.indexMin) return undefined;
  const patterns: Buffer[] = [];
  for (let index = range.indexMin; index <= indexMax; index++) patterns.push(indexFieldBytes(index));
  // Bytes to look at: frames starting before limitPosition, plus their header.
  const bytesEnd = Math.min(scanner.endPosition, range.limitPosition + FRAME_HEADER_BYTES);
  // Chunks overlap by a header so a field straddling a chunk boundary is still seen.
  let chunkStart = range.fromPosition;
  while (chunkStart < range.limitPosition && chunkStart + FRAME_HEADER_BYTES <= bytesEnd) {
    const length = Math.min(SCAN_WINDOW_BYTES, bytesEnd - chunkStart);
    const chunk = await readAt(handle, chunkStart, length);
    const hits: number[] = [];
    for (const pattern of patterns) {
      let at = chunk.indexOf(pattern, FRAME_INDEX_FIELD_OFFSET);
      while (at >= 0) {
        const position = chunkStart + at - FRAME_INDEX_FIELD_OFFSET;
        if (position < range.limitPosition) hits.push(position);
        at = chunk.indexOf(pattern, at + 1);
      }
    }
    hits.sort((a, b) => a - b);
    for (const position of hits) {
      const result = await scanner.at(position);
      if (result.kind === "frame" && result.header.index >= range.indexMin && result.header.index <= indexMax) {
        return { position, header: result.header };
      }
    }
    if (chunk.length < length) break;
    chunkStart += Math.max(1, length - FRAME_HEADER_BYTES);
  }
  return undefined;
}
