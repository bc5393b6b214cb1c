// Record batch v2 (magic 2), Kafka's on-disk and on-wire unit of records. The 61-byte header:
//
//   0 baseOffset int64 · 8 batchLength int32 (bytes after this field) · 12 partitionLeaderEpoch int32
//   16 magic int8 · 17 crc uint32 (CRC-32C of bytes 21..end) · 21 attributes int16
//   23 lastOffsetDelta int32 · 27 baseTimestamp int64 · 35 maxTimestamp int64 · 43 producerId int64
//   51 producerEpoch int16 · 53 baseSequence int32 · 57 recordsCount int32 · 61 records...
//
// baseOffset and partitionLeaderEpoch lie before the CRC's range, so the broker assigns offsets and
// stamps the leader epoch in place without recomputing the CRC. Older message sets (magic 0 and 1)
// put their magic byte at the same offset 16; they are recognized and rejected with a clear error.
import { crc32c } from "@node-rs/crc32";
import { Compression, DEFAULT_DECOMPRESSED_BYTES_MAX, compress, decompress, type CompressOptions } from "./compression.js";
import { RecordBatchError } from "./errors.js";
import { ControlType, RECORD_BYTES_MIN, encodeControlKey, encodeEndTxnMarker, readRecord, sizeOfRecordBody, writeRecord, type KafkaRecord } from "./record.js";
import { VarintReader, sizeOfVarint } from "./varint.js";

export const BATCH_HEADER_BYTES = 61;
/** baseOffset and batchLength: the part of the header not counted by batchLength. */
export const BATCH_LOG_OVERHEAD = 12;
export const CURRENT_MAGIC = 2;

export const BatchField = {
  baseOffset: 0,
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordsCount: 57,
} as const;

export const BatchAttribute = {
  compressionMask: 0x07,
  /** Set: maxTimestamp is the broker's LogAppendTime; clear: CreateTime. */
  logAppendTime: 0x08,
  transactional: 0x10,
  control: 0x20,
  deleteHorizon: 0x40,
} as const;

export interface RecordBatchHeader {
  baseOffset: bigint;
  /** Bytes after the batchLength field; the whole batch is BATCH_LOG_OVERHEAD + batchLength. */
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordsCount: number;
}

export interface RecordBatch extends RecordBatchHeader {
  records: KafkaRecord[];
}

export function compressionOf(attributes: number): Compression {
  const codec = attributes & BatchAttribute.compressionMask;
  if (codec > Compression.Zstd) throw new RecordBatchError("UNSUPPORTED_COMPRESSION", `compression codec ${codec} is not defined`);
  return codec as Compression;
}

export function isTransactional(attributes: number): boolean {
  return (attributes & BatchAttribute.transactional) !== 0;
}

export function isControl(attributes: number): boolean {
  return (attributes & BatchAttribute.control) !== 0;
}

export function timestampType(attributes: number): "CreateTime" | "LogAppendTime" {
  return (attributes & BatchAttribute.logAppendTime) !== 0 ? "LogAppendTime" : "CreateTime";
}

/** Rejects message sets of magic 0/1 (and unknown magics) with an error that says what they are. */
function checkMagic(buf: Buffer, at: number): void {
  const magic = buf.readInt8(at + BatchField.magic);
  if (magic === CURRENT_MAGIC) return;
  if (magic === 0 || magic === 1) {
    throw new RecordBatchError("UNSUPPORTED_MAGIC", `a magic ${magic} message set (the pre-0.11 format) is not supported; only record batches of magic 2 are`);
  }
  throw new RecordBatchError("UNSUPPORTED_MAGIC", `unknown record batch magic ${magic}`);
}

/** Total bytes of the batch starting at `at` (header included), after checking it is all there. */
export function batchSize(buf: Buffer, at = 0): number {
  if (buf.length - at < BATCH_LOG_OVERHEAD + 5) throw new RecordBatchError("TRUNCATED", `${buf.length - at} bytes cannot hold a batch header`);
  checkMagic(buf, at);
  const batchLength = buf.readInt32BE(at + BatchField.batchLength);
  if (batchLength < BATCH_HEADER_BYTES - BATCH_LOG_OVERHEAD) throw new RecordBatchError("CORRUPT_BATCH", `batchLength ${batchLength} is smaller than the header`);
  const size = BATCH_LOG_OVERHEAD + batchLength;
  if (size > buf.length - at) throw new RecordBatchError("TRUNCATED", `batch of ${size} bytes, ${buf.length - at} available`);
  return size;
}

