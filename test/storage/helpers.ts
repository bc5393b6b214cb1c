// Shared helpers for the storage tests: a controllable clock, a logger whose lines the test can
// read (bad input must produce a clear log line naming the file), and deterministic payloads.
import { Writable } from "node:stream";
import { pino } from "pino";
import type { Logger } from "../../src/util/logger.js";
import type { Clock } from "../../src/util/clock.js";

/** A clock the test moves by hand. */
export class ManualClock implements Clock {
  constructor(
    public nowMs = 1_000_000,
    public wallNowMs = 1_700_000_000_000,
  ) {}
  monotonicMs(): number {
    return this.nowMs;
  }
  wallMs(): number {
    return this.wallNowMs;
  }
  advance(ms: number): void {
    this.nowMs += ms;
    this.wallNowMs += ms;
  }
}

export interface CapturedLogger {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
  /** Lines whose message or any field mentions `text`. */
  mentioning(text: string): Array<Record<string, unknown>>;
}

/** A real pino logger writing JSON lines into an array. */
export function capturingLogger(): CapturedLogger {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const text of chunk.toString().split("\n")) if (text.trim() !== "") lines.push(JSON.parse(text) as Record<string, unknown>);
      callback();
    },
  });
  const logger = pino({ level: "debug" }, stream);
  return { logger, lines, mentioning: (text) => lines.filter((line) => JSON.stringify(line).includes(text)) };
}

/** Deterministic payload of entry `index`: length and bytes both derived from the index. */
export function payloadFor(index: number, maxBytes = 600): Buffer {
  const length = (index * 7919) % (maxBytes + 1);
  const payload = Buffer.alloc(length);
  let x = (index * 2654435761) >>> 0;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    payload[i] = x >>> 24;
  }
  return payload;
}

export function timestampFor(index: number): number {
  return 1_700_000_000_000 + index * 3;
}

export function keyFor(index: number): number {
  return index * 2;
}

/** One frame as found by walking a segment file with the documented layout (test-side parser). */
export interface FrameAt {
  index: number;
  position: number;
  frameBytes: number;
}

/** Walks the frames of a .log file by their length fields (no verification). */
export function framesOf(bytes: Buffer): FrameAt[] {
  const frames: FrameAt[] = [];
  let position = 0;
  while (position + 40 <= bytes.length) {
    const frameBytes = bytes.readUInt32LE(position + 4);
    if (frameBytes < 40 || position + frameBytes > bytes.length) break;
    frames.push({ index: bytes.readUInt32LE(position + 8), position, frameBytes });
    position += frameBytes;
  }
  return frames;
}
