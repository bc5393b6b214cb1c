// Connection framing: every ZooKeeper frame is an int32 big-endian length followed by that many
// bytes. The reader collects socket chunks in a list (no quadratic re-concatenation), checks the
// length prefix against the configured maximum BEFORE allocating anything (ZooKeeper's "Len
// error": negative or above jute.maxbuffer closes the connection), and hands out each frame as
// one contiguous Buffer: a zero-copy view when the frame sits inside one chunk, one copy otherwise.
import { assert } from "../../util/assert.js";
import type { JuteWriter } from "../jute/runtime.js";
import { PACKET_BYTES_MAX_DEFAULT } from "./constants.js";

export type FrameErrorCode = "oversize" | "negative-length" | "backlog";

/** A framing violation; the connection cannot continue (the handler closes it and logs why). */
export class FrameError extends Error {
  override name = "FrameError";
  constructor(
    readonly code: FrameErrorCode,
    message: string,
    /** The offending length prefix (oversize/negative) or buffered byte count (backlog). */
    readonly length: number,
  ) {
    super(message);
  }
}

export interface FrameReaderOptions {
  /**
   * Largest frame body accepted, in bytes. Default 0xfffff, ZooKeeper's jute.maxbuffer; clients
   * and server must agree (ZooKeeper's own note: raising it on one side only breaks the other).
   */
  packetBytesMax?: number;
  /**
   * Most bytes held while waiting for the consumer to call next(). The handler drains after every
   * push and pauses the socket when it cannot keep up, so this only trips on a misbehaving caller
   * or peer. Default: two maximal frames plus 1 MiB of socket read-ahead.
   */
  bufferedBytesMax?: number;
}

export class FrameReader {
  readonly packetBytesMax: number;
  readonly bufferedBytesMax: number;
  private chunks: Buffer[] = [];
  /** Index of the first live chunk in `chunks`, and the offset of the first live byte in it. */
  private head = 0;
  private headOffset = 0;
  private buffered = 0;
  /** Once a bad prefix was seen the stream cannot be resynchronized: every later call rethrows. */
  private failure: FrameError | undefined;

  constructor(options: FrameReaderOptions = {}) {
    this.packetBytesMax = options.packetBytesMax ?? PACKET_BYTES_MAX_DEFAULT;
    assert(Number.isSafeInteger(this.packetBytesMax) && this.packetBytesMax >= 0 && this.packetBytesMax <= 0x7fffffff, "packetBytesMax must be an int32 ≥ 0");
    this.bufferedBytesMax = options.bufferedBytesMax ?? 2 * (this.packetBytesMax + 4) + 1024 * 1024;
    assert(this.bufferedBytesMax >= this.packetBytesMax + 4, "bufferedBytesMax must hold at least one maximal frame");
  }

  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Adds bytes read from the socket. The chunk is kept by reference: the caller must not reuse it. */
  push(chunk: Uint8Array): void {
    if (this.failure) throw this.failure;
    if (chunk.length === 0) return;
    if (this.buffered + chunk.length > this.bufferedBytesMax) {
      this.failure = new FrameError("backlog", `${this.buffered + chunk.length} bytes buffered exceeds ${this.bufferedBytesMax}`, this.buffered + chunk.length);
      throw this.failure;
    }
    this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.buffered += chunk.length;
  }

  /** The first `bytes` buffered bytes without consuming them (four-letter-word detection). */
  peek(bytes: number): Buffer | undefined {
    assert(bytes >= 0 && bytes <= 64, "peek is for short prefixes");
    if (this.buffered < bytes) return undefined;
    return this.copyOut(bytes, false);
  }

  /**
   * The next complete frame body, or undefined until one has fully arrived. Throws FrameError as
   * soon as a length prefix is negative or above packetBytesMax, before any body byte is buffered
   * into a frame.
   */
  next(): Buffer | undefined {
    if (this.failure) throw this.failure;
    if (this.buffered < 4) return undefined;
    const prefix = this.copyOut(4, false);
    const length = prefix.readInt32BE(0);
    if (length < 0) {
      this.failure = new FrameError("negative-length", `negative frame length ${length}`, length);
      throw this.failure;
    }
    if (length > this.packetBytesMax) {
      this.failure = new FrameError("oversize", `frame length ${length} exceeds the maximum ${this.packetBytesMax}`, length);
      throw this.failure;
    }
    if (this.buffered < 4 + length) return undefined;
    this.discard(4);
    return this.take(length);
  }

  /** Copies the first `bytes` bytes into a new Buffer, consuming them if asked. */
  private copyOut(bytes: number, consume: boolean): Buffer {
    const out = Buffer.allocUnsafe(bytes);
    let copied = 0;
    let index = this.head;
    let offset = this.headOffset;
    while (copied < bytes) {
      const chunk = this.chunks[index];
      const n = Math.min(bytes - copied, chunk.length - offset);
      chunk.copy(out, copied, offset, offset + n);
      copied += n;
      offset += n;
      if (offset === chunk.length) {
        index++;
        offset = 0;
      }
    }
    if (consume) this.advanceTo(index, offset, bytes);
    return out;
  }

  private discard(bytes: number): void {
    let index = this.head;
    let offset = this.headOffset;
    let left = bytes;
    while (left > 0) {
      const n = Math.min(left, this.chunks[index].length - offset);
      left -= n;
      offset += n;
      if (offset === this.chunks[index].length) {
        index++;
        offset = 0;
      }
    }
    this.advanceTo(index, offset, bytes);
  }

  private take(bytes: number): Buffer {
    if (bytes === 0) return Buffer.alloc(0);
    const chunk = this.chunks[this.head];
    if (chunk.length - this.headOffset >= bytes) {
      const view = chunk.subarray(this.headOffset, this.headOffset + bytes);
      const end = this.headOffset + bytes;
      this.advanceTo(end === chunk.length ? this.head + 1 : this.head, end === chunk.length ? 0 : end, bytes);
      return view;
    }
    return this.copyOut(bytes, true);
  }

  private advanceTo(index: number, offset: number, consumed: number): void {
    this.head = index;
    this.headOffset = offset;
    this.buffered -= consumed;
    assert(this.buffered >= 0, "frame reader consumed more than it buffered");
    // Drop consumed chunks in batches so the array does not grow without bound or shift per frame.
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head >= 64 && this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}

/** Starts a length-prefixed frame in `w`; pass the result to endFrame() after writing the body. */
export function beginFrame(w: JuteWriter): number {
  return w.reserveInt();
}

/** Patches the frame's length prefix with the number of body bytes written since beginFrame(). */
export function endFrame(w: JuteWriter, at: number): void {
  w.patchInt(at, w.length - at - 4);
}
