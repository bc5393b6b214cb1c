// Signed (zigzag) varints of the record format: varint for 32-bit values, varlong for 64-bit ones.
// Varlongs are decoded into JavaScript numbers; a value beyond ±2^53 (a timestamp delta of more
// than 285,000 years) is reported as a corrupt record rather than silently rounded.
import { RecordBatchError } from "./errors.js";

export function sizeOfVarint(value: number): number {
  return sizeOfUnsigned(value >= 0 ? value * 2 : -value * 2 - 1);
}

function sizeOfUnsigned(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    size++;
  }
  return size;
}

/** Writes a zigzag varint (or varlong, for any safe integer); returns the next offset. */
export function writeVarint(buf: Buffer, offset: number, value: number): number {
  let unsigned = value >= 0 ? value * 2 : -value * 2 - 1;
  while (unsigned >= 0x80) {
    buf[offset++] = (unsigned % 0x80) | 0x80;
    unsigned = Math.floor(unsigned / 0x80);
  }
  buf[offset++] = unsigned;
  return offset;
}

/** A decoding cursor over one record region; `end` bounds every read. */
export class VarintReader {
  constructor(
    readonly buf: Buffer,
    public offset: number,
    readonly end: number,
  ) {}

  private unsigned(maxBytes: number, what: string): number {
    const buf = this.buf;
    let value = 0;
    let multiplier = 1;
    for (let i = 0; i < maxBytes; i++) {
      if (this.offset >= this.end) throw new RecordBatchError("TRUNCATED", `${what} runs past the end of the record`);
      const byte = buf[this.offset++];
      value += (byte & 0x7f) * multiplier;
      if (byte < 0x80) {
        if (value > Number.MAX_SAFE_INTEGER) throw new RecordBatchError("CORRUPT_RECORD", `${what} is beyond 2^53`);
        return value;
      }
      multiplier *= 0x80;
    }
    throw new RecordBatchError("CORRUPT_RECORD", `${what} is longer than ${maxBytes} bytes`);
  }

  /** Zigzag varint of at most 5 bytes, an int32. */
  varint(what: string): number {
    const unsigned = this.unsigned(5, what);
    if (unsigned > 0xffffffff) throw new RecordBatchError("CORRUPT_RECORD", `${what} does not fit 32 bits`);
    return unsigned % 2 === 0 ? unsigned / 2 : -(unsigned + 1) / 2;
  }

  /** Zigzag varlong of at most 10 bytes, as a safe-integer number. */
  varlong(what: string): number {
    const unsigned = this.unsigned(10, what);
    return unsigned % 2 === 0 ? unsigned / 2 : -(unsigned + 1) / 2;
  }

  int8(what: string): number {
    if (this.offset >= this.end) throw new RecordBatchError("TRUNCATED", `${what} runs past the end of the record`);
    return this.buf.readInt8(this.offset++);
  }

  /** A length-prefixed byte field (-1 is null) as a zero-copy slice. */
  bytes(what: string): Buffer | null {
    const length = this.varint(what);
    if (length < -1) throw new RecordBatchError("CORRUPT_RECORD", `${what} has length ${length}`);
    if (length === -1) return null;
    if (length > this.end - this.offset) throw new RecordBatchError("TRUNCATED", `${what} of ${length} bytes runs past the end of the record`);
    const start = this.offset;
    this.offset += length;
    return this.buf.subarray(start, start + length);
  }
}
