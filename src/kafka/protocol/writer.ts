// The primitive encoder the generated codecs call. Encoding is two passes: the generated size
// functions compute the exact byte count (validating the value on the way), then one Buffer of
// that size is allocated and the write functions fill it front to back. No intermediate buffers,
// no concatenation: `records` and `bytes` are copied exactly once, into their final place.
import { KafkaEncodeError } from "./errors.js";
import { STRING_BYTES_MAX, type TaggedField } from "./reader.js";

const UUID_PATTERN = /^[A-Za-z0-9_-]{21}[AQgw]$/;

export function sizeOfUvarint(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

function utf8Length(value: string | null, what: string): number {
  if (typeof value !== "string") throw new KafkaEncodeError("NULL_NOT_ALLOWED", `${what}: expected a string, got ${value === null ? "null" : typeof value}`);
  const length = Buffer.byteLength(value, "utf8");
  if (length > STRING_BYTES_MAX) throw new KafkaEncodeError("VALUE_OUT_OF_RANGE", `${what}: string of ${length} bytes exceeds ${STRING_BYTES_MAX}`);
  return length;
}

/**
 * Several buffers that encode as one `bytes`/`records` value, never concatenated: a Fetch
 * response's record batches come from several storage reads and go to the socket as they are.
 * Pass one where a Buffer is expected (cast), e.g. `records: new BufferList(slices) as unknown as Buffer`.
 */
export class BufferList {
  readonly length: number;
  constructor(readonly parts: readonly Buffer[]) {
    let length = 0;
    for (const part of parts) length += part.length;
    this.length = length;
  }
}

function bufferLength(value: Buffer | null, what: string): number {
  if (value instanceof BufferList) return value.length;
  if (!Buffer.isBuffer(value)) throw new KafkaEncodeError("NULL_NOT_ALLOWED", `${what}: expected a Buffer, got ${value === null ? "null" : typeof value}`);
  return value.length;
}

export function checkUuid(value: string, what: string): void {
  if (typeof value !== "string" || !UUID_PATTERN.test(value)) {
    throw new KafkaEncodeError("INVALID_UUID", `${what}: ${JSON.stringify(value)} is not a canonical base64url uuid`);
  }
}

export function checkArray(value: unknown, what: string): void {
  if (!Array.isArray(value)) throw new KafkaEncodeError("NULL_NOT_ALLOWED", `${what}: expected an array, got ${value === null ? "null" : typeof value}`);
}

export function checkStruct<T>(value: T | null, what: string): asserts value is T {
  if (value === null || typeof value !== "object") throw new KafkaEncodeError("NULL_NOT_ALLOWED", `${what}: expected an object, got ${value === null ? "null" : typeof value}`);
}

export function sizeOfString(value: string | null, what: string): number {
  return 2 + utf8Length(value, what);
}

export function sizeOfNullableString(value: string | null, what: string): number {
  return value === null ? 2 : 2 + utf8Length(value, what);
}

export function sizeOfCompactString(value: string | null, what: string): number {
  const length = utf8Length(value, what);
  return sizeOfUvarint(length + 1) + length;
}

export function sizeOfCompactNullableString(value: string | null, what: string): number {
  if (value === null) return 1;
  const length = utf8Length(value, what);
  return sizeOfUvarint(length + 1) + length;
}

export function sizeOfBytes(value: Buffer | null, what: string): number {
  return 4 + bufferLength(value, what);
}

export function sizeOfNullableBytes(value: Buffer | null, what: string): number {
  return value === null ? 4 : 4 + bufferLength(value, what);
}

export function sizeOfCompactBytes(value: Buffer | null, what: string): number {
  const length = bufferLength(value, what);
  return sizeOfUvarint(length + 1) + length;
}

export function sizeOfCompactNullableBytes(value: Buffer | null, what: string): number {
  if (value === null) return 1;
  const length = bufferLength(value, what);
  return sizeOfUvarint(length + 1) + length;
}

/**
 * Size of the unknown tagged fields of a struct, checking they are in strictly ascending tag
 * order and do not reuse a tag the schema defines (`knownTags`, sorted) for this struct.
 */
export function sizeOfUnknownTaggedFields(fields: readonly TaggedField[], knownTags: readonly number[], what: string): number {
  let size = 0;
  let previousTag = -1;
  for (const field of fields) {
    if (!Number.isSafeInteger(field.tag) || field.tag <= previousTag || field.tag > 0xffffffff || knownTags.includes(field.tag)) {
      throw new KafkaEncodeError("TAG_ORDER", `${what}: unknown tagged field ${field.tag} is out of order or clashes with a known tag`);
    }
    previousTag = field.tag;
    const length = bufferLength(field.data, `${what} tag ${field.tag}`);
    size += sizeOfUvarint(field.tag) + sizeOfUvarint(length) + length;
  }
  return size;
}

export class Writer {
  offset: number;
  /**
   * Gather mode (see startGather): byte fields of at least this many bytes are not copied; the
   * output becomes a list of chunks alternating between this buffer's slices and those fields.
   */
  private gatherBytesMin = Infinity;
  private chunks: Buffer[] = [];
  private cut = 0;

  constructor(
    readonly buf: Buffer,
    offset = 0,
  ) {
    this.offset = offset;
  }

  /**
   * Switches to gather mode: large `bytes`/`records` values are referenced instead of copied, and
   * finishGather() returns the chunks (for socket.cork/write/uncork, i.e. writev). The buffer keeps
   * their space unwritten (allocUnsafe leaves it untouched), so the size pass stays the same.
   */
  startGather(bytesMin: number): void {
    this.gatherBytesMin = bytesMin;
    this.chunks = [];
    this.cut = this.offset;
  }

  finishGather(): Buffer[] {
    if (this.offset > this.cut) this.chunks.push(this.buf.subarray(this.cut, this.offset));
    this.cut = this.offset;
    return this.chunks;
  }

  int8(value: number): void {
    this.offset = this.buf.writeInt8(value, this.offset);
  }

  bool(value: boolean): void {
    this.buf[this.offset++] = value ? 1 : 0;
  }

  int16(value: number): void {
    this.offset = this.buf.writeInt16BE(value, this.offset);
  }

  uint16(value: number): void {
    this.offset = this.buf.writeUInt16BE(value, this.offset);
  }

  int32(value: number): void {
    this.offset = this.buf.writeInt32BE(value, this.offset);
  }

  uint32(value: number): void {
    this.offset = this.buf.writeUInt32BE(value, this.offset);
  }

  int64(value: bigint): void {
    this.offset = this.buf.writeBigInt64BE(value, this.offset);
  }

  float64(value: number): void {
    this.offset = this.buf.writeDoubleBE(value, this.offset);
  }

  /** The uuid was validated by the size pass (checkUuid); base64url decodes to exactly 16 bytes. */
  uuid(value: string): void {
    this.offset += this.buf.write(value, this.offset, 16, "base64url");
  }

  uvarint(value: number): void {
    const buf = this.buf;
    let offset = this.offset;
    while (value >= 0x80) {
      buf[offset++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 0x80);
    }
    buf[offset++] = value;
    this.offset = offset;
  }

  private utf8(value: string): void {
    this.offset += this.buf.write(value, this.offset, "utf8");
  }

  // The non-nullable writers accept `| null` in their types only because generated code cannot
  // narrow a field whose nullability depends on the version; the size pass has rejected nulls.
  string(value: string | null): void {
    this.int16(Buffer.byteLength(value!, "utf8"));
    this.utf8(value!);
  }

  nullableString(value: string | null): void {
    if (value === null) this.int16(-1);
    else this.string(value);
  }

  compactString(value: string | null): void {
    this.uvarint(Buffer.byteLength(value!, "utf8") + 1);
    this.utf8(value!);
  }

  compactNullableString(value: string | null): void {
    if (value === null) this.uvarint(0);
    else this.compactString(value);
  }

  raw(value: Buffer): void {
    if ((value as unknown) instanceof BufferList) {
      for (const part of (value as unknown as BufferList).parts) this.raw(part);
      return;
    }
    if (value.length >= this.gatherBytesMin) {
      if (this.offset > this.cut) this.chunks.push(this.buf.subarray(this.cut, this.offset));
      this.chunks.push(value);
      this.offset += value.length;
      this.cut = this.offset;
      return;
    }
    this.offset += value.copy(this.buf, this.offset);
  }

  bytes(value: Buffer | null): void {
    this.int32(value!.length);
    this.raw(value!);
  }

  nullableBytes(value: Buffer | null): void {
    if (value === null) this.int32(-1);
    else this.bytes(value);
  }

  compactBytes(value: Buffer | null): void {
    this.uvarint(value!.length + 1);
    this.raw(value!);
  }

  compactNullableBytes(value: Buffer | null): void {
    if (value === null) this.uvarint(0);
    else this.compactBytes(value);
  }

  /** Writes the unknown tagged fields from index `from` whose tag is below `belowTag`; returns the next index. */
  unknownTaggedFields(fields: readonly TaggedField[], from: number, belowTag: number): number {
    let index = from;
    while (index < fields.length && fields[index].tag < belowTag) {
      const field = fields[index++];
      this.uvarint(field.tag);
      this.uvarint(field.data.length);
      this.raw(field.data);
    }
    return index;
  }
}
