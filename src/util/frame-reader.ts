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
  private chunks: Buffer[] = [];
  private buffered = 0;

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

  /** Feeds bytes; returns the payloads of the frames completed. Throws FrameTooLargeError. */
  push(chunk: Buffer): Buffer[] {
    if (chunk.byteLength === 0) return [];
    this.chunks.push(chunk);
    this.buffered += chunk.byteLength;
    const frames: Buffer[] = [];
    while (this.buffered >= 4) {
      const length = this.peekLength();
      if (length < this.frameBytesMin || length > this.frameBytesMax) throw new FrameTooLargeError(length, this.frameBytesMax);
      if (this.buffered < 4 + length) break;
      this.skip(4);
      frames.push(this.take(length));
    }
    return frames;
  }

  private peekLength(): number {
    const first = this.chunks[0];
    if (first.byteLength >= 4) return first.readInt32BE(0);
    return Buffer.concat(this.chunks, 4).readInt32BE(0);
  }

  private skip(count: number): void {
    this.take(count);
  }

  private take(count: number): Buffer {
    this.buffered -= count;
    const first = this.chunks[0];
    if (count === 0) return Buffer.alloc(0);
    if (first.byteLength >= count) {
      if (first.byteLength === count) this.chunks.shift();
      else this.chunks[0] = first.subarray(count);
      return first.subarray(0, count);
    }
    const out = Buffer.allocUnsafe(count);
    let filled = 0;
    while (filled < count) {
      const chunk = this.chunks[0];
      const need = count - filled;
      if (chunk.byteLength <= need) {
        chunk.copy(out, filled);
        filled += chunk.byteLength;
        this.chunks.shift();
      } else {
        chunk.copy(out, filled, 0, need);
        this.chunks[0] = chunk.subarray(need);
        filled += need;
      }
    }
    return out;
  }
}
