// One record inside a v2 batch, and the control records transactions write. Layout (Kafka's
// DefaultRecord): varint length, int8 attributes (unused), varlong timestampDelta, varint
// offsetDelta, varint key length (-1 = null) and key, varint value length and value, varint header
// count, then per header a varint key length with a UTF-8 key and a varint value length (-1 =
// null) with the value. Keys, values and header values decode as zero-copy slices.
import { RecordBatchError } from "./errors.js";
import { VarintReader, sizeOfVarint, writeVarint } from "./varint.js";

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface KafkaRecord {
  /** Unused by Kafka today; kept so a re-encoded record is byte-identical. */
  attributes: number;
  /** Milliseconds after the batch's baseTimestamp. */
  timestampDelta: number;
  /** Position after the batch's baseOffset. */
  offsetDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/** The smallest possible record: length, attributes, 2 deltas, null key, null value, no headers. */
export const RECORD_BYTES_MIN = 7;
/** Headers per record we decode before calling the record corrupt (each header takes >= 2 bytes anyway). */
const HEADER_KEY_BYTES_MAX = 0x7fff;

function checkSafe(value: number, what: string): void {
  if (!Number.isSafeInteger(value)) throw new RecordBatchError("CORRUPT_RECORD", `${what} is not a safe integer: ${value}`);
}

/** Size of a record's body, without its own length prefix. */
export function sizeOfRecordBody(record: KafkaRecord): number {
  checkSafe(record.timestampDelta, "timestampDelta");
  checkSafe(record.offsetDelta, "offsetDelta");
  let size = 1 + sizeOfVarint(record.timestampDelta) + sizeOfVarint(record.offsetDelta);
  size += record.key === null ? 1 : sizeOfVarint(record.key.length) + record.key.length;
  size += record.value === null ? 1 : sizeOfVarint(record.value.length) + record.value.length;
  size += sizeOfVarint(record.headers.length);
  for (const header of record.headers) {
    const keyBytes = Buffer.byteLength(header.key, "utf8");
    size += sizeOfVarint(keyBytes) + keyBytes;
    size += header.value === null ? 1 : sizeOfVarint(header.value.length) + header.value.length;
  }
  return size;
}

export function sizeOfRecord(record: KafkaRecord): number {
  const body = sizeOfRecordBody(record);
  return sizeOfVarint(body) + body;
}

/** Writes one record (length prefix included) at `offset`; returns the next offset. */
export function writeRecord(buf: Buffer, offset: number, record: KafkaRecord, bodyBytes = sizeOfRecordBody(record)): number {
  offset = writeVarint(buf, offset, bodyBytes);
  const start = offset;
  buf.writeInt8(record.attributes, offset++);
  offset = writeVarint(buf, offset, record.timestampDelta);
  offset = writeVarint(buf, offset, record.offsetDelta);
  offset = writeNullableBytes(buf, offset, record.key);
  offset = writeNullableBytes(buf, offset, record.value);
  offset = writeVarint(buf, offset, record.headers.length);
  for (const header of record.headers) {
    const keyBytes = Buffer.byteLength(header.key, "utf8");
    offset = writeVarint(buf, offset, keyBytes);
    offset += buf.write(header.key, offset, "utf8");
    offset = writeNullableBytes(buf, offset, header.value);
  }
  if (offset - start !== bodyBytes) throw new RecordBatchError("CORRUPT_RECORD", `record wrote ${offset - start} bytes, sized ${bodyBytes}`);
  return offset;
}

function writeNullableBytes(buf: Buffer, offset: number, value: Buffer | null): number {
  if (value === null) return writeVarint(buf, offset, -1);
  offset = writeVarint(buf, offset, value.length);
  return offset + value.copy(buf, offset);
}

/** Reads one record at reader.offset; the record's length prefix bounds every read inside it. */
export function readRecord(reader: VarintReader): KafkaRecord {
  const length = reader.varint("record length");
  if (length < RECORD_BYTES_MIN - 1 || length > reader.end - reader.offset) {
    throw new RecordBatchError(length < 0 ? "CORRUPT_RECORD" : "TRUNCATED", `record length ${length} with ${reader.end - reader.offset} bytes left`);
  }
  const body = new VarintReader(reader.buf, reader.offset, reader.offset + length);
  const attributes = body.int8("record attributes");
  const timestampDelta = body.varlong("timestampDelta");
  const offsetDelta = body.varint("offsetDelta");
  const key = body.bytes("record key");
  const value = body.bytes("record value");
  const headerCount = body.varint("header count");
  // Each header takes at least 2 bytes: a count that cannot fit is rejected before allocating.
  if (headerCount < 0 || headerCount * 2 > body.end - body.offset) throw new RecordBatchError("CORRUPT_RECORD", `header count ${headerCount} with ${body.end - body.offset} bytes left`);
  const headers: RecordHeader[] = [];
  for (let i = 0; i < headerCount; i++) {
    const keyBytes = body.bytes("header key");
    if (keyBytes === null || keyBytes.length > HEADER_KEY_BYTES_MAX) throw new RecordBatchError("CORRUPT_RECORD", "header key is null or too long");
    headers.push({ key: keyBytes.toString("utf8"), value: body.bytes("header value") });
  }
  if (body.offset !== body.end) throw new RecordBatchError("CORRUPT_RECORD", `record has ${body.end - body.offset} bytes after its headers`);
  reader.offset = body.end;
  return { attributes, timestampDelta, offsetDelta, key, value, headers };
}

/** Control record types (the key's second int16): transaction markers and KRaft's own. */
export const ControlType = { Abort: 0, Commit: 1, LeaderChange: 2, SnapshotHeader: 3, SnapshotFooter: 4, KRaftVersion: 5, KRaftVoters: 6 } as const;

export interface ControlRecordKey {
  version: number;
  type: number;
}

/** A transaction marker's value: version 0, then the coordinator epoch. */
export interface EndTxnMarker {
  version: number;
  coordinatorEpoch: number;
}

export function encodeControlKey(type: number, version = 0): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(version, 0);
  key.writeInt16BE(type, 2);
  return key;
}

export function decodeControlKey(key: Buffer | null): ControlRecordKey {
  if (key === null || key.length < 4) throw new RecordBatchError("CORRUPT_RECORD", "control record key must hold int16 version and int16 type");
  return { version: key.readInt16BE(0), type: key.readInt16BE(2) };
}

export function encodeEndTxnMarker(coordinatorEpoch: number, version = 0): Buffer {
  const value = Buffer.alloc(6);
  value.writeInt16BE(version, 0);
  value.writeInt32BE(coordinatorEpoch, 2);
  return value;
}

export function decodeEndTxnMarker(value: Buffer | null): EndTxnMarker {
  if (value === null || value.length < 6) throw new RecordBatchError("CORRUPT_RECORD", "transaction marker value must hold int16 version and int32 coordinator epoch");
  return { version: value.readInt16BE(0), coordinatorEpoch: value.readInt32BE(2) };
}
