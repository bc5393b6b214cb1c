// Goal: the log behaves exactly like a trivially correct in-memory log under any sequence of
// append / sync / read (with budgets) / lookups / truncateSuffix / compactPrefix / retention /
// close-and-reopen (clean, and with the active segment's index removed as after a crash), with
// rolls by size and age, backpressure, and every fsync policy.
// Method: fast-check generates the operations and the log's limits (tiny segments and index
// intervals, so a few dozen operations cross many segment and index boundaries); each operation
// runs on a real log in a temp directory and on the model, and every observable is compared.
// The seed is fixed and printed; SYNOD_TEST_SEED=<n> replays another one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { SegmentedLog, type SegmentedLogOptions } from "../../src/storage/segmented-log.js";
import { BackpressureError, IndexCompactedError, IndexOutOfRangeError } from "../../src/storage/errors.js";
import type { StorageFsyncPolicy } from "../../src/storage/fsync-policy.js";
import { silentLogger } from "../../src/util/logger.js";
import { FRAME_HEADER_BYTES } from "../../src/storage/frame.js";
import { ManualClock, payloadFor } from "./helpers.js";

interface ModelEntry {
  index: number;
  timestamp: number;
  key: number;
  payload: Buffer;
}

/** The reference: an array. Obviously correct, hopelessly slow, never persisted. */
class Model {
  first: number;
  entries: ModelEntry[] = [];
  /**
   * Keys of every entry since the last reset, compacted ones included: the log requires keys to
   * be non-decreasing across all entries still on disk, which compaction may leave in place.
   */
  private keys: number[] = [];
  constructor(first: number) {
    this.first = first;
  }
  get next(): number {
    return this.first + this.entries.length;
  }
  get lastKey(): number {
    return this.keys.at(-1) ?? 0;
  }
  push(entry: ModelEntry): void {
    this.entries.push(entry);
    this.keys.push(entry.key);
  }
  truncate(index: number): void {
    this.keys.length -= this.next - index;
    this.entries.length = index - this.first;
  }
  compact(index: number): void {
    if (index <= this.first) return;
    if (index > this.next) this.keys = []; // compacting past the end resets the log
    if (index >= this.next) this.entries = [];
    else this.entries = this.entries.slice(index - this.first);
    this.first = index;
  }
  lookupByKey(key: number): number | undefined {
    let found: number | undefined;
    for (const e of this.entries) if (e.key <= key) found = e.index;
    return found;
  }
  lookupByTimestamp(timestamp: number): number | undefined {
    return this.entries.find((e) => e.timestamp >= timestamp)?.index;
  }
}