/** Reads the header fields in place (no copy of the records). Checks magic and length, not the CRC. */
export function readBatchHeader(buf: Buffer, at = 0): RecordBatchHeader {
  const size = batchSize(buf, at);
  const recordsCount = buf.readInt32BE(at + BatchField.recordsCount);
  if (recordsCount < 0) throw new RecordBatchError("CORRUPT_BATCH", `recordsCount ${recordsCount} is negative`);
  return {
    baseOffset: buf.readBigInt64BE(at + BatchField.baseOffset),
    batchLength: size - BATCH_LOG_OVERHEAD,
    partitionLeaderEpoch: buf.readInt32BE(at + BatchField.partitionLeaderEpoch),
    magic: buf.readInt8(at + BatchField.magic),
    crc: buf.readUInt32BE(at + BatchField.crc),
    attributes: buf.readInt16BE(at + BatchField.attributes),
    lastOffsetDelta: buf.readInt32BE(at + BatchField.lastOffsetDelta),
    baseTimestamp: buf.readBigInt64BE(at + BatchField.baseTimestamp),
    maxTimestamp: buf.readBigInt64BE(at + BatchField.maxTimestamp),
    producerId: buf.readBigInt64BE(at + BatchField.producerId),
    producerEpoch: buf.readInt16BE(at + BatchField.producerEpoch),
    baseSequence: buf.readInt32BE(at + BatchField.baseSequence),
    recordsCount,
  };
}

/** Rewrites baseOffset in place. Outside the CRC's range: the CRC stays valid. */
export function setBaseOffset(buf: Buffer, baseOffset: bigint, at = 0): void {
  buf.writeBigInt64BE(baseOffset, at + BatchField.baseOffset);
}

/** Rewrites partitionLeaderEpoch in place. Outside the CRC's range: the CRC stays valid. */
export function setPartitionLeaderEpoch(buf: Buffer, epoch: number, at = 0): void {
  buf.writeInt32BE(epoch, at + BatchField.partitionLeaderEpoch);
}

/** CRC-32C of attributes..end of the batch at `at`. */
export function computeBatchCrc(buf: Buffer, at = 0, size = batchSize(buf, at)): number {
  return crc32c(buf.subarray(at + BatchField.attributes, at + size)) >>> 0;
}

export interface ValidateOptions {
  /** Decompress a compressed batch and check its records too (costly); uncompressed batches are always walked. */
  decompress?: boolean;
  maxDecompressedBytes?: number;
}

/**
 * Checks one batch: magic, sizes, CRC, and that its records number exactly recordsCount and
 * fill the batch exactly (walking the records' length prefixes; compressed batches only when
 * asked to decompress). Returns the header; throws RecordBatchError.
 */
export function validateBatch(buf: Buffer, at = 0, options: ValidateOptions = {}): RecordBatchHeader {
  const header = readBatchHeader(buf, at);
  const size = BATCH_LOG_OVERHEAD + header.batchLength;
  const crc = computeBatchCrc(buf, at, size);
  if (crc !== header.crc) throw new RecordBatchError("CRC_MISMATCH", `batch CRC is ${header.crc.toString(16)}, computed ${crc.toString(16)}`);
  const codec = compressionOf(header.attributes);
  if (codec === Compression.None) {
    countRecords(buf, at + BATCH_HEADER_BYTES, at + size, header.recordsCount);
  } else if (options.decompress) {
    const payload = decompress(codec, buf.subarray(at + BATCH_HEADER_BYTES, at + size), options.maxDecompressedBytes ?? DEFAULT_DECOMPRESSED_BYTES_MAX);
    countRecords(payload, 0, payload.length, header.recordsCount);
  }
  return header;
}

