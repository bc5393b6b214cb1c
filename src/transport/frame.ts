// Framing for node-to-node connections: [u32 length][u8 type][payload], length counting type +
// payload. The reader enforces the maximum frame size before allocating and buffers incomplete
// frames as a chunk list (no quadratic copying).

export const FRAME_HEADER_BYTES = 5;

export class FrameError extends Error {
  override name = "FrameError";
}

export interface Frame {
  type: number;
  payload: Buffer;
}

export function encodeFrame(type: number, payload: Uint8Array | readonly Uint8Array[]): Buffer[] {
  const parts = payload instanceof Uint8Array ? [payload] : payload;
  let length = 1;
  for (const p of parts) length += p.byteLength;
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32BE(length, 0);
  header.writeUInt8(type, 4);
  return [header, ...parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength)))];
}

export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly frameBytesMax: number) {}

  /** Feeds bytes; returns the complete frames. Throws FrameError on a frame over the limit. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.byteLength;
    const frames: Frame[] = [];
    while (this.buffered >= 4) {
      const length = this.peekLength();
      if (length < 1 || length > this.frameBytesMax) {
        throw new FrameError(`frame of ${length} bytes is outside 1..${this.frameBytesMax}`);
      }
      if (this.buffered < 4 + length) break;
      const bytes = this.take(4 + length);
      frames.push({ type: bytes.readUInt8(4), payload: bytes.subarray(5) });
    }
    return frames;
  }

  private peekLength(): number {
    const first = this.chunks[0];
    if (first.byteLength >= 4) return first.readUInt32BE(0);
    const head = Buffer.concat(this.chunks, Math.min(4, this.buffered));
    return head.readUInt32BE(0);
  }

  private take(count: number): Buffer {
    const first = this.chunks[0];
    let out: Buffer;
    if (first.byteLength >= count) {
      out = first.subarray(0, count);
      if (first.byteLength === count) this.chunks.shift();
      else this.chunks[0] = first.subarray(count);
    } else {
      out = Buffer.allocUnsafe(count);
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
    }
    this.buffered -= count;
    return out;
  }
}
