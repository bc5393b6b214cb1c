// A small big-endian binary writer/reader for the coordination group's own formats (commands and
// snapshots). Pure (no node: imports): strings go through TextEncoder/TextDecoder with an ASCII
// fast path, since paths are nearly always ASCII. The reader is a trust boundary like the jute
// reader: every length is checked against the remaining bytes before allocating, and failures are
// CoordDecodeError.
import { ProgrammerError, assert } from "../util/assert.js";

export class CoordDecodeError extends Error {
  override name = "CoordDecodeError";
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });

export class ByteWriter {
  private bytes: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initialBytes = 256) {
    assert(initialBytes > 0, "ByteWriter needs a positive initial size");
    this.bytes = new Uint8Array(initialBytes);
    this.view = new DataView(this.bytes.buffer);
  }

  get length(): number {
    return this.pos;
  }

  private ensure(extra: number): void {
    const needed = this.pos + extra;
    if (needed <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < needed) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.pos));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  u8(value: number): void {
    if (!(Number.isInteger(value) && value >= 0 && value <= 0xff)) throw new ProgrammerError(`u8 out of range: ${value}`);
    this.ensure(1);
    this.bytes[this.pos++] = value;
  }

  bool(value: boolean): void {
    this.u8(value ? 1 : 0);
  }

  i32(value: number): void {
    if ((value | 0) !== value) throw new ProgrammerError(`i32 out of range: ${value}`);
    this.ensure(4);
    this.view.setInt32(this.pos, value);
    this.pos += 4;
  }

  u32(value: number): void {
    if (!(Number.isInteger(value) && value >= 0 && value <= 0xffffffff)) throw new ProgrammerError(`u32 out of range: ${value}`);
    this.ensure(4);
    this.view.setUint32(this.pos, value);
    this.pos += 4;
  }

  i64(value: bigint): void {
    // DataView wraps out-of-range bigints silently; compare (no allocation) instead of BigInt.asIntN.
    if (value < I64_MIN || value > I64_MAX) throw new ProgrammerError(`i64 out of range: ${value}`);
    this.ensure(8);
    this.view.setBigInt64(this.pos, value);
    this.pos += 8;
  }

  /** A non-negative safe integer (times in ms, counts), as 8 bytes. */
  safeInt(value: number): void {
    if (!(Number.isSafeInteger(value) && value >= 0)) throw new ProgrammerError(`not a non-negative safe integer: ${value}`);
    this.ensure(8);
    this.view.setUint32(this.pos, Math.floor(value / 0x100000000));
    this.view.setUint32(this.pos + 4, value >>> 0);
    this.pos += 8;
  }

  string(value: string): void {
    // ASCII fast path: one byte per code unit, no TextEncoder call.
    let ascii = true;
    for (let i = 0; i < value.length; i++) {
      if (value.charCodeAt(i) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      this.u32(value.length);
      this.ensure(value.length);
      for (let i = 0; i < value.length; i++) this.bytes[this.pos + i] = value.charCodeAt(i);
      this.pos += value.length;
      return;
    }
    this.ensure(4 + value.length * 3);
    const { written } = encoder.encodeInto(value, this.bytes.subarray(this.pos + 4));
    this.view.setUint32(this.pos, written);
    this.pos += 4 + written;
  }

  /** Bytes or null (length -1). */
  bytesOrNull(value: Uint8Array | null): void {
    if (value === null) {
      this.i32(-1);
      return;
    }
    this.i32(value.length);
    this.ensure(value.length);
    this.bytes.set(value, this.pos);
    this.pos += value.length;
  }

  /**
   * The bytes written so far, copied into an exactly-sized array from `allocate` (a fresh
   * Uint8Array by default; a front-end may pass Node's pooled Buffer.allocUnsafe for short-lived
   * results, which is several times cheaper than a new ArrayBuffer).
   */
  finish(allocate: (size: number) => Uint8Array = (size) => new Uint8Array(size)): Uint8Array {
    const out = allocate(this.pos);
    if (out.length !== this.pos) throw new ProgrammerError(`allocate(${this.pos}) returned ${out.length} bytes`);
    out.set(this.bytes.subarray(0, this.pos));
    return out;
  }

  /** Forgets what was written, keeping the buffer (a reusable scratch writer). */
  reset(): void {
    this.pos = 0;
  }

  /** Hands out what was written so far and starts over (for chunked snapshots). */
  takeChunk(): Uint8Array {
    const chunk = this.bytes.slice(0, this.pos);
    this.pos = 0;
    return chunk;
  }
}

