// Fuzzing the ZooKeeper request decoder: random and mutated frames for every op code a client may
// send, through decodeRequest. A run fails when the decoder throws anything but a typed
// RequestDecodeError (a crash in the server), returns more decoded bytes than the frame could
// hold (an allocation driven by a hostile length), or takes too long on one frame (a hang).
// Also pushes random byte streams through the frame reader with random chunking.
//
//   npm run fuzz:zk -- [--seed N] [--per-op N]        (default: random seed, 200,000 frames per op)
// The test suite runs the same harness with a fixed seed and fewer iterations
// (test/zookeeper/fuzz.test.ts). Every failure names the seed and iteration that reproduce it.
import { pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";
import { SeededRandom } from "../src/util/random.js";
import { FrameTooLargeError } from "../src/util/frame-reader.js";
import { JUTE_SCHEMA } from "../src/zookeeper/generated/jute.js";
import { JuteWriter } from "../src/zookeeper/jute/runtime.js";
import type { JuteClass, JuteType } from "../src/zookeeper/jute/schema.js";
import { OpCode, PACKET_BYTES_MAX_DEFAULT } from "../src/zookeeper/protocol/constants.js";
import { createFrameReader } from "../src/zookeeper/protocol/frame.js";
import type { MultiOp, MultiReadOp } from "../src/zookeeper/protocol/multi.js";
import { CLIENT_OP_CODES, OPS, RequestDecodeError, decodeRequest, encodeRequest, type ClientOpCode, type OpSpec } from "../src/zookeeper/protocol/requests.js";

const CLASSES = new Map<string, JuteClass>(JUTE_SCHEMA.classes.map((cls) => [cls.name, cls]));

/** A random value of a jute type, biased toward edge cases (nulls, empty, -1, extremes). */
function randomValue(type: JuteType, random: SeededRandom, depth = 0): unknown {
  switch (type.kind) {
    case "int":
      return random.chance(0.3) ? [0, -1, 1, 0x7fffffff, -0x80000000][random.int(5)] : random.nextUint32() | 0;
    case "long":
      return random.chance(0.3) ? [0n, -1n, 1n, 2n ** 63n - 1n, -(2n ** 63n)][random.int(5)] : BigInt.asIntN(64, (BigInt(random.nextUint32()) << 32n) | BigInt(random.nextUint32()));
    case "boolean":
      return random.chance(0.5);
    case "byte":
      return random.int(256) - 128;
    case "ustring": {
      if (random.chance(0.1)) return null;
      const length = random.int(12);
      let text = random.chance(0.7) ? "/" : "";
      for (let i = 0; i < length; i++) text += String.fromCharCode(random.chance(0.9) ? 0x20 + random.int(0x5f) : random.int(0x3000));
      return text;
    }
    case "buffer":
      return random.chance(0.1) ? null : Uint8Array.from({ length: random.int(24) }, () => random.int(256));
    case "vector":
      return random.chance(0.1) || depth > 2 ? null : Array.from({ length: random.int(4) }, () => randomValue(type.element, random, depth + 1));
    case "record": {
      const value: Record<string, unknown> = {};
      for (const field of CLASSES.get(type.name)!.fields) value[field.name] = randomValue(field.type, random, depth + 1);
      return value;
    }
  }
}

const MULTI_WRITE_TYPES = [OpCode.create, OpCode.create2, OpCode.createContainer, OpCode.createTTL, OpCode.delete, OpCode.setData, OpCode.check] as const;
const REQUEST_CLASS: Record<number, string> = {
  [OpCode.create]: "CreateRequest",
  [OpCode.create2]: "CreateRequest",
  [OpCode.createContainer]: "CreateRequest",
  [OpCode.createTTL]: "CreateTTLRequest",
  [OpCode.delete]: "DeleteRequest",
  [OpCode.setData]: "SetDataRequest",
  [OpCode.check]: "CheckVersionRequest",
  [OpCode.getData]: "GetDataRequest",
  [OpCode.getChildren]: "GetChildrenRequest",
};

function randomBody(opCode: ClientOpCode, random: SeededRandom): unknown {
  if (opCode === OpCode.multi || opCode === OpCode.multiRead) {
    const types = opCode === OpCode.multi ? MULTI_WRITE_TYPES : ([OpCode.getData, OpCode.getChildren] as const);
    const ops = Array.from({ length: random.int(5) }, () => {
      const type = types[random.int(types.length)];
      const request = randomValue({ kind: "record", name: REQUEST_CLASS[type] }, random) as Record<string, unknown>;
      if ("flags" in request && random.chance(0.8)) request.flags = random.int(7);
      return { type, request };
    });
    return { ops: ops as unknown as Array<MultiOp | MultiReadOp> };
  }
  const spec = OPS[opCode] as OpSpec;
  if (spec.request === null) return null;
  return randomValue({ kind: "record", name: requestClassOf(opCode) }, random);
}

/** The jute class of each op's request body (the dispatch table holds codecs, not names). */
const REQUEST_CLASS_OF_OP: Partial<Record<ClientOpCode, string>> = {
  [OpCode.create]: "CreateRequest",
  [OpCode.delete]: "DeleteRequest",
  [OpCode.exists]: "ExistsRequest",
  [OpCode.getData]: "GetDataRequest",
  [OpCode.setData]: "SetDataRequest",
  [OpCode.getACL]: "GetACLRequest",
  [OpCode.setACL]: "SetACLRequest",
  [OpCode.getChildren]: "GetChildrenRequest",
  [OpCode.sync]: "SyncRequest",
  [OpCode.getChildren2]: "GetChildren2Request",
  [OpCode.check]: "CheckVersionRequest",
  [OpCode.create2]: "CreateRequest",
  [OpCode.reconfig]: "ReconfigRequest",
  [OpCode.checkWatches]: "CheckWatchesRequest",
  [OpCode.removeWatches]: "RemoveWatchesRequest",
  [OpCode.createContainer]: "CreateRequest",
  [OpCode.createTTL]: "CreateTTLRequest",
  [OpCode.auth]: "AuthPacket",
  [OpCode.setWatches]: "SetWatches",
  [OpCode.sasl]: "GetSASLRequest",
  [OpCode.getEphemerals]: "GetEphemeralsRequest",
  [OpCode.getAllChildrenNumber]: "GetAllChildrenNumberRequest",
  [OpCode.setWatches2]: "SetWatches2",
  [OpCode.addWatch]: "AddWatchRequest",
};

function requestClassOf(opCode: ClientOpCode): string {
  const name = REQUEST_CLASS_OF_OP[opCode];
  if (!name) throw new Error(`no request class for op ${opCode}`);
  return name;
}

const INTERESTING_INTS = [0, -1, -2, 1, 0x7fffffff, -0x80000000, 0xfffff, 0x100000, 65536, 255];

/** One mutation of a valid frame: bit flips, extreme ints, truncation, insertion, splicing. */
function mutate(frame: Buffer, random: SeededRandom): Buffer {
  // Most mutations keep the 8-byte header so they reach the op's body decoder.
  if (frame.length > 8 && random.chance(0.8)) return Buffer.concat([frame.subarray(0, 8), mutateBytes(frame.subarray(8), random)]);
  return mutateBytes(frame, random);
}

function mutateBytes(frame: Buffer, random: SeededRandom): Buffer {
  const rounds = 1 + random.int(4);
  let bytes = Buffer.from(frame);
  for (let k = 0; k < rounds; k++) {
    const choice = random.int(6);
    if (bytes.length === 0) bytes = Buffer.from([random.int(256)]);
    const at = random.int(bytes.length);
    if (choice === 0) {
      bytes[at] ^= 1 << random.int(8);
    } else if (choice === 1 && bytes.length >= 4) {
      // Overwrite an int32 (often a length or count) with an edge value.
      const pos = random.int(bytes.length - 3);
      bytes.writeInt32BE(INTERESTING_INTS[random.int(INTERESTING_INTS.length)], pos);
    } else if (choice === 2) {
      bytes = bytes.subarray(0, at);
    } else if (choice === 3) {
      const extra = Buffer.from(Array.from({ length: 1 + random.int(8) }, () => random.int(256)));
      bytes = Buffer.concat([bytes.subarray(0, at), extra, bytes.subarray(at)]);
    } else if (choice === 4) {
      bytes[at] = [0x00, 0xff, 0x7f, 0x80][random.int(4)];
    } else {
      const from = random.int(bytes.length);
      const length = random.int(Math.min(16, bytes.length - from) + 1);
      bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(from, from + length), bytes.subarray(at)]);
    }
  }
  return bytes;
}