/** Walks record length prefixes only: cheap, and enough to prove count and framing. */
function countRecords(buf: Buffer, start: number, end: number, expected: number): void {
  const reader = new VarintReader(buf, start, end);
  let count = 0;
  while (reader.offset < end) {
    const length = reader.varint("record length");
    if (length < RECORD_BYTES_MIN - 1 || length > end - reader.offset) throw new RecordBatchError("RECORD_COUNT_MISMATCH", `record ${count} has length ${length} with ${end - reader.offset} bytes left`);
    reader.offset += length;
    count++;
  }
  if (count !== expected) throw new RecordBatchError("RECORD_COUNT_MISMATCH", `batch holds ${count} records, its header says ${expected}`);
}

export interface BatchSlices {
  /** Each complete batch, as a zero-copy slice. */
  batches: Buffer[];
  /** Bytes of a trailing partial batch (a Fetch response may end with one; clients skip it). */
  partialBytes: number;
}

/**
 * Splits concatenated batches (a Produce or Fetch `records` field, a log segment) into slices.
 * A trailing incomplete batch is reported, not an error; a magic 0/1 message set is.
 */
export function splitBatches(buf: Buffer): BatchSlices {
  const batches: Buffer[] = [];
  let at = 0;
  while (at < buf.length) {
    if (buf.length - at < BATCH_LOG_OVERHEAD + 5) break;
    checkMagic(buf, at);
    const batchLength = buf.readInt32BE(at + BatchField.batchLength);
    if (batchLength < BATCH_HEADER_BYTES - BATCH_LOG_OVERHEAD) throw new RecordBatchError("CORRUPT_BATCH", `batch at byte ${at}: batchLength ${batchLength} is smaller than the header`);
    const size = BATCH_LOG_OVERHEAD + batchLength;
    if (size > buf.length - at) break;
    batches.push(buf.subarray(at, at + size));
    at += size;
  }
  return { batches, partialBytes: buf.length - at };
}

export interface DecodeOptions {
  /** Bound on the decompressed records payload (default 64 MiB). */
  maxDecompressedBytes?: number;
  /** Skip the CRC check (only for bytes this process produced or already validated). */
  skipCrc?: boolean;
}

/** Decodes the batch at the start of `buf` (bytes after it are ignored): header and every record. */
export function decodeRecordBatch(buf: Buffer, options: DecodeOptions = {}): RecordBatch {
  const header = readBatchHeader(buf, 0);
  const size = BATCH_LOG_OVERHEAD + header.batchLength;
  if (!options.skipCrc) {
    const crc = computeBatchCrc(buf, 0, size);
    if (crc !== header.crc) throw new RecordBatchError("CRC_MISMATCH", `batch CRC is ${header.crc.toString(16)}, computed ${crc.toString(16)}`);
  }
  const codec = compressionOf(header.attributes);
  const raw = buf.subarray(BATCH_HEADER_BYTES, size);
  const payload = codec === Compression.None ? raw : decompress(codec, raw, options.maxDecompressedBytes ?? DEFAULT_DECOMPRESSED_BYTES_MAX);
  // Every record takes at least RECORD_BYTES_MIN bytes: a count that cannot fit is rejected first.
  if (header.recordsCount * RECORD_BYTES_MIN > payload.length) {
    throw new RecordBatchError("RECORD_COUNT_MISMATCH", `recordsCount ${header.recordsCount} cannot fit in ${payload.length} bytes`);
  }
  const reader = new VarintReader(payload, 0, payload.length);
  const records: KafkaRecord[] = [];
  for (let i = 0; i < header.recordsCount; i++) records.push(readRecord(reader));
  if (reader.offset !== payload.length) throw new RecordBatchError("RECORD_COUNT_MISMATCH", `${payload.length - reader.offset} bytes follow the batch's ${header.recordsCount} records`);
  return { ...header, records };
}

export interface RecordBatchInit {
  baseOffset?: bigint;
  partitionLeaderEpoch?: number;
  compression?: Compression;
  timestampType?: "CreateTime" | "LogAppendTime";
  transactional?: boolean;
  control?: boolean;
  /** Default: the largest offsetDelta among the records (0 when there are none). */
  lastOffsetDelta?: number;
  baseTimestamp: bigint;
  /** Default: baseTimestamp plus the largest timestampDelta. */
  maxTimestamp?: bigint;
  /** -1 when the producer is not idempotent. */
  producerId?: bigint;
  producerEpoch?: number;
  baseSequence?: number;
  records: KafkaRecord[];
}

