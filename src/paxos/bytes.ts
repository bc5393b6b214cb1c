// Bounded binary encoding helpers for the Paxos codecs: big-endian fixed-width fields on a
// DataView. The reader checks every length against the bytes that remain and against a named
// maximum before allocating, and reports bad input as a typed PaxosDecodeError, never as a crash
// or an unbounded allocation (STYLE.md §7, §8).
import { assert } from "../util/assert.js";

/** Thrown for malformed or oversized input: an operating error (bad bytes), not a bug. */
export class PaxosDecodeError extends Error {
  override name = "PaxosDecodeError";
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} (at byte ${offset})`);
  }
}

const TWO_POW_32 = 4294967296;

export class ByteWriter {
  private bytes: Uint8Array;
  private view: DataView;
  private length = 0;

  constructor(capacityBytes = 64) {
    assert(Number.isSafeInteger(capacityBytes) && capacityBytes > 0, "writer capacity");
    this.bytes = new Uint8Array(capacityBytes);
    this.view = new DataView(this.bytes.buffer);
  }

  get lengthBytes(): number {
    return this.length;
  }

  private reserve(extraBytes: number): void {
    const needed = this.length + extraBytes;
    if (needed <= this.bytes.length) return;
    let capacity = this.bytes.length * 2;
    while (capacity < needed) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }

  u8(value: number): this {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xff, `u8 out of range: ${value}`);
    this.reserve(1);
    this.bytes[this.length++] = value;
    return this;
  }

  u32(value: number): this {
    assert(Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff, `u32 out of range: ${value}`);
    this.reserve(4);
    this.view.setUint32(this.length, value);
    this.length += 4;
    return this;
  }

  /** A non-negative safe integer as 64 bits (high word first). */
  u64(value: number): this {
    assert(Number.isSafeInteger(value) && value >= 0, `u64 out of range: ${value}`);
    this.reserve(8);
    this.view.setUint32(this.length, Math.floor(value / TWO_POW_32));
    this.view.setUint32(this.length + 4, value >>> 0);
    this.length += 8;
    return this;
  }

  bool(value: boolean): this {
    return this.u8(value ? 1 : 0);
  }

  /** A u32 length followed by the bytes. */
  blob(data: Uint8Array): this {
    this.u32(data.length);
    this.reserve(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
    return this;
  }

  raw(data: Uint8Array): this {
    this.reserve(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
    return this;
  }

  /** The written bytes (a view over the internal buffer; the writer must not be reused). */
  finish(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

export class ByteReader {
  private readonly view: DataView;
  private position = 0;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get offset(): number {
    return this.position;
  }

  get remainingBytes(): number {
    return this.bytes.length - this.position;
  }

  fail(message: string): never {
    throw new PaxosDecodeError(message, this.position);
  }

  private need(countBytes: number): void {
    if (this.bytes.length - this.position < countBytes) this.fail(`truncated: need ${countBytes} bytes, ${this.remainingBytes} left`);
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.position++];
  }

  u32(): number {
    this.need(4);
    const value = this.view.getUint32(this.position);
    this.position += 4;
    return value;
  }

  u64(): number {
    this.need(8);
    const high = this.view.getUint32(this.position);
    const low = this.view.getUint32(this.position + 4);
    this.position += 8;
    if (high > 0x1f_ffff) this.fail("64-bit value above the safe integer range");
    return high * TWO_POW_32 + low;
  }

  bool(): boolean {
    const value = this.u8();
    if (value > 1) this.fail(`bad boolean ${value}`);
    return value === 1;
  }

  /**
   * A u32 element count, checked against `countMax` and against the bytes left, assuming each
   * element takes at least `minElementBytes`: a lying count cannot make us allocate.
   */
  count(countMax: number, minElementBytes: number): number {
    const value = this.u32();
    if (value > countMax) this.fail(`count ${value} above the maximum ${countMax}`);
    if (value * minElementBytes > this.remainingBytes) this.fail(`count ${value} cannot fit in ${this.remainingBytes} bytes`);
    return value;
  }

  /** A u32-length-prefixed byte string, bounded by `lengthMax`; a view, not a copy. */
  blob(lengthMax: number): Uint8Array {
    const length = this.u32();
    if (length > lengthMax) this.fail(`length ${length} above the maximum ${lengthMax}`);
    this.need(length);
    const data = this.bytes.subarray(this.position, this.position + length);
    this.position += length;
    return data;
  }

  end(): void {
    if (this.position !== this.bytes.length) this.fail(`${this.remainingBytes} trailing bytes`);
  }
}