/** Bytes a decoded value holds (strings, buffers, array slots), to bound what a frame can make us allocate. */
function heldBytes(value: unknown): number {
  let total = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next === "string") total += next.length;
    else if (next instanceof Uint8Array) total += next.length;
    else if (Array.isArray(next)) {
      total += next.length;
      for (const item of next) pending.push(item);
    } else if (next !== null && typeof next === "object") {
      for (const item of Object.values(next)) pending.push(item);
    }
  }
  return total;
}

export interface FuzzOptions {
  seed: number;
  /** Frames per op code (half mutated valid frames, the rest random or header-swapped). */
  framesPerOp: number;
  /** The decoder under test; the real one by default (tests plant broken ones to prove the checks). */
  decode?: (frame: Buffer) => unknown;
  /** A single decode slower than this counts as a hang. */
  decodeMsMax?: number;
}

export interface FuzzReport {
  seed: number;
  frames: number;
  decoded: number;
  rejected: { header: number; "unknown-op": number; body: number };
  /** Untyped exceptions, oversize results or hangs, with how to reproduce them (at most 20 kept). */
  failures: string[];
  failureCount: number;
  slowestDecodeMs: number;
  elapsedMs: number;
}

export function fuzzRequestDecoder(options: FuzzOptions): FuzzReport {
  const decode = options.decode ?? decodeRequest;
  const decodeMsMax = options.decodeMsMax ?? 1000;
  const random = new SeededRandom(options.seed);
  const writer = new JuteWriter(256, PACKET_BYTES_MAX_DEFAULT * 4);
  const report: FuzzReport = { seed: options.seed, frames: 0, decoded: 0, rejected: { header: 0, "unknown-op": 0, body: 0 }, failures: [], failureCount: 0, slowestDecodeMs: 0, elapsedMs: 0 };
  const started = performance.now();
  const fail = (message: string): void => {
    report.failureCount++;
    if (report.failures.length < 20) report.failures.push(`seed ${options.seed} frame ${report.frames}: ${message}`);
  };
  for (const opCode of CLIENT_OP_CODES) {
    for (let i = 0; i < options.framesPerOp; i++) {
      writer.reset();
      encodeRequest(writer, random.nextUint32() | 0, opCode, randomBody(opCode, random) as never);
      let frame = writer.toBytes();
      const kind = random.int(10);
      if (kind < 6) frame = mutate(frame, random);
      else if (kind === 6) frame = Buffer.from(Array.from({ length: random.int(64) }, () => random.int(256)));
      else if (kind === 7 && frame.length >= 8) frame.writeInt32BE(CLIENT_OP_CODES[random.int(CLIENT_OP_CODES.length)], 4); // body of one op under another's header
      report.frames++;
      const t0 = performance.now();
      try {
        const value = decode(frame);
        report.decoded++;
        if (heldBytes(value) > frame.length * 2 + 64) fail(`decoded value holds ${heldBytes(value)} bytes from a ${frame.length}-byte frame (hex ${frame.toString("hex").slice(0, 200)})`);
      } catch (error) {
        if (error instanceof RequestDecodeError) report.rejected[error.reason]++;
        else fail(`untyped ${(error as Error)?.name}: ${(error as Error)?.message} (op ${opCode}, hex ${frame.toString("hex").slice(0, 200)})`);
      }
      const ms = performance.now() - t0;
      if (ms > report.slowestDecodeMs) report.slowestDecodeMs = ms;
      if (ms > decodeMsMax) fail(`decode took ${ms.toFixed(1)} ms (op ${opCode})`);
    }
  }
  report.elapsedMs = performance.now() - started;
  return report;
}

