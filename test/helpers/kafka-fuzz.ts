// The request-decoder fuzzer behind test/kafka/protocol/fuzz.test.ts and `npm run fuzz`. Every case
// is a request frame for one API key and version: a valid frame (schema-driven values, or a real
// kafkajs capture) mutated in a way that targets length fields, or random bytes behind a valid
// header. decodeRequest must either decode it or throw a KafkaDecodeError; anything else is a
// failure. Decoded results must stay proportional to the frame (no allocation the bytes do not
// pay for), and no case may take long (a hang shows as a timeout of the run).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import fc from "fast-check";
import { SeededRandom } from "../../src/util/random.js";
import { KafkaDecodeError } from "../../src/kafka/protocol/errors.js";
import { ZERO_UUID } from "../../src/kafka/protocol/reader.js";
import { decodeRequest, encodeRequest } from "../../src/kafka/protocol/request.js";
import { APIS } from "../../src/kafka/protocol/generated/registry.js";
import { arbitraryMessage, schemaByName } from "./kafka-schema-values.js";
import { repoRoot } from "./process.js";

export interface FuzzOptions {
  cases: number;
  seed: number;
  /** The decoder under test; decodeRequest unless a test plants a broken one. */
  decode?: (frame: Buffer) => unknown;
  /** Valid frames generated per (API key, version) as mutation seeds (default 2). */
  corpusPerVersion?: number;
}

export interface FuzzFailure {
  apiKey: number;
  apiVersion: number;
  frameHex: string;
  error: string;
}

export interface FuzzReport {
  cases: number;
  decoded: number;
  typedErrors: Record<string, number>;
  failures: FuzzFailure[];
  apiKeysCovered: number;
  slowestCaseMs: number;
  /** Largest ratio of a decoded value's footprint (array elements + string characters) to its frame's bytes. */
  footprintRatioMax: number;
}

const INTERESTING_32 = [0, 1, -1, -2, 0x7fffffff, -0x80000000, 0x7fff, 0x8000, 0xffff, 255, 256];
const INTERESTING_16 = [0, 1, -1, -2, 0x7fff, -0x8000, 255, 256];
const HUGE_UVARINT = [0xff, 0xff, 0xff, 0xff, 0x0f];

/** Valid request frames for every API key and version, plus the committed kafkajs captures. */
export function buildCorpus(seed: number, perVersion: number): Buffer[] {
  const corpus: Buffer[] = [];
  for (const api of APIS) {
    const schema = schemaByName(`${api.name}Request`);
    for (let version = api.lowestVersion; version <= api.highestVersion; version++) {
      const values = fc.sample(arbitraryMessage(schema, version, { arrayLengthMax: 2 }), { seed: seed + api.apiKey * 100 + version, numRuns: perVersion });
      values.forEach((value, i) => corpus.push(encodeRequest(api.apiKey, version, i, "fuzz", value).subarray(4)));
    }
  }
  const captures = JSON.parse(readFileSync(join(repoRoot, "test", "fixtures", "kafkajs", "captures.json"), "utf8")) as { captures: Array<{ frame: string }> };
  for (const capture of captures.captures) corpus.push(Buffer.from(capture.frame, "hex"));
  return corpus;
}

function mutate(random: SeededRandom, source: Buffer): Buffer {
  let frame = Buffer.from(source);
  const rounds = 1 + random.int(3);
  for (let round = 0; round < rounds; round++) {
    // Mostly leave the api key and version alone so the body decoders are the ones exercised.
    const from = random.chance(0.9) ? Math.min(4, frame.length) : 0;
    const at = from + random.int(Math.max(1, frame.length - from));
    switch (random.int(8)) {
      case 0: // flip a bit
        if (at < frame.length) frame[at] ^= 1 << random.int(8);
        break;
      case 1: // an interesting byte
        if (at < frame.length) frame[at] = [0x00, 0xff, 0x7f, 0x80, 0x01][random.int(5)];
        break;
      case 2: // an interesting int32 (array counts, bytes lengths)
        if (at + 4 <= frame.length) frame.writeInt32BE(INTERESTING_32[random.int(INTERESTING_32.length)] | 0, at);
        break;
      case 3: // an interesting int16 (string lengths)
        if (at + 2 <= frame.length) frame.writeInt16BE(INTERESTING_16[random.int(INTERESTING_16.length)], at);
        break;
      case 4: // a huge unsigned varint (compact lengths, tag counts)
        for (let i = 0; i < HUGE_UVARINT.length && at + i < frame.length; i++) frame[at + i] = HUGE_UVARINT[i];
        break;
      case 5: // truncate
        frame = frame.subarray(0, at);
        break;
      case 6: {
        // insert random bytes
        const extra = Buffer.from(Array.from({ length: 1 + random.int(8) }, () => random.int(256)));
        frame = Buffer.concat([frame.subarray(0, at), extra, frame.subarray(at)]);
        break;
      }
      default: {
        // duplicate a slice (repeated structures)
        const length = random.int(Math.max(1, frame.length - at));
        frame = Buffer.concat([frame.subarray(0, at + length), frame.subarray(at, at + length), frame.subarray(at + length)]);
      }
    }
  }
  return frame;
}

