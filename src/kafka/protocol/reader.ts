// The primitive decoder the generated codecs call. One Reader walks one buffer; every read checks
// the bytes it needs against `end` first, and every length or count is checked against what
// remains BEFORE anything is allocated, so a hostile 12-byte frame cannot make us reserve
// gigabytes (the same rule Kafka's generated Java follows: a collection may not claim more
// elements than there are bytes left). Variable-length byte fields (`bytes`, `records`, unknown
// tagged fields) are returned as zero-copy slices of the input: they alias the frame, which stays
// alive as long as any slice of it does.
import { KafkaDecodeError } from "./errors.js";

/** A tagged field the schema does not know at this version, kept verbatim so re-encoding preserves it. */
export interface TaggedField {
  tag: number;
  data: Buffer;
}

/** Kafka limits every string, classic or compact, to 32767 bytes (Java's generated readers check it). */
export const STRING_BYTES_MAX = 0x7fff;
/** The all-zero uuid, Kafka's default for uuid fields, in our canonical form (base64url, 22 chars). */
export const ZERO_UUID = "AAAAAAAAAAAAAAAAAAAAAA";
/** Shared zero-length buffer for defaults; zero bytes cannot be mutated, so sharing is safe. */
export const EMPTY_BYTES: Buffer = Buffer.alloc(0);

export class Reader {
  offset: number;
  /** Exclusive end of the readable region; narrowed while a tagged field is decoded. */
  end: number;

  constructor(
    readonly buf: Buffer,
    offset = 0,
    end = buf.length,
  ) {
    this.offset = offset;
    this.end = end;
  }

  remaining(): number {
    return this.end - this.offset;
  }

  fail(code: ConstructorParameters<typeof KafkaDecodeError>[0], message: string): never {
    throw new KafkaDecodeError(code, `${message} at byte ${this.offset}`, this.offset);
  }

  need(bytes: number): void {
    if (this.end - this.offset < bytes) this.fail("TRUNCATED", `need ${bytes} bytes, ${this.end - this.offset} remain`);
  }

  int8(): number {
    this.need(1);
    return this.buf.readInt8(this.offset++);
  }

  bool(): boolean {
    this.need(1);
    return this.buf[this.offset++] !== 0;
  }

