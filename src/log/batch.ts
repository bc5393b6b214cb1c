// Kafka record batch v2 (magic 2) header, read in place. The partition state machine needs only
// the fixed 61-byte header of each batch (offsets, producer id/epoch/sequence, record count,
// timestamps, flags); records stay opaque bytes and are never decoded on the produce path.
// Layout (DefaultRecordBatch): baseOffset i64 @0, batchLength i32 @8, partitionLeaderEpoch i32
// @12, magic i8 @16, crc u32 @17, attributes i16 @21, lastOffsetDelta i32 @23, baseTimestamp i64
// @27, maxTimestamp i64 @35, producerId i64 @43, producerEpoch i16 @51, baseSequence i32 @53,
// recordCount i32 @57. baseOffset and partitionLeaderEpoch are outside the CRC (which covers
// attributes..end), so the leader rewrites them without recomputing it.

export const BATCH_HEADER_BYTES = 61;
/** Bytes of the batch counted by batchLength start after baseOffset and batchLength. */
export const BATCH_LENGTH_OFFSET = 12;
export const MAGIC_V2 = 2;

export const ATTRIBUTE_COMPRESSION_MASK = 0x07;
export const ATTRIBUTE_TIMESTAMP_TYPE = 0x08;
export const ATTRIBUTE_TRANSACTIONAL = 0x10;
export const ATTRIBUTE_CONTROL = 0x20;

export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;

export interface BatchHeader {
  /** Byte position of the batch inside the buffer it was read from. */
  position: number;
  /** Total bytes of the batch (12 + batchLength). */
  sizeBytes: number;
  baseOffset: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/** Why a buffer is not a sequence of valid v2 batch headers. */
export type BatchFormatError =
  | "truncated" // fewer bytes than a header or than batchLength says
  | "unsupportedMagic" // magic 0 or 1 (old message sets) or garbage
  | "badLength" // batchLength smaller than the header or beyond limits
  | "badRecordCount" // recordCount < 1 or lastOffsetDelta inconsistent with it
  | "unsafeInteger"; // a 64-bit field outside the range synod handles (2^53)

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function safe(value: bigint): number | undefined {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Reads the header of the batch at `position`. Returns an error string for malformed input;
 * never throws on bad bytes.
 */
export function readBatchHeader(bytes: Uint8Array, position: number): BatchHeader | BatchFormatError {
  if (bytes.byteLength - position < BATCH_HEADER_BYTES) return "truncated";
  const dv = view(bytes);
  const batchLength = dv.getInt32(position + 8);
  const magic = dv.getInt8(position + 16);
  if (magic !== MAGIC_V2) return "unsupportedMagic";
  if (batchLength < BATCH_HEADER_BYTES - BATCH_LENGTH_OFFSET) return "badLength";
  const sizeBytes = BATCH_LENGTH_OFFSET + batchLength;
  if (bytes.byteLength - position < sizeBytes) return "truncated";
  const baseOffset = safe(dv.getBigInt64(position));
  const baseTimestamp = safe(dv.getBigInt64(position + 27));
  const maxTimestamp = safe(dv.getBigInt64(position + 35));
  const producerId = safe(dv.getBigInt64(position + 43));
  if (baseOffset === undefined || baseTimestamp === undefined || maxTimestamp === undefined || producerId === undefined) {
    return "unsafeInteger";
  }
  const lastOffsetDelta = dv.getInt32(position + 23);
  const recordCount = dv.getInt32(position + 57);
  if (recordCount < 1 || lastOffsetDelta < 0 || lastOffsetDelta + 1 < recordCount) return "badRecordCount";
  return {
    position,
    sizeBytes,
    baseOffset,
    partitionLeaderEpoch: dv.getInt32(position + 12),
    magic,
    crc: dv.getUint32(position + 17),
    attributes: dv.getInt16(position + 21),
    lastOffsetDelta,
    baseTimestamp,
    maxTimestamp,
    producerId,
    producerEpoch: dv.getInt16(position + 51),
    baseSequence: dv.getInt32(position + 53),
    recordCount,
  };
}

/** Reads every batch header of a buffer holding whole batches back to back. */
export function readBatchHeaders(bytes: Uint8Array, batchesMax = 100_000): BatchHeader[] | BatchFormatError {
  const headers: BatchHeader[] = [];
  let position = 0;
  while (position < bytes.byteLength) {
    if (headers.length >= batchesMax) return "badLength";
    const header = readBatchHeader(bytes, position);
    if (typeof header === "string") return header;
    headers.push(header);
    position += header.sizeBytes;
  }
  return headers;
}

/** Rewrites baseOffset in place (outside the CRC). */
export function writeBaseOffset(bytes: Uint8Array, position: number, baseOffset: number): void {
  view(bytes).setBigInt64(position, BigInt(baseOffset));
}

/** Rewrites partitionLeaderEpoch in place (outside the CRC). */
export function writePartitionLeaderEpoch(bytes: Uint8Array, position: number, epoch: number): void {
  view(bytes).setInt32(position + 12, epoch);
}

export function isControlBatch(header: BatchHeader): boolean {
  return (header.attributes & ATTRIBUTE_CONTROL) !== 0;
}

export function isTransactionalBatch(header: BatchHeader): boolean {
  return (header.attributes & ATTRIBUTE_TRANSACTIONAL) !== 0;
}

/** The offset of the last record of the batch. */
export function lastOffsetOf(header: BatchHeader): number {
  return header.baseOffset + header.lastOffsetDelta;
}

/** Kafka sequences wrap at int32 max back to 0. */
export function nextSequence(sequence: number, delta: number): number {
  const next = sequence + delta;
  return next > 0x7fffffff ? next - 0x80000000 : next;
}
