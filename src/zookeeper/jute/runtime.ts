// The jute binary archive (ZooKeeper's record encoding), as the generated codecs in
// src/zookeeper/generated/ use it: int = int32 BE, long = int64 BE (a bigint here: zxids, session
// ids and ephemeralOwner need all 64 bits), boolean = one byte, ustring/buffer = int32 length +
// bytes with -1 meaning null, vector = int32 count (-1 = null) + elements.
//
// The reader is the trust boundary for bytes from clients: it never reads past the end it was
// given, checks every length against the bytes that remain BEFORE allocating anything, and
// reports malformed input as a JuteDecodeError (never a RangeError, never a huge allocation).
// The writer is for our own replies: it grows by doubling up to a named maximum.
import { ProgrammerError, assert } from "../../util/assert.js";

export type JuteDecodeErrorCode = "truncated" | "bad-length" | "bad-value";

/**
 * Malformed or truncated jute input. The connection handler maps it to MarshallingError or a close.
 * Built without a stack trace: it describes client input, not our code, and a flood of bad frames
 * should not cost a stack walk each.
 */
export class JuteDecodeError extends Error {
  override name = "JuteDecodeError";
  readonly code: JuteDecodeErrorCode;
  /** Byte offset in the input where decoding failed. */
  readonly offset: number;

  constructor(code: JuteDecodeErrorCode, message: string, offset: number) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.code = code;
    this.offset = offset;
  }
}

/** A reply that would exceed the writer's bytesMax: a bug or a misconfigured limit, never client input. */
export class JuteEncodeError extends Error {
  override name = "JuteEncodeError";
}