/** Random streams through the frame reader: only frames ≤ max or FrameTooLargeError, never another error. */
export function fuzzFrameReader(options: { seed: number; streams: number; packetBytesMax?: number }): { frames: number; rejected: number; failures: string[] } {
  const random = new SeededRandom(options.seed);
  const max = options.packetBytesMax ?? 1024;
  const result = { frames: 0, rejected: 0, failures: [] as string[] };
  for (let s = 0; s < options.streams; s++) {
    const parts: Buffer[] = [];
    for (let f = 0; f < 1 + random.int(6); f++) {
      const length = random.chance(0.9) ? random.int(max + 1) : [max + 1, -1, 0x7fffffff, -0x80000000][random.int(4)];
      const prefix = Buffer.alloc(4);
      prefix.writeInt32BE(length, 0);
      parts.push(prefix, Buffer.alloc(Math.max(0, Math.min(length, max)), random.int(256)));
    }
    const stream = Buffer.concat(parts);
    const reader = createFrameReader(max);
    let at = 0;
    try {
      while (at < stream.length) {
        const size = 1 + random.int(Math.min(64, stream.length - at));
        for (const frame of reader.push(stream.subarray(at, at + size))) {
          result.frames++;
          if (frame.length > max) result.failures.push(`seed ${options.seed} stream ${s}: frame of ${frame.length} bytes`);
        }
        at += size;
      }
    } catch (error) {
      if (error instanceof FrameTooLargeError) result.rejected++;
      else result.failures.push(`seed ${options.seed} stream ${s}: ${(error as Error).message}`);
    }
  }
  return result;
}

function main(argv: string[]): number {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i === -1 ? undefined : argv[i + 1];
  };
  const seed = Number(arg("seed") ?? Math.floor(Math.random() * 2 ** 31));
  const framesPerOp = Number(arg("per-op") ?? 200_000);
  process.stderr.write(`zk-fuzz: seed ${seed}, ${framesPerOp} frames per op code, ${CLIENT_OP_CODES.length} op codes\n`);
  const report = fuzzRequestDecoder({ seed, framesPerOp });
  const frames = fuzzFrameReader({ seed, streams: Math.max(1000, framesPerOp / 10) });
  process.stdout.write(JSON.stringify({ ...report, frameReader: frames }) + "\n");
  return report.failureCount === 0 && frames.failures.length === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
