// The on-disk frame of one log entry. Every entry is self-describing and self-checking, so a
// reader can tell a valid entry from a torn write or a flipped bit without any other file:
//
//   offset  size  field
//   0       4     crc32c   CRC-32C (Castagnoli) of bytes [4, frameBytes): everything after itself
//   4       4     frameBytes  u32, header + payload
//   8       8     index    u64, the entry's position in the log (dense, from firstIndex)
//   16      8     timestamp  i64 ms, caller-given (Kafka: the batch's max timestamp)
//   24      8     key      i64, caller-given, non-decreasing (Kafka: the batch's base offset)
//   32      8     durableEnd  u64, the log's fsynced end (exclusive) when this entry was appended
//   40      ...   payload
//
// All integers little-endian; 64-bit fields hold JS safe integers (asserted on write, verified on
// read). `durableEnd` lets recovery tell a torn tail (nothing after it claims it was durable) from
// a corrupt entry in the durable prefix (a later entry says it had been fsynced), see recovery.ts.
import { crc32c } from "@node-rs/crc32";
import { ProgrammerError } from "../util/assert.js";

export const FRAME_HEADER_BYTES = 40;
/** Largest frame the format admits. A length beyond it is corruption, never an allocation. */
export const FRAME_BYTES_LIMIT = 2 ** 30;

const CRC_OFFSET = 0;
const LENGTH_OFFSET = 4;
const INDEX_OFFSET = 8;
const TIMESTAMP_OFFSET = 16;
const KEY_OFFSET = 24;
const DURABLE_END_OFFSET = 32;
const TWO_POW_32 = 2 ** 32;

export interface FrameHeader {
  frameBytes: number;
  index: number;
  timestamp: number;
  key: number;
  durableEnd: number;
}

/** Writes a signed 64-bit little-endian integer from a safe integer. */
export function writeInt64LE(target: Buffer, offset: number, value: number): void {
  const high = Math.floor(value / TWO_POW_32);
  target.writeUInt32LE(value - high * TWO_POW_32, offset);
  target.writeInt32LE(high, offset + 4);
}

/** Reads a signed 64-bit little-endian integer; NaN when it is not a safe integer. */
export function readInt64LE(source: Buffer, offset: number): number {
  const value = source.readInt32LE(offset + 4) * TWO_POW_32 + source.readUInt32LE(offset);
  return Number.isSafeInteger(value) ? value : NaN;
}

/**
 * Writes the header of a frame whose payload is already in place at offset + FRAME_HEADER_BYTES,
 * then seals it with the CRC. One crc32c call over the contiguous frame: no per-byte JS work.
 */
export function sealFrame(target: Buffer, offset: number, header: FrameHeader): void {
  // Assertions on the append hot path build their message only when they fail.
  if (!(header.frameBytes >= FRAME_HEADER_BYTES && header.frameBytes <= FRAME_BYTES_LIMIT)) throw new ProgrammerError(`frame length ${header.frameBytes}`);
  if (!(header.index >= 0 && Number.isSafeInteger(header.index))) throw new ProgrammerError(`frame index ${header.index}`);
  if (!(header.durableEnd >= 0 && header.durableEnd <= header.index)) throw new ProgrammerError(`durableEnd ${header.durableEnd} > index ${header.index}`);
  target.writeUInt32LE(header.frameBytes, offset + LENGTH_OFFSET);
  writeInt64LE(target, offset + INDEX_OFFSET, header.index);
  writeInt64LE(target, offset + TIMESTAMP_OFFSET, header.timestamp);
  writeInt64LE(target, offset + KEY_OFFSET, header.key);
  writeInt64LE(target, offset + DURABLE_END_OFFSET, header.durableEnd);
  const crc = crc32c(target.subarray(offset + LENGTH_OFFSET, offset + header.frameBytes));
  target.writeUInt32LE(crc, offset + CRC_OFFSET);
}

/** The frame length field alone (to decide how many bytes to read); not yet trustworthy. */
export function peekFrameBytes(source: Buffer, offset: number): number {
  return source.readUInt32LE(offset + LENGTH_OFFSET);
}

/** True when the length field is within the format's bounds (it may still be wrong). */
export function plausibleFrameBytes(frameBytes: number): boolean {
  return frameBytes >= FRAME_HEADER_BYTES && frameBytes <= FRAME_BYTES_LIMIT;
}

/**
 * Verifies a complete frame at `offset` (the caller has checked that `frameBytes` bytes are
 * present) and decodes its header; returns a reason string when it is not valid.
 */
export function verifyFrame(source: Buffer, offset: number): FrameHeader | string {
  const frameBytes = source.readUInt32LE(offset + LENGTH_OFFSET);
  if (!plausibleFrameBytes(frameBytes)) return `implausible frame length ${frameBytes}`;
  if (offset + frameBytes > source.length) return `frame of ${frameBytes} bytes overruns the buffer`;
  const stored = source.readUInt32LE(offset + CRC_OFFSET);
  const actual = crc32c(source.subarray(offset + LENGTH_OFFSET, offset + frameBytes));
  if (stored !== actual) return `CRC mismatch (stored ${hex(stored)}, computed ${hex(actual)})`;
  const index = readInt64LE(source, offset + INDEX_OFFSET);
  const timestamp = readInt64LE(source, offset + TIMESTAMP_OFFSET);
  const key = readInt64LE(source, offset + KEY_OFFSET);
  const durableEnd = readInt64LE(source, offset + DURABLE_END_OFFSET);
  // A frame with a valid CRC but impossible fields was not written by us: treat as corrupt.
  if (!(index >= 0) || Number.isNaN(timestamp) || Number.isNaN(key) || !(durableEnd >= 0 && durableEnd <= index)) {
    return "header fields out of range";
  }
  return { frameBytes, index, timestamp, key, durableEnd };
}

/** The 8 bytes an `index` field holds, for searching a damaged region for the next frame. */
export function indexFieldBytes(index: number): Buffer {
  const bytes = Buffer.alloc(8);
  writeInt64LE(bytes, 0, index);
  return bytes;
}

/** Offset of the index field inside a frame (for resynchronisation searches). */
export const FRAME_INDEX_FIELD_OFFSET = INDEX_OFFSET;

function hex(value: number): string {
  return `0x${value.toString(16).padStart(8, "0")}`;
}
