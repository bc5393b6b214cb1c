// Splits a TCP byte stream into Kafka frames: a 4-byte big-endian size, then that many bytes.
// Pure (feed it chunks, it returns frames), so it is tested without sockets and reused by any
// connection. The size is checked against the maximum BEFORE anything is allocated, and a frame
// that arrives in many chunks is kept as a list of chunks and copied exactly once when complete
// (no quadratic re-concatenation). A frame that lies inside one chunk is returned as a zero-copy
// slice of it. At most one incomplete frame is ever held, so memory is bounded by
// 4 + maxFrameBytes plus the chunk being parsed.
import { KafkaDecodeError } from "./errors.js";

/** Kafka's socket.request.max.bytes default is 100 MiB; so is ours. */
export const DEFAULT_MAX_FRAME_BYTES = 100 * 1024 * 1024;

export interface FrameReaderOptions {
  /** Largest frame body accepted, in bytes (default 100 MiB). */
  maxFrameBytes?: number;
}

export class FrameReader {
  readonly maxFrameBytes: number;
  private chunks: Buffer[] = [];
  private bufferedBytes = 0;
  /** Size of the frame being assembled, or -1 while its 4-byte prefix is incomplete. */
  private frameBytes = -1;

  constructor(options: FrameReaderOptions = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isSafeInteger(this.maxFrameBytes) || this.maxFrameBytes < 0 || this.maxFrameBytes > 0x7fffffff) {
      throw new RangeError(`maxFrameBytes must be an integer in 0..2^31-1, got ${this.maxFrameBytes}`);
    }
  }

  /** Bytes held for the incomplete frame (prefix included). */
  get pendingBytes(): number {
    return this.bufferedBytes;
  }

  /**
   * Consumes one chunk and returns the frames it completed, in order. Throws KafkaDecodeError
   * (FRAME_TOO_LARGE or NEGATIVE_FRAME_SIZE) on a bad prefix; the stream is then unusable and
   * the connection should be closed.
   */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.frameBytes < 0) {
        // Fast path: the whole prefix is in this chunk and nothing is pending.
        if (this.bufferedBytes === 0 && chunk.length - offset >= 4) {
          this.frameBytes = this.checkSize(chunk.readInt32BE(offset));
          offset += 4;
        } else {
          const take = Math.min(4 - this.bufferedBytes, chunk.length - offset);
          this.chunks.push(chunk.subarray(offset, offset + take));
          this.bufferedBytes += take;
          offset += take;
          if (this.bufferedBytes < 4) break;
          const prefix = Buffer.concat(this.chunks, 4);
          this.chunks = [];
          this.bufferedBytes = 0;
          this.frameBytes = this.checkSize(prefix.readInt32BE(0));
        }
      }
      const missing = this.frameBytes - this.bufferedBytes;
      const available = chunk.length - offset;
      if (this.bufferedBytes === 0 && available >= missing) {
        frames.push(chunk.subarray(offset, offset + missing));
        offset += missing;
        this.frameBytes = -1;
        continue;
      }
      const take = Math.min(missing, available);
      this.chunks.push(chunk.subarray(offset, offset + take));
      this.bufferedBytes += take;
      offset += take;
      if (this.bufferedBytes === this.frameBytes) {
        frames.push(Buffer.concat(this.chunks, this.frameBytes));
        this.chunks = [];
        this.bufferedBytes = 0;
        this.frameBytes = -1;
      }
    }
    return frames;
  }

  private checkSize(size: number): number {
    if (size < 0) throw new KafkaDecodeError("NEGATIVE_FRAME_SIZE", `frame size prefix is negative (${size})`);
    if (size > this.maxFrameBytes) throw new KafkaDecodeError("FRAME_TOO_LARGE", `frame of ${size} bytes exceeds the maximum of ${this.maxFrameBytes}`);
    return size;
  }
}
