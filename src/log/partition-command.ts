// Commands of a partition's Paxos group, as bytes in the replicated log. The produce command
// carries the record batches exactly as they will be served to consumers (baseOffset already
// assigned by the leader), so the log entry IS the partition data: written once, fetched as
// slices. Layout: u8 type, then per type (all integers big-endian):
//   produce (1):          i64 appendTimeMs, u8 flags, then the record batches back to back
//   setLogStart (2):      i64 logStartOffset, i64 firstRetainedSlot
//   expireProducers (3):  i64 nowMs, i64 producerIdleMsMax
import { readI64, writeI64 } from "../util/bytes.js";

export const PRODUCE = 1;
export const SET_LOG_START = 2;
export const EXPIRE_PRODUCERS = 3;

/** Offset of the record batches inside an encoded produce command. */
export const PRODUCE_BATCHES_OFFSET = 1 + 8 + 1;
export const PRODUCE_FLAG_LOG_APPEND_TIME = 0x01;

export type PartitionCommand =
  | { type: typeof PRODUCE; appendTimeMs: number; logAppendTime: boolean; batches: Uint8Array }
  | { type: typeof SET_LOG_START; logStartOffset: number; firstRetainedSlot: number }
  | { type: typeof EXPIRE_PRODUCERS; nowMs: number; producerIdleMsMax: number };

/**
 * A produce command as parts — its 10-byte header, then the batches as given (not copied): the
 * consensus layer copies everything once into the slot. encodeProduce is the same bytes in one
 * buffer.
 */
export function produceCommandParts(appendTimeMs: number, logAppendTime: boolean, batches: readonly Uint8Array[]): Uint8Array[] {
  const header = new Uint8Array(PRODUCE_BATCHES_OFFSET);
  header[0] = PRODUCE;
  writeI64(header, 1, appendTimeMs);
  header[9] = logAppendTime ? PRODUCE_FLAG_LOG_APPEND_TIME : 0;
  return [header, ...batches];
}

/** Encodes a produce command; `batches` may be a list of buffers to avoid concatenating first. */
export function encodeProduce(appendTimeMs: number, logAppendTime: boolean, batches: readonly Uint8Array[]): Uint8Array {
  let size = PRODUCE_BATCHES_OFFSET;
  for (const b of batches) size += b.byteLength;
  const out = new Uint8Array(size);
  out[0] = PRODUCE;
  writeI64(out, 1, appendTimeMs);
  out[9] = logAppendTime ? PRODUCE_FLAG_LOG_APPEND_TIME : 0;
  let position = PRODUCE_BATCHES_OFFSET;
  for (const b of batches) {
    out.set(b, position);
    position += b.byteLength;
  }
  return out;
}

export function encodeSetLogStart(logStartOffset: number, firstRetainedSlot: number): Uint8Array {
  const out = new Uint8Array(17);
  out[0] = SET_LOG_START;
  writeI64(out, 1, logStartOffset);
  writeI64(out, 9, firstRetainedSlot);
  return out;
}

export function encodeExpireProducers(nowMs: number, producerIdleMsMax: number): Uint8Array {
  const out = new Uint8Array(17);
  out[0] = EXPIRE_PRODUCERS;
  writeI64(out, 1, nowMs);
  writeI64(out, 9, producerIdleMsMax);
  return out;
}

/** Decodes a command; returns undefined for bytes that are not a valid command. */
export function decodePartitionCommand(bytes: Uint8Array): PartitionCommand | undefined {
  if (bytes.byteLength < 1) return undefined;
  switch (bytes[0]) {
    case PRODUCE: {
      if (bytes.byteLength < PRODUCE_BATCHES_OFFSET) return undefined;
      const appendTimeMs = readI64(bytes, 1);
      if (appendTimeMs === undefined) return undefined;
      return {
        type: PRODUCE,
        appendTimeMs,
        logAppendTime: (bytes[9] & PRODUCE_FLAG_LOG_APPEND_TIME) !== 0,
        batches: bytes.subarray(PRODUCE_BATCHES_OFFSET),
      };
    }
    case SET_LOG_START: {
      if (bytes.byteLength !== 17) return undefined;
      const logStartOffset = readI64(bytes, 1);
      const firstRetainedSlot = readI64(bytes, 9);
      if (logStartOffset === undefined || firstRetainedSlot === undefined) return undefined;
      return { type: SET_LOG_START, logStartOffset, firstRetainedSlot };
    }
    case EXPIRE_PRODUCERS: {
      if (bytes.byteLength !== 17) return undefined;
      const nowMs = readI64(bytes, 1);
      const producerIdleMsMax = readI64(bytes, 9);
      if (nowMs === undefined || producerIdleMsMax === undefined) return undefined;
      return { type: EXPIRE_PRODUCERS, nowMs, producerIdleMsMax };
    }
    default:
      return undefined;
  }
}
