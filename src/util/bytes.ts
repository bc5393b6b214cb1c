// Small big-endian helpers over Uint8Array for pure code (no Buffer, no node: imports). 64-bit
// values are JS numbers guarded to the safe-integer range; out-of-range input yields undefined so
// decoders can turn it into their own typed error.

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function writeI64(bytes: Uint8Array, position: number, value: number): void {
  view(bytes).setBigInt64(position, BigInt(value));
}

export function readI64(bytes: Uint8Array, position: number): number | undefined {
  if (position < 0 || position + 8 > bytes.byteLength) return undefined;
  const n = Number(view(bytes).getBigInt64(position));
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * A growable big-endian writer for snapshots and commands: appends into a buffer that doubles
 * when full (amortised O(1)), bounded by `bytesMax`.
 */
export class ByteWriter {
  private buffer: Uint8Array;
  private dv: DataView;
  private length = 0;

  constructor(initialBytes = 256, private readonly bytesMax = 2 ** 31 - 1) {
    this.buffer = new Uint8Array(initialBytes);
    this.dv = new DataView(this.buffer.buffer);
  }

  private reserve(bytes: number): void {
    const needed = this.length + bytes;
    if (needed <= this.buffer.byteLength) return;
    if (needed > this.bytesMax) throw new RangeError(`ByteWriter exceeds its limit of ${this.bytesMax} bytes`);
    const grown = new Uint8Array(Math.min(this.bytesMax, Math.max(needed, this.buffer.byteLength * 2)));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
    this.dv = new DataView(grown.buffer);
  }

  u8(value: number): this {
    this.reserve(1);
    this.dv.setUint8(this.length, value);
    this.length += 1;
    return this;
  }

  i16(value: number): this {
    this.reserve(2);
    this.dv.setInt16(this.length, value);
    this.length += 2;
    return this;
  }

  i32(value: number): this {
    this.reserve(4);
    this.dv.setInt32(this.length, value);
    this.length += 4;
    return this;
  }

  u32(value: number): this {
    this.reserve(4);
    this.dv.setUint32(this.length, value);
    this.length += 4;
    return this;
  }

  i64(value: number): this {
    this.reserve(8);
    this.dv.setBigInt64(this.length, BigInt(value));
    this.length += 8;
    return this;
  }

  bytes(value: Uint8Array): this {
    this.reserve(value.byteLength);
    this.buffer.set(value, this.length);
    this.length += value.byteLength;
    return this;
  }

  /** Length-prefixed (u32) bytes. */
  blob(value: Uint8Array): this {
    return this.u32(value.byteLength).bytes(value);
  }

  string(value: string): this {
    return this.blob(new TextEncoder().encode(value));
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

/** Thrown by ByteReader when input is shorter than its structure claims. */
export class TruncatedInputError extends Error {
  override name = "TruncatedInputError";
}

/** The reading twin of ByteWriter: every read checks bounds first and throws a typed error. */
export class ByteReader {
  private readonly dv: DataView;
  position = 0;

  constructor(private readonly bytes: Uint8Array) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.byteLength - this.position;
  }

  private need(count: number): void {
    if (count < 0 || this.position + count > this.bytes.byteLength) {
      throw new TruncatedInputError(`need ${count} bytes at ${this.position}, have ${this.remaining}`);
    }
  }

  u8(): number {
    this.need(1);
    return this.dv.getUint8(this.position++);
  }

  i16(): number {
    this.need(2);
    const v = this.dv.getInt16(this.position);
    this.position += 2;
    return v;
  }

  i32(): number {
    this.need(4);
    const v = this.dv.getInt32(this.position);
    this.position += 4;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.dv.getUint32(this.position);
    this.position += 4;
    return v;
  }

  i64(): number {
    this.need(8);
    const n = Number(this.dv.getBigInt64(this.position));
    if (!Number.isSafeInteger(n)) throw new TruncatedInputError(`64-bit value at ${this.position} is outside the safe range`);
    this.position += 8;
    return n;
  }

  bytesOf(count: number): Uint8Array {
    this.need(count);
    const out = this.bytes.subarray(this.position, this.position + count);
    this.position += count;
    return out;
  }

  blob(): Uint8Array {
    return this.bytesOf(this.u32());
  }

  string(): string {
    return new TextDecoder().decode(this.blob());
  }

  end(): void {
    if (this.remaining !== 0) throw new TruncatedInputError(`${this.remaining} trailing bytes`);
  }
}