/** A valid header for a random API key and version, then random bytes. */
function randomFrame(random: SeededRandom): Buffer {
  const api = APIS[random.int(APIS.length)];
  const version = api.lowestVersion + random.int(api.highestVersion - api.lowestVersion + 1);
  const body = Buffer.from(Array.from({ length: random.int(64) }, () => (random.chance(0.3) ? [0, 0xff, 1][random.int(3)] : random.int(256))));
  const header = Buffer.alloc(8);
  header.writeInt16BE(api.apiKey, 0);
  header.writeInt16BE(version, 2);
  header.writeInt32BE(random.int(1 << 30), 4);
  return Buffer.concat([header, body]);
}

/**
 * Array elements plus string characters of a decoded value: what decoding had to allocate. The
 * zero uuid is skipped: it is the shared default literal of fields a version lacks, not decoded.
 */
function footprint(value: unknown, depth = 0): number {
  if (depth > 64) return 0;
  if (typeof value === "string") return value === ZERO_UUID ? 0 : value.length;
  if (Array.isArray(value)) return value.length + value.reduce((sum: number, item) => sum + footprint(item, depth + 1), 0);
  if (value !== null && typeof value === "object" && !Buffer.isBuffer(value)) {
    let sum = 0;
    for (const item of Object.values(value)) sum += footprint(item, depth + 1);
    return sum;
  }
  return 0;
}

export function runFuzz(options: FuzzOptions): FuzzReport {
  const random = new SeededRandom(options.seed);
  const decode = options.decode ?? decodeRequest;
  const corpus = buildCorpus(options.seed, options.corpusPerVersion ?? 2);
  const report: FuzzReport = { cases: 0, decoded: 0, typedErrors: {}, failures: [], apiKeysCovered: 0, slowestCaseMs: 0, footprintRatioMax: 0 };
  const apiKeys = new Set<number>();
  for (let i = 0; i < options.cases; i++) {
    const frame = random.chance(0.85) ? mutate(random, corpus[random.int(corpus.length)]) : randomFrame(random);
    const apiKey = frame.length >= 2 ? frame.readInt16BE(0) : -1;
    const apiVersion = frame.length >= 4 ? frame.readInt16BE(2) : -1;
    apiKeys.add(apiKey);
    const started = performance.now();
    try {
      const value = decode(frame);
      report.decoded++;
      const ratio = footprint(value) / Math.max(1, frame.length);
      if (ratio > report.footprintRatioMax) report.footprintRatioMax = ratio;
      // A uuid is 22 characters for 16 bytes; anything beyond 2x means decoding allocated what the bytes did not pay for.
      if (ratio > 2) report.failures.push({ apiKey, apiVersion, frameHex: frame.toString("hex"), error: `decoded value footprint ${ratio.toFixed(1)}x the frame` });
    } catch (error) {
      if (error instanceof KafkaDecodeError) {
        report.typedErrors[error.code] = (report.typedErrors[error.code] ?? 0) + 1;
      } else if (report.failures.length < 20) {
        report.failures.push({ apiKey, apiVersion, frameHex: frame.toString("hex"), error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      }
    }
    const elapsed = performance.now() - started;
    if (elapsed > report.slowestCaseMs) report.slowestCaseMs = elapsed;
    report.cases++;
  }
  report.apiKeysCovered = [...apiKeys].filter((key) => key >= 0 && key < APIS.length).length;
  return report;
}