/**
 * Encodes a batch, computing the CRC. Uncompressed batches are written into one buffer of their
 * exact size; compressed ones encode the records, compress them, then write header and payload.
 */
export function encodeRecordBatch(init: RecordBatchInit, options: CompressOptions = {}): Buffer {
  const codec = init.compression ?? Compression.None;
  compressionOf(codec);
  const bodies = init.records.map(sizeOfRecordBody);
  let recordsBytes = 0;
  for (const body of bodies) recordsBytes += sizeOfVarint(body) + body;
  let payload: Buffer | null = null;
  if (codec !== Compression.None) {
    const plain = Buffer.allocUnsafe(recordsBytes);
    let offset = 0;
    init.records.forEach((record, i) => (offset = writeRecord(plain, offset, record, bodies[i])));
    payload = compress(codec, plain, options);
  }
  const size = BATCH_HEADER_BYTES + (payload === null ? recordsBytes : payload.length);
  const buf = Buffer.allocUnsafe(size);
  let maxDelta = 0;
  let lastOffsetDelta = 0;
  for (const record of init.records) {
    if (record.timestampDelta > maxDelta) maxDelta = record.timestampDelta;
    if (record.offsetDelta > lastOffsetDelta) lastOffsetDelta = record.offsetDelta;
  }
  let attributes = codec;
  if (init.timestampType === "LogAppendTime") attributes |= BatchAttribute.logAppendTime;
  if (init.transactional) attributes |= BatchAttribute.transactional;
  if (init.control) attributes |= BatchAttribute.control;
  buf.writeBigInt64BE(init.baseOffset ?? 0n, BatchField.baseOffset);
  buf.writeInt32BE(size - BATCH_LOG_OVERHEAD, BatchField.batchLength);
  buf.writeInt32BE(init.partitionLeaderEpoch ?? -1, BatchField.partitionLeaderEpoch);
  buf.writeInt8(CURRENT_MAGIC, BatchField.magic);
  buf.writeInt16BE(attributes, BatchField.attributes);
  buf.writeInt32BE(init.lastOffsetDelta ?? lastOffsetDelta, BatchField.lastOffsetDelta);
  buf.writeBigInt64BE(init.baseTimestamp, BatchField.baseTimestamp);
  buf.writeBigInt64BE(init.maxTimestamp ?? init.baseTimestamp + BigInt(maxDelta), BatchField.maxTimestamp);
  buf.writeBigInt64BE(init.producerId ?? -1n, BatchField.producerId);
  buf.writeInt16BE(init.producerEpoch ?? -1, BatchField.producerEpoch);
  buf.writeInt32BE(init.baseSequence ?? -1, BatchField.baseSequence);
  buf.writeInt32BE(init.records.length, BatchField.recordsCount);
  if (payload === null) {
    let offset = BATCH_HEADER_BYTES;
    init.records.forEach((record, i) => (offset = writeRecord(buf, offset, record, bodies[i])));
  } else {
    payload.copy(buf, BATCH_HEADER_BYTES);
  }
  buf.writeUInt32BE(computeBatchCrc(buf, 0, size), BatchField.crc);
  return buf;
}

export interface ControlBatchInit {
  type: typeof ControlType.Commit | typeof ControlType.Abort;
  producerId: bigint;
  producerEpoch: number;
  coordinatorEpoch: number;
  timestamp: bigint;
  baseOffset?: bigint;
  partitionLeaderEpoch?: number;
}

/** The COMMIT or ABORT marker a transaction coordinator writes to each partition it touched. */
export function encodeControlBatch(init: ControlBatchInit): Buffer {
  return encodeRecordBatch({
    baseOffset: init.baseOffset,
    partitionLeaderEpoch: init.partitionLeaderEpoch,
    transactional: true,
    control: true,
    baseTimestamp: init.timestamp,
    producerId: init.producerId,
    producerEpoch: init.producerEpoch,
    baseSequence: -1,
    records: [{ attributes: 0, timestampDelta: 0, offsetDelta: 0, key: encodeControlKey(init.type), value: encodeEndTxnMarker(init.coordinatorEpoch), headers: [] }],
  });
}