/** Reads jute primitives from [start, end) of a byte array; never touches bytes outside that range. */
export class JuteReader {
  private readonly buf: Buffer;
  private pos: number;
  private readonly end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    assert(start >= 0 && start <= end && end <= bytes.length, "JuteReader range outside the input");
    this.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
    this.end = end;
  }

  get position(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(bytes: number, what: string): void {
    if (this.end - this.pos < bytes) {
      throw new JuteDecodeError("truncated", `truncated ${what}: need ${bytes} bytes, ${this.end - this.pos} left`, this.pos);
    }
  }

  readInt(): number {
    this.need(4, "int");
    const value = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return value;
  }

  readLong(): bigint {
    this.need(8, "long");
    const value = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return value;
  }

  /** Like Java's DataInput.readBoolean: any non-zero byte is true. */
  readBool(): boolean {
    this.need(1, "boolean");
    return this.buf[this.pos++] !== 0;
  }

  readByte(): number {
    this.need(1, "byte");
    const value = this.buf.readInt8(this.pos);
    this.pos += 1;
    return value;
  }

  /** A length prefix for a string or buffer: -1 (null) or 0..remaining, checked before any allocation. */
  private readLength(what: string): number {
    const at = this.pos;
    const length = this.readInt();
    if (length === -1) return -1;
    if (length < 0) throw new JuteDecodeError("bad-length", `negative ${what} length ${length}`, at);
    if (length > this.end - this.pos) {
      throw new JuteDecodeError("truncated", `${what} length ${length} exceeds the ${this.end - this.pos} bytes left`, at);
    }
    return length;
  }

  /** UTF-8 text; malformed sequences become U+FFFD as in Java's new String(bytes, UTF_8). */
  readString(): string | null {
    const length = this.readLength("ustring");
    if (length === -1) return null;
    const value = this.buf.toString("utf8", this.pos, this.pos + length);
    this.pos += length;
    return value;
  }

  /** A view into the input (no copy): callers that keep it beyond the frame's life must copy it. */
  readBuffer(): Uint8Array | null {
    const length = this.readLength("buffer");
    if (length === -1) return null;
    const value = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return value;
  }

  /**
   * A vector's element count: -1 (null) or a count whose minimal encoding fits in what remains
   * (count × elementBytesMin ≤ remaining), so a hostile count cannot make us allocate.
   */
  readVectorCount(elementBytesMin: number): number {
    assert(elementBytesMin >= 1, "vector elements take at least one byte");
    const at = this.pos;
    const count = this.readInt();
    if (count === -1) return -1;
    if (count < 0) throw new JuteDecodeError("bad-length", `negative vector count ${count}`, at);
    if (count * elementBytesMin > this.end - this.pos) {
      throw new JuteDecodeError("truncated", `vector of ${count} elements cannot fit in the ${this.end - this.pos} bytes left`, at);
    }
    return count;
  }

  readVector<T>(elementBytesMin: number, readElement: (r: JuteReader) => T): T[] | null {
    const count = this.readVectorCount(elementBytesMin);
    if (count === -1) return null;
    const out: T[] = new Array<T>(count);
    for (let i = 0; i < count; i++) out[i] = readElement(this);
    return out;
  }

  readStringVector(): Array<string | null> | null {
    const count = this.readVectorCount(4);
    if (count === -1) return null;
    const out: Array<string | null> = new Array<string | null>(count);
    for (let i = 0; i < count; i++) out[i] = this.readString();
    return out;
  }
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

function viewOf(bytes: Buffer): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Default cap on one encoded reply or request; a little over jute.maxbuffer's 0xfffff. */
export const JUTE_WRITER_BYTES_MAX_DEFAULT = 64 * 1024 * 1024;

/** Writes jute primitives into a growing buffer (doubling, up to bytesMax). */
export class JuteWriter {
  private buf: Buffer;
  private dataView: DataView;
  private pos = 0;

  constructor(
    initialBytes = 256,
    /** Largest output this writer will produce; beyond it, JuteEncodeError. */
    readonly bytesMax = JUTE_WRITER_BYTES_MAX_DEFAULT,
  ) {
    assert(initialBytes > 0 && initialBytes <= bytesMax, "JuteWriter initial size must be in (0, bytesMax]");
    this.buf = Buffer.allocUnsafe(initialBytes);
    this.dataView = viewOf(this.buf);
  }

  get length(): number {
    return this.pos;
  }

  /** Forgets what was written, keeping the buffer for reuse. */
  reset(): void {
    this.pos = 0;
  }

  private ensure(bytes: number): void {
    const needed = this.pos + bytes;
    if (needed <= this.buf.length) return;
    if (needed > this.bytesMax) throw new JuteEncodeError(`encoded record would exceed ${this.bytesMax} bytes`);
    let size = this.buf.length * 2;
    while (size < needed) size *= 2;
    const grown = Buffer.allocUnsafe(Math.min(size, this.bytesMax));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
    this.dataView = viewOf(grown);
  }

  writeInt(value: number): void {
    if ((value | 0) !== value) throw new ProgrammerError(`jute int out of range: ${value}`);
    this.ensure(4);
    this.buf.writeInt32BE(value, this.pos);
    this.pos += 4;
  }

  writeLong(value: bigint): void {
    // Comparisons allocate nothing; Buffer.writeBigInt64BE allocated three BigInts per long (a
    // reply's Stat has six longs), which the profile showed as 6 % of all allocation.
    if (value > INT64_MAX || value < INT64_MIN) throw new ProgrammerError(`jute long out of range: ${value}`);
    this.ensure(8);
    this.dataView.setBigInt64(this.pos, value);
    this.pos += 8;
  }

  writeBool(value: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = value ? 1 : 0;
  }

  writeByte(value: number): void {
    if (!(value >= -128 && value <= 127 && Number.isInteger(value))) throw new ProgrammerError(`jute byte out of range: ${value}`);
    this.ensure(1);
    this.buf.writeInt8(value, this.pos);
    this.pos += 1;
  }

  writeString(value: string | null): void {
    if (value === null) {
      this.writeInt(-1);
      return;
    }
    // Reserve the worst case (3 bytes per UTF-16 unit) so one pass both encodes and measures.
    this.ensure(4 + value.length * 3);
    const start = this.pos + 4;
    let written = -1;
    if (value.length <= 64) {
      // Short ASCII strings (paths, child names) are copied in JS: cheaper than a native call each.
      const buf = this.buf;
      let i = 0;
      for (; i < value.length; i++) {
        const c = value.charCodeAt(i);
        if (c > 0x7f) break;
        buf[start + i] = c;
      }
      if (i === value.length) written = i;
    }
    if (written === -1) written = this.buf.write(value, start, "utf8");
    this.buf.writeInt32BE(written, this.pos);
    this.pos += 4 + written;
  }

  writeBuffer(value: Uint8Array | null): void {
    if (value === null) {
      this.writeInt(-1);
      return;
    }
    this.ensure(4 + value.length);
    this.buf.writeInt32BE(value.length, this.pos);
    this.buf.set(value, this.pos + 4);
    this.pos += 4 + value.length;
  }

  writeVector<T>(values: readonly T[] | null, writeElement: (w: JuteWriter, value: T) => void): void {
    if (values === null) {
      this.writeInt(-1);
      return;
    }
    this.writeInt(values.length);
    for (let i = 0; i < values.length; i++) writeElement(this, values[i]);
  }

  writeStringVector(values: ReadonlyArray<string | null> | null): void {
    if (values === null) {
      this.writeInt(-1);
      return;
    }
    this.writeInt(values.length);
    for (let i = 0; i < values.length; i++) this.writeString(values[i]);
  }

  /** Reserves an int32 (a frame's length prefix) and returns its position for patchInt(). */
  reserveInt(): number {
    this.ensure(4);
    const at = this.pos;
    this.pos += 4;
    return at;
  }

  patchInt(at: number, value: number): void {
    assert(at >= 0 && at + 4 <= this.pos, "patchInt outside the written bytes");
    this.buf.writeInt32BE(value, at);
  }

  /** A copy of the bytes written so far (safe to keep after reset()). */
  toBytes(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  /** A view of the bytes written so far; valid only until the next write or reset(). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** The generated encode/decode pair for one jute record, plus its minimal wire size. */
export interface JuteCodec<T> {
  readonly encode: (w: JuteWriter, value: T) => void;
  readonly decode: (r: JuteReader) => T;
  /** Fewest bytes one encoded value takes: bounds vector counts before allocating. */
  readonly bytesMin: number;
}