export class ByteReader {
  private readonly view: DataView;
  private pos = 0;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get position(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  private need(count: number, what: string): void {
    if (this.bytes.length - this.pos < count) throw new CoordDecodeError(`truncated ${what}`, this.pos);
  }

  u8(): number {
    this.need(1, "u8");
    return this.bytes[this.pos++];
  }

  bool(): boolean {
    const value = this.u8();
    if (value > 1) throw new CoordDecodeError(`bad boolean ${value}`, this.pos - 1);
    return value === 1;
  }

  i32(): number {
    this.need(4, "i32");
    const value = this.view.getInt32(this.pos);
    this.pos += 4;
    return value;
  }

  u32(): number {
    this.need(4, "u32");
    const value = this.view.getUint32(this.pos);
    this.pos += 4;
    return value;
  }

  i64(): bigint {
    this.need(8, "i64");
    const value = this.view.getBigInt64(this.pos);
    this.pos += 8;
    return value;
  }

  safeInt(): number {
    this.need(8, "safe integer");
    const high = this.view.getUint32(this.pos);
    const low = this.view.getUint32(this.pos + 4);
    if (high > 0x1fffff) throw new CoordDecodeError("integer beyond 2^53", this.pos);
    this.pos += 8;
    return high * 0x100000000 + low;
  }

  /** A count of items that each take at least `itemBytesMin` bytes: checked against what remains. */
  count(itemBytesMin: number, countMax: number, what: string): number {
    const at = this.pos;
    const value = this.u32();
    if (value > countMax) throw new CoordDecodeError(`${what} count ${value} exceeds ${countMax}`, at);
    if (value * itemBytesMin > this.remaining) throw new CoordDecodeError(`${what} count ${value} cannot fit in ${this.remaining} bytes`, at);
    return value;
  }

  string(bytesMax: number): string {
    const at = this.pos;
    const length = this.u32();
    if (length > bytesMax) throw new CoordDecodeError(`string of ${length} bytes exceeds ${bytesMax}`, at);
    this.need(length, "string");
    const start = this.pos;
    this.pos += length;
    let ascii = true;
    for (let i = start; i < start + length; i++) {
      if (this.bytes[i] > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (!ascii) return decoder.decode(this.bytes.subarray(start, start + length));
    // String.fromCharCode over a short ASCII run is much cheaper than a TextDecoder call (apply
    // takes the typed array as an array-like: no iterator, no copy into a JS array).
    let out = "";
    for (let i = start; i < start + length; i += 4096) {
      out += String.fromCharCode.apply(null, this.bytes.subarray(i, Math.min(i + 4096, start + length)) as unknown as number[]);
    }
    return out;
  }

  /** Bytes or null; the result is a copy, so it does not pin the command or snapshot buffer. */
  bytesOrNull(bytesMax: number): Uint8Array | null {
    const at = this.pos;
    const length = this.i32();
    if (length === -1) return null;
    if (length < 0 || length > bytesMax) throw new CoordDecodeError(`bad byte length ${length}`, at);
    this.need(length, "bytes");
    const value = this.bytes.slice(this.pos, this.pos + length);
    this.pos += length;
    return value;
  }

  expectEnd(what: string): void {
    if (this.pos !== this.bytes.length) throw new CoordDecodeError(`${this.bytes.length - this.pos} trailing bytes after ${what}`, this.pos);
  }
}
