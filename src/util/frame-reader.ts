// Length-prefixed framing shared by every TCP protocol synod speaks (Kafka, ZooKeeper, the peer
// transport): a 4-byte big-endian length, then that many bytes. The limit is checked on the length
// field BEFORE anything is allocated, and partial frames are kept as a list of chunks that is
// concatenated once, when the frame is complete (no quadratic re-copying of a growing buffer).

export class FrameTooLargeError extends Error {
  override name = "FrameTooLargeError";
  constructor(
    readonly frameBytes: number,
    readonly frameBytesMax: number,
  ) {
    super(`frame of ${frameBytes} bytes is outside 0..${frameBytesMax}`);
  }
}

export class LengthPrefixedReader {
  /** Live chunks are chunks[head..]; consumed ones are dropped in batches, never shifted one by one. */
  private chunks: Buffer[] = [];
  private head = 0;
  private buffered = 0;
  /** The current frame's payload length once its prefix has been read and checked; -1 before. */
  private pendingLength = -1;

  /**
   * @param frameBytesMax largest payload accepted (excluding the 4-byte prefix)
   * @param frameBytesMin smallest payload accepted (e.g. 1 when a type byte must follow)
   */
  constructor(
    private readonly frameBytesMax: number,
    private readonly frameBytesMin = 0,
  ) {}

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Feeds bytes; returns the payloads of the frames completed. Throws FrameTooLargeError. Each
   * call costs O(chunk + completed frames) however the peer slices its bytes (a peer trickling
   * one byte per packet must not make every push rescan the whole partial frame).
   */
  push(chunk: Buffer): Buffer[] {
    if (chunk.byteLength === 0) return [];
    this.chunks.push(chunk);
    this.buffered += chunk.byteLength;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.pendingLength === -1) {
        if (this.buffered < 4) break;
        const length = this.take(4).readInt32BE(0);
        if (length < this.frameBytesMin || length > this.frameBytesMax) throw new FrameTooLargeError(length, this.frameBytesMax);
        this.pendingLength = length;
      }
      if (this.buffered < this.pendingLength) break;
      frames.push(this.take(this.pendingLength));
      this.pendingLength = -1;
    }
    return frames;
  }

  private take(count: number): Buffer {
    this.buffered -= count;
    if (count === 0) return Buffer.alloc(0);
    const first = this.chunks[this.head];
    let out: Buffer;
    if (first.byteLength >= count) {
      out = first.subarray(0, count);
      if (first.byteLength === count) this.head++;
      else this.chunks[this.head] = first.subarray(count);
    } else {
      out = Buffer.allocUnsafe(count);
      let filled = 0;
      while (filled < count) {
        const chunk = this.chunks[this.head];
        const need = count - filled;
        if (chunk.byteLength <= need) {
          chunk.copy(out, filled);
          filled += chunk.byteLength;
          this.head++;
        } else {
          chunk.copy(out, filled, 0, need);
          this.chunks[this.head] = chunk.subarray(need);
          filled += need;
        }
      }
    }
    if (this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    return out;
  }
}
