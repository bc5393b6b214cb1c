// Framing for node-to-node connections: [u32 length][u8 type][payload], length counting type +
// payload, on the shared length-prefixed reader (limit checked before allocating).
import { FrameTooLargeError, LengthPrefixedReader } from "../util/frame-reader.js";

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
  private readonly reader: LengthPrefixedReader;

  constructor(frameBytesMax: number) {
    this.reader = new LengthPrefixedReader(frameBytesMax, 1);
  }

  /** Feeds bytes; returns the complete frames. Throws FrameError on a frame outside the limits. */
  push(chunk: Buffer): Frame[] {
    try {
      return this.reader.push(chunk).map((bytes) => ({ type: bytes.readUInt8(0), payload: bytes.subarray(1) }));
    } catch (error) {
      if (error instanceof FrameTooLargeError) throw new FrameError(error.message);
      throw error;
    }
  }
}