  int16(): number {
    this.need(2);
    const value = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  uint16(): number {
    this.need(2);
    const value = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  int32(): number {
    this.need(4);
    const value = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  uint32(): number {
    this.need(4);
    const value = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  int64(): bigint {
    this.need(8);
    const value = this.buf.readBigInt64BE(this.offset);
    this.offset += 8;
    return value;
  }

  float64(): number {
    this.need(8);
    const value = this.buf.readDoubleBE(this.offset);
    this.offset += 8;
    return value;
  }

  uuid(): string {
    this.need(16);
    const value = this.buf.toString("base64url", this.offset, this.offset + 16);
    this.offset += 16;
    return value;
  }

  /** Unsigned LEB128 varint of at most 5 bytes and at most 2^32-1 (Kafka's readUnsignedVarint). */
  uvarint(): number {
    const buf = this.buf;
    let offset = this.offset;
    if (offset >= this.end) this.fail("TRUNCATED", "need a varint");
    let byte = buf[offset++];
    if (byte < 0x80) {
      this.offset = offset;
      return byte;
    }
    let value = byte & 0x7f;
    let multiplier = 0x80;
    for (let i = 1; i < 5; i++) {
      if (offset >= this.end) this.fail("TRUNCATED", "varint runs past the end");
      byte = buf[offset++];
      value += (byte & 0x7f) * multiplier;
      if (byte < 0x80) {
        if (value > 0xffffffff) this.fail("VARINT_TOO_LONG", "unsigned varint above 2^32-1");
        this.offset = offset;
        return value;
      }
      multiplier *= 0x80;
    }
    return this.fail("VARINT_TOO_LONG", "unsigned varint longer than 5 bytes");
  }

  private utf8(length: number): string {
    if (length > STRING_BYTES_MAX) this.fail("STRING_TOO_LONG", `string of ${length} bytes`);
    this.need(length);
    const start = this.offset;
    this.offset += length;
    return this.buf.toString("utf8", start, start + length);
  }

  private slice(length: number): Buffer {
    this.need(length);
    const start = this.offset;
    this.offset += length;
    return this.buf.subarray(start, start + length);
  }

  /** STRING: int16 length, then UTF-8. A negative length means null, which this field forbids. */
  string(): string {
    const length = this.int16();
    if (length < 0) this.fail("NULL_NOT_ALLOWED", "null string in a non-nullable field");
    return this.utf8(length);
  }

  nullableString(): string | null {
    const length = this.int16();
    return length < 0 ? null : this.utf8(length);
  }

  /** COMPACT_STRING: unsigned varint length+1 (0 is null), then UTF-8. */
  compactString(): string {
    const lengthPlusOne = this.uvarint();
    if (lengthPlusOne === 0) this.fail("NULL_NOT_ALLOWED", "null compact string in a non-nullable field");
    return this.utf8(lengthPlusOne - 1);
  }

  compactNullableString(): string | null {
    const lengthPlusOne = this.uvarint();
    return lengthPlusOne === 0 ? null : this.utf8(lengthPlusOne - 1);
  }

  /** BYTES (and records): int32 length, then the bytes as a zero-copy slice. */
  bytes(): Buffer {
    const length = this.int32();
    if (length < 0) this.fail("NULL_NOT_ALLOWED", "null bytes in a non-nullable field");
    return this.slice(length);
  }

  nullableBytes(): Buffer | null {
    const length = this.int32();
    return length < 0 ? null : this.slice(length);
  }

  compactBytes(): Buffer {
    const lengthPlusOne = this.uvarint();
    if (lengthPlusOne === 0) this.fail("NULL_NOT_ALLOWED", "null compact bytes in a non-nullable field");
    return this.slice(lengthPlusOne - 1);
  }

  compactNullableBytes(): Buffer | null {
    const lengthPlusOne = this.uvarint();
    return lengthPlusOne === 0 ? null : this.slice(lengthPlusOne - 1);
  }

  /** Raw bytes of a known length (an unknown tagged field's payload). */
  raw(length: number): Buffer {
    return this.slice(length);
  }

  /**
   * Checks an element count against the bytes left: each element needs at least
   * `elementBytesMin` (>= 1) bytes, so a count that cannot fit is rejected before any allocation.
   */
  private checkCount(count: number, elementBytesMin: number): number {
    if (count * elementBytesMin > this.end - this.offset) {
      this.fail("INVALID_LENGTH", `array of ${count} elements of at least ${elementBytesMin} bytes, ${this.end - this.offset} bytes remain`);
    }
    return count;
  }

  /** ARRAY: int32 count. Returns the count; a null array is an error here. */
  arrayLength(elementBytesMin: number): number {
    const count = this.int32();
    if (count < 0) this.fail("NULL_NOT_ALLOWED", "null array in a non-nullable field");
    return this.checkCount(count, elementBytesMin);
  }

  /** Returns -1 for a null array. */
  nullableArrayLength(elementBytesMin: number): number {
    const count = this.int32();
    return count < 0 ? -1 : this.checkCount(count, elementBytesMin);
  }

  compactArrayLength(elementBytesMin: number): number {
    const countPlusOne = this.uvarint();
    if (countPlusOne === 0) this.fail("NULL_NOT_ALLOWED", "null compact array in a non-nullable field");
    return this.checkCount(countPlusOne - 1, elementBytesMin);
  }

  /** Returns -1 for a null array. */
  compactNullableArrayLength(elementBytesMin: number): number {
    const countPlusOne = this.uvarint();
    return countPlusOne === 0 ? -1 : this.checkCount(countPlusOne - 1, elementBytesMin);
  }

  /** Reads the tagged-field count; each field takes at least 2 bytes (tag and size varints). */
  taggedFieldCount(): number {
    return this.checkCount(this.uvarint(), 2);
  }

  /**
   * Narrows the readable region to one tagged field's `size` bytes; returns the previous end,
   * which endTagged() restores after checking the field was consumed exactly.
   */
  beginTagged(size: number): number {
    this.need(size);
    const previousEnd = this.end;
    this.end = this.offset + size;
    return previousEnd;
  }

  endTagged(previousEnd: number): void {
    if (this.offset !== this.end) this.fail("TAG_SIZE_MISMATCH", `tagged field left ${this.end - this.offset} bytes unread`);
    this.end = previousEnd;
  }

  /** A struct's nullability marker in classic encoding: int8, negative means null. */
  structMarker(): boolean {
    return this.int8() >= 0;
  }
}