type Op =
  | { kind: "append"; entries: Array<{ bytes: number; keyStep: number; timestamp: number }> }
  | { kind: "sync" }
  | { kind: "read"; from: number; maxEntries: number | undefined; maxBytes: number | undefined; span: number | undefined }
  | { kind: "readAll"; maxBytes: number }
  | { kind: "lookupKey"; at: number }
  | { kind: "lookupTime"; timestamp: number }
  | { kind: "truncate"; at: number }
  | { kind: "compact"; at: number }
  | { kind: "retention"; bytesMax: number | undefined; ageMsMax: number | undefined }
  | { kind: "reopen"; dropActiveIndex: boolean }
  | { kind: "advanceClock"; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("append" as const), entries: fc.array(fc.record({ bytes: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 5000 })), keyStep: fc.integer({ min: 0, max: 3 }), timestamp: fc.integer({ min: 0, max: 1000 }) }), { minLength: 1, maxLength: 25, size: "max" }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: "sync" as const }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("read" as const), from: fc.double({ min: -0.1, max: 1.1, noNaN: true }), maxEntries: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }), maxBytes: fc.option(fc.integer({ min: 1, max: 20000 }), { nil: undefined }), span: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("readAll" as const), maxBytes: fc.integer({ min: 1, max: 50000 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("lookupKey" as const), at: fc.double({ min: -0.1, max: 1.1, noNaN: true }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("lookupTime" as const), timestamp: fc.integer({ min: -5, max: 1005 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("truncate" as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("compact" as const), at: fc.double({ min: 0, max: 1.1, noNaN: true }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("retention" as const), bytesMax: fc.option(fc.integer({ min: 0, max: 60000 }), { nil: undefined }), ageMsMax: fc.option(fc.integer({ min: 0, max: 5000 }), { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("reopen" as const), dropActiveIndex: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("advanceClock" as const), ms: fc.integer({ min: 0, max: 1500 }) }) },
);

interface Limits {
  segmentBytesMax: number;
  indexIntervalBytes: number;
  writeBufferBytesMax: number;
  writeChunkBytes: number;
  fsync: StorageFsyncPolicy;
  initialIndex: number;
}

const limitsArb: fc.Arbitrary<Limits> = fc.record({
  segmentBytesMax: fc.integer({ min: 1024, max: 40000 }),
  indexIntervalBytes: fc.integer({ min: 1, max: 4096 }),
  writeBufferBytesMax: fc.integer({ min: 6000, max: 80000 }),
  writeChunkBytes: fc.integer({ min: 64, max: 8192 }),
  fsync: fc.constantFrom<StorageFsyncPolicy>("always", "never", "interval:3"),
  initialIndex: fc.constantFrom(0, 1, 1000),
}).map((limits) => ({ ...limits, indexIntervalBytes: Math.min(limits.indexIntervalBytes, limits.segmentBytesMax) }));

/** Picks an index in [low, high] from a fraction (values outside [0, 1] land outside the range). */
function pick(fraction: number, low: number, high: number): number {
  return Math.floor(low + fraction * (high - low + 1));
}

/** Coverage counters: the test reports them, so a generator that stops reaching a case shows. */
const coverage = { runs: 0, ops: 0, entries: 0, segmentsMax: 0, backpressure: 0, truncations: 0, resets: 0, reopens: 0 };

async function run(limits: Limits, ops: Op[]): Promise<void> {
  coverage.runs++;
  if (process.env.SYNOD_MODEL_TRACE) process.stderr.write(`run ${coverage.runs} ${JSON.stringify(limits)} ops ${ops.length} at ${performance.now().toFixed(0)}\n`);
  const dir = mkdtempSync(join(tmpdir(), "synod-model-"));
  const clock = new ManualClock();
  const options: SegmentedLogOptions = {
    dir,
    clock,
    logger: silentLogger(),
    ...limits,
    writeChunkBytes: Math.min(limits.writeChunkBytes, limits.writeBufferBytesMax),
    segmentAgeMsMax: 1000,
    entryBytesMax: 5000,
    indexCacheSegmentsMax: 2,
  };
  const model = new Model(limits.initialIndex);
  let log = await SegmentedLog.open(options);
  let sequence = 0;
  try {
    for (const op of ops) {
      coverage.ops++;
      await apply(op);
      coverage.segmentsMax = Math.max(coverage.segmentsMax, log.segmentCount);
      assert.equal(log.firstIndex, model.first, `firstIndex after ${op.kind}`);
      assert.equal(log.lastIndex, model.next - 1, `lastIndex after ${op.kind}`);
      assert.ok(log.syncedIndex <= log.lastIndex);
    }
    await readAll(1 << 20);
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }

  async function apply(op: Op): Promise<void> {
    switch (op.kind) {
      case "append":
        for (const spec of op.entries) {
          const entry = { index: model.next, timestamp: spec.timestamp, key: model.lastKey + spec.keyStep, payload: payloadFor(sequence++, spec.bytes) };
          if (entry.payload.length !== spec.bytes) entry.payload = Buffer.alloc(spec.bytes, sequence % 251);
          let index: number;
          for (;;) {
            try {
              index = log.append({ timestamp: entry.timestamp, key: entry.key, payload: entry.payload });
              break;
            } catch (error) {
              assert.ok(error instanceof BackpressureError, `${String(error)}\ncaused by ${((error as Error).cause as Error | undefined)?.stack}`);
              coverage.backpressure++;
              await log.flush();
            }
          }
          assert.equal(index, entry.index);
          model.push(entry);
          coverage.entries++;
        }
        return;
      case "sync":
        await log.sync();
        assert.equal(log.syncedIndex, log.lastIndex);
        return;
      case "read":
        return checkRead(pick(op.from, model.first, model.next), op);
      case "readAll":
        return readAll(op.maxBytes);
      case "lookupKey": {
        const keys = model.entries.map((e) => e.key);
        const key = pick(op.at, (keys[0] ?? 0) - 2, (keys.at(-1) ?? 0) + 2);
        assert.equal(await log.lookupByKey(key), model.lookupByKey(key), `lookupByKey(${key})`);
        return;
      }
      case "lookupTime":
        assert.equal(await log.lookupByTimestamp(op.timestamp), model.lookupByTimestamp(op.timestamp), `lookupByTimestamp(${op.timestamp})`);
        return;
      case "truncate": {
        const index = pick(op.at, model.first, model.next);
        await log.truncateSuffix(Math.min(index, model.next));
        if (index < model.next) coverage.truncations++;
        model.truncate(Math.min(index, model.next));
        assert.equal(log.syncedIndex, log.lastIndex, "truncateSuffix leaves everything durable");
        return;
      }
      case "compact": {
        const index = pick(op.at, model.first, model.next + 2);
        await log.compactPrefix(index);
        if (index > model.next) coverage.resets++;
        model.compact(index);
        return;
      }
      case "retention": {
        const before = log.firstIndex;
        const result = await log.applyRetention({ bytesMax: op.bytesMax, ageMsMax: op.ageMsMax });
        assert.ok(result.firstIndex >= before && result.firstIndex <= model.next);
        if (op.bytesMax !== undefined) assert.ok(log.sizeBytes <= op.bytesMax || log.segmentCount === 1 || op.ageMsMax !== undefined);
        model.compact(result.firstIndex);
        return;
      }
      case "reopen": {
        await log.close();
        if (op.dropActiveIndex) {
          const last = readdirSync(dir).filter((n) => n.endsWith(".log")).sort().at(-1)!;
          for (const ext of [".index", ".timeindex"]) {
            const path = join(dir, last.replace(/\.log$/, ext));
            if (existsSync(path)) unlinkSync(path);
          }
        }
        log = await SegmentedLog.open(options);
        coverage.reopens++;
        assert.equal(log.recovery.truncation, undefined, "a clean close leaves nothing to cut");
        assert.deepEqual(log.recovery.corruptEntries, []);
        return;
      }
      case "advanceClock":
        clock.advance(op.ms);
        return;
    }
  }

  async function checkRead(from: number, op: Extract<Op, { kind: "read" }>): Promise<void> {
    const toExclusive = op.span === undefined ? undefined : from + op.span;
    const options = { maxEntries: op.maxEntries, maxBytes: op.maxBytes, toExclusive };
    if (from < model.first) return void (await assert.rejects(log.read(from, options), IndexCompactedError));
    if (from > model.next) return void (await assert.rejects(log.read(from, options), IndexOutOfRangeError));
    const entries = await log.read(from, options);
    const end = Math.min(model.next, toExclusive ?? Number.POSITIVE_INFINITY);
    if (from >= end) return assert.deepEqual(entries, []);
    assert.ok(entries.length >= 1, "a read in range returns at least one entry");
    assert.ok(entries.length <= (op.maxEntries ?? Number.POSITIVE_INFINITY));
    assert.ok(from + entries.length <= end);
    let bytes = 0;
    entries.forEach((entry, i) => {
      const expected = model.entries[from + i - model.first];
      assert.deepEqual({ ...entry, payload: entry.payload.toString("hex") }, { ...expected, payload: expected.payload.toString("hex") });
      bytes += FRAME_HEADER_BYTES + entry.payload.length;
    });
    if (entries.length > 1) assert.ok(bytes <= (op.maxBytes ?? 1 << 20), `read of ${bytes} bytes exceeds the budget ${op.maxBytes}`);
  }

  async function readAll(maxBytes: number): Promise<void> {
    let next = model.first;
    while (next < model.next) {
      const entries = await log.read(next, { maxBytes });
      assert.ok(entries.length > 0);
      for (const entry of entries) {
        const expected = model.entries[next - model.first];
        assert.equal(entry.index, expected.index);
        assert.equal(entry.key, expected.key);
        assert.equal(entry.timestamp, expected.timestamp);
        assert.ok(entry.payload.equals(expected.payload), `payload of ${next}`);
        next++;
      }
    }
  }
}

test("model: random operation sequences match an in-memory reference log", { timeout: 300_000 }, async (t) => {
  const seed = Number(process.env.SYNOD_TEST_SEED ?? 424242);
  const numRuns = Number(process.env.SYNOD_MODEL_RUNS ?? 60);
  t.diagnostic(`fast-check seed ${seed}, ${numRuns} runs (SYNOD_TEST_SEED, SYNOD_MODEL_RUNS)`);
  const details = await fc.check(
    fc.asyncProperty(limitsArb, fc.array(opArb, { minLength: 1, maxLength: 60, size: "max" }), (limits, ops) => run(limits, ops)),
    { seed, numRuns, endOnFailure: process.env.SYNOD_MODEL_NO_SHRINK !== undefined },
  );
  t.diagnostic(`coverage ${JSON.stringify(coverage)}`);
  if (details.failed) {
    const error = details.errorInstance as Error | undefined;
    const cause = (error?.cause as Error | undefined)?.stack ?? "";
    assert.fail(`seed ${seed} path ${details.counterexamplePath}: ${JSON.stringify(details.counterexample)}\n${error?.stack}\ncaused by ${cause}`);
  }
});
