// Goal: each promise of SegmentedLog's API, one test each: reads and budgets, zero-copy payloads,
// rolls by size and age, group commit (one fdatasync for many concurrent sync() calls), the three
// fsync policies, backpressure, fatal fsync failure, typed errors, durable truncation and
// compaction, retention, clean-close recovery, Kafka-style timestamp lookup, bounded memory.
// Method: real logs in temp directories. fdatasync calls are counted (and, for the failure test,
// made to fail with EIO) by wrapping the real FileHandle method: the disk is real, only the
// count or the error is added.
import { test } from "node:test";
import assert from "node:assert/strict";
import { open, type FileHandle } from "node:fs/promises";
import { readdirSync, readlinkSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { SegmentedLog, type SegmentedLogOptions } from "../../src/storage/segmented-log.js";
import { BackpressureError, EntryTooLargeError, IndexCompactedError, IndexOutOfRangeError, LogClosedError, LogFailedError } from "../../src/storage/errors.js";
import { FRAME_HEADER_BYTES } from "../../src/storage/frame.js";
import { parseStorageFsyncPolicy, type StorageFsyncPolicy } from "../../src/storage/fsync-policy.js";
import { parseFsyncPolicy, type FsyncPolicy } from "../../src/node/config.js";
import { silentLogger } from "../../src/util/logger.js";
import { ProgrammerError } from "../../src/util/assert.js";
import { tempDir } from "../helpers/tmp.js";
import { ManualClock, capturingLogger } from "./helpers.js";

function options(dir: string, extra: Partial<SegmentedLogOptions> = {}): SegmentedLogOptions {
  return { dir, clock: new ManualClock(), logger: silentLogger(), ...extra };
}

async function fileHandlePrototype(): Promise<{ datasync: FileHandle["datasync"] }> {
  const handle = await open(process.execPath, "r");
  const prototype = Object.getPrototypeOf(handle) as { datasync: FileHandle["datasync"] };
  await handle.close();
  return prototype;
}

/** Counts real fdatasync calls made while `fn` runs. */
async function countDatasyncs(fn: () => Promise<void>): Promise<number> {
  const prototype = await fileHandlePrototype();
  const original = prototype.datasync;
  let count = 0;
  prototype.datasync = function (this: FileHandle) {
    count++;
    return original.call(this);
  };
  try {
    await fn();
  } finally {
    prototype.datasync = original;
  }
  return count;
}

/** Appends `count` entries of exactly `bytes` bytes whose content depends on their index. */
function append(log: SegmentedLog, count: number, bytes = 100, timestamp = 0): number[] {
  const indexes: number[] = [];
  for (let i = 0; i < count; i++) indexes.push(log.append({ timestamp, payload: fixedPayload(log.lastIndex + 1, bytes) }));
  return indexes;
}

function fixedPayload(index: number, bytes: number): Buffer {
  return Buffer.alloc(bytes, index % 251);
}

test("append returns dense indexes; read returns them with payloads sliced from one buffer", async (t) => {
  const log = await SegmentedLog.open(options(tempDir(t)));
  t.after(() => log.close());
  assert.equal(log.firstIndex, 0);
  assert.equal(log.lastIndex, -1);
  assert.equal(log.append({ timestamp: 10, payload: Buffer.from("one") }), 0);
  assert.equal(log.append({ timestamp: 11, key: 7, payload: [Buffer.from("tw"), new Uint8Array([0x6f])] }), 1);
  assert.equal(log.append({ timestamp: 12, key: 7, payload: new Uint8Array(0) }), 2);
  const entries = await log.read(0);
  assert.deepEqual(
    entries.map((e) => [e.index, e.timestamp, e.key, e.payload.toString()]),
    [
      [0, 10, 0, "one"],
      [1, 11, 7, "two"],
      [2, 12, 7, ""],
    ],
  );
  assert.equal(entries[0].payload.buffer, entries[1].payload.buffer, "zero-copy: payloads share the read buffer");
  assert.deepEqual(await log.read(3), [], "reading at lastIndex + 1 returns nothing");
  assert.throws(() => log.append({ timestamp: 0, key: 6, payload: Buffer.alloc(1) }), ProgrammerError, "keys must not decrease");
});

test("reads honour maxEntries, toExclusive and maxBytes, and return one entry larger than the budget", async (t) => {
  const log = await SegmentedLog.open(options(tempDir(t)));
  t.after(() => log.close());
  append(log, 50, 100);
  log.append({ timestamp: 0, payload: Buffer.alloc(10_000, 7) });
  append(log, 5, 100);
  assert.equal((await log.read(0, { maxEntries: 7 })).length, 7);
  assert.deepEqual((await log.read(5, { toExclusive: 9 })).map((e) => e.index), [5, 6, 7, 8]);
  const budget = 3 * (FRAME_HEADER_BYTES + 100);
  assert.equal((await log.read(0, { maxBytes: budget })).length, 3);
  assert.equal((await log.read(0, { maxBytes: budget - 1 })).length, 2);
  const big = await log.read(50, { maxBytes: 10 });
  assert.equal(big.length, 1, "at least one entry, even beyond the budget");
  assert.equal(big[0].payload.length, 10_000);
  const raw = await log.readRaw(0, { maxEntries: 2 });
  assert.equal(raw.buffer.length, 2 * (FRAME_HEADER_BYTES + 100), "readRaw returns the frames as on disk");
  assert.equal(raw.entries[1].frameOffset, FRAME_HEADER_BYTES + 100);
  assert.ok(raw.buffer.subarray(raw.entries[1].frameOffset + FRAME_HEADER_BYTES).equals(fixedPayload(1, 100)));
});

test("typed errors for indexes out of range, oversized entries, and a closed log", async (t) => {
  const log = await SegmentedLog.open(options(tempDir(t), { entryBytesMax: 1000 }));
  append(log, 10);
  await log.compactPrefix(3);
  await assert.rejects(log.read(2), IndexCompactedError);
  await assert.rejects(log.read(11), IndexOutOfRangeError);
  assert.throws(() => log.append({ timestamp: 0, payload: Buffer.alloc(1001) }), EntryTooLargeError);
  assert.equal(log.lastIndex, 9, "a refused append appends nothing");
  await log.close();
  assert.throws(() => log.append({ timestamp: 0, payload: Buffer.alloc(1) }), LogClosedError);
  await assert.rejects(log.sync(), LogClosedError);
});

test("segments roll by size, named by their zero-padded base index", async (t) => {
  const dir = tempDir(t);
  const log = await SegmentedLog.open(options(dir, { segmentBytesMax: 4096 }));
  t.after(() => log.close());
  append(log, 100, 200);
  await log.sync();
  const logs = readdirSync(dir).filter((n) => n.endsWith(".log"));
  assert.ok(logs.length >= 5, `rolled into ${logs.length} segments`);
  assert.equal(logs[0], "00000000000000000000.log");
  for (const name of logs) assert.match(name, /^\d{20}\.log$/);
  // Every closed segment is indexed on disk; the active one only after a clean close.
  assert.equal(readdirSync(dir).filter((n) => n.endsWith(".index")).length, logs.length - 1);
  assert.equal(log.sizeBytes, 100 * (FRAME_HEADER_BYTES + 200));
});

test("segments roll by age, measured with the injected clock", async (t) => {
  const clock = new ManualClock();
  const log = await SegmentedLog.open(options(tempDir(t), { clock, segmentAgeMsMax: 60_000 }));
  t.after(() => log.close());
  append(log, 3);
  clock.advance(59_999);
  append(log, 1);
  assert.equal(log.segmentCount, 1);
  clock.advance(1);
  append(log, 1);
  assert.equal(log.segmentCount, 2, "the first append after segmentAgeMsMax rolls");
  await log.sync();
  assert.deepEqual((await log.read(4)).map((e) => e.index), [4]);
});

test("group commit: many concurrent sync() calls share a few fdatasyncs", async (t) => {
  const log = await SegmentedLog.open(options(tempDir(t)));
  t.after(() => log.close());
  const syncs = await countDatasyncs(async () => {
    const waits: Array<Promise<void>> = [];
    for (let i = 0; i < 200; i++) {
      append(log, 1);
      waits.push(log.sync());
    }
    await Promise.all(waits);
  });
  assert.equal(log.syncedIndex, 199);
  assert.ok(syncs >= 1 && syncs <= 3, `200 sync() calls cost ${syncs} fdatasyncs`);
  t.diagnostic(`200 concurrent sync() calls → ${syncs} fdatasync`);
});

test("fsync policy never: sync() reaches the page cache without fdatasync", async (t) => {
  const log = await SegmentedLog.open(options(tempDir(t), { fsync: "never" }));
  t.after(() => log.close());
  const syncs = await countDatasyncs(async () => {
    append(log, 50);
    await log.sync();
  });
  assert.equal(syncs, 0);
  assert.equal(log.syncedIndex, 49);
});

test("fsync policy interval: a background timer syncs, and sync() still forces", async (t) => {
  const log = await SegmentedLog.open(options(tempDir(t), { fsync: "interval:20" }));
  t.after(() => log.close());
  const syncs = await countDatasyncs(async () => {
    append(log, 10);
    for (let waited = 0; log.syncedIndex < 9 && waited < 2000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
  });
  assert.equal(log.syncedIndex, 9, "synced by the timer, no sync() call");
  assert.ok(syncs >= 1);
  const forced = await countDatasyncs(async () => {
    append(log, 1);
    await log.sync();
  });
  assert.equal(forced, 1);
});

test("a failed fdatasync is fatal: no retry, every later operation fails, the error is logged", async (t) => {
  const dir = tempDir(t);
  const captured = capturingLogger();
  const log = await SegmentedLog.open(options(dir, { logger: captured.logger }));
  append(log, 5);
  await log.sync();
  const prototype = await fileHandlePrototype();
  const original = prototype.datasync;
  let attempts = 0;
  prototype.datasync = () => {
    attempts++;
    return Promise.reject(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" }));
  };
  try {
    append(log, 5);
    const first = log.sync();
    const second = log.sync();
    await assert.rejects(first, LogFailedError);
    await assert.rejects(second, LogFailedError);
    assert.equal(attempts, 1, "fdatasync is never retried");
    assert.throws(() => append(log, 1), LogFailedError);
    await assert.rejects(log.read(0), LogFailedError);
    await assert.rejects(log.truncateSuffix(3), LogFailedError);
  } finally {
    prototype.datasync = original;
  }
  assert.equal(captured.lines.filter((line) => line.level === 50 && String(line.msg).includes("fsync failed")).length, 1);
  await log.close();
  // Restart and recover from the disk: everything that reached the OS is there.
  const reopened = await SegmentedLog.open(options(dir));
  t.after(() => reopened.close());
  assert.equal(reopened.lastIndex, 9);
});

test("backpressure: beyond writeBufferBytesMax append throws and appends nothing; flush() makes room", async (t) => {
  const log = await SegmentedLog.open(options(tempDir(t), { writeBufferBytesMax: 4096, writeChunkBytes: 1024 }));
  t.after(() => log.close());
  let accepted = 0;
  let refused: unknown;
  for (let i = 0; i < 100 && !refused; i++) {
    try {
      log.append({ timestamp: 0, payload: Buffer.alloc(500) });
      accepted++;
    } catch (error) {
      refused = error;
    }
  }
  assert.ok(refused instanceof BackpressureError, "the buffer filled up");
  assert.equal(log.lastIndex, accepted - 1);
  assert.ok(log.bufferedBytes <= 4096);
  await log.flush();
  assert.equal(log.bufferedBytes, 0);
  log.append({ timestamp: 0, payload: Buffer.alloc(500) });
  await log.sync();
  assert.equal((await log.read(0, { maxEntries: 1000, maxBytes: 1 << 20 })).length, accepted + 1);
});

test("truncateSuffix removes the tail durably; appends continue after it", async (t) => {
  const dir = tempDir(t);
  const log = await SegmentedLog.open(options(dir, { segmentBytesMax: 2048 }));
  append(log, 60, 100);
  await log.truncateSuffix(25);
  assert.equal(log.lastIndex, 24);
  assert.equal(log.syncedIndex, 24, "durable when it resolves");
  assert.equal(log.append({ timestamp: 0, payload: Buffer.from("after") }), 25);
  await log.close();
  const reopened = await SegmentedLog.open(options(dir, { segmentBytesMax: 2048 }));
  t.after(() => reopened.close());
  assert.equal(reopened.lastIndex, 25);
  assert.equal((await reopened.read(25))[0].payload.toString(), "after");
  assert.ok((await reopened.read(24))[0].payload.equals(fixedPayload(24, 100)));
});

test("truncateSuffix while group-commit rounds are in flight: no stale claim, no hang", async (t) => {
  const log = await SegmentedLog.open(options(tempDir(t)));
  t.after(() => log.close());
  append(log, 100, 100);
  // The first fdatasync (the group-commit round's) is held back 100 ms, so the truncation, which
  // runs while it is pending, completes first: the round must not then claim entries 50..99.
  const prototype = await fileHandlePrototype();
  const original = prototype.datasync;
  let calls = 0;
  prototype.datasync = function (this: FileHandle) {
    const delayMs = calls++ === 0 ? 100 : 0;
    return new Promise<void>((resolve) => setTimeout(resolve, delayMs)).then(() => original.call(this));
  };
  try {
    const inFlight = [log.sync(), log.sync()];
    await new Promise((resolve) => setTimeout(resolve, 10)); // the round's fdatasync has started
    const truncated = log.truncateSuffix(50);
    await Promise.all([...inFlight, truncated]);
    await new Promise((resolve) => setTimeout(resolve, 150)); // the held-back round completes
  } finally {
    prototype.datasync = original;
  }
  assert.ok(calls >= 2);
  assert.equal(log.lastIndex, 49);
  assert.equal(log.syncedIndex, 49, "a round that overlapped the truncation claims nothing beyond it");
  append(log, 10, 7);
  await log.sync();
  assert.equal(log.syncedIndex, 59);
  assert.deepEqual((await log.read(50)).map((e) => e.payload.length), Array(10).fill(7), "the new entries, not the truncated ones");
});

test("compactPrefix moves firstIndex durably, deletes whole segments below, and can jump past the end", async (t) => {
  const dir = tempDir(t);
  const log = await SegmentedLog.open(options(dir, { segmentBytesMax: 2048 }));
  append(log, 60, 100);
  await log.sync();
  const before = log.segmentCount;
  await log.compactPrefix(37);
  assert.equal(log.firstIndex, 37);
  assert.ok(log.segmentCount < before);
  await log.close();
  let reopened = await SegmentedLog.open(options(dir, { segmentBytesMax: 2048 }));
  assert.equal(reopened.firstIndex, 37, "a mid-segment first index survives restart");
  assert.equal((await reopened.read(37))[0].index, 37);
  await reopened.compactPrefix(1000); // a snapshot installed from a peer
  assert.equal(reopened.firstIndex, 1000);
  assert.equal(reopened.lastIndex, 999);
  assert.equal(reopened.append({ timestamp: 0, payload: Buffer.from("x") }), 1000);
  await reopened.close();
  reopened = await SegmentedLog.open(options(dir));
  t.after(() => reopened.close());
  assert.equal(reopened.firstIndex, 1000);
  assert.equal(reopened.lastIndex, 1000);
  assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith(".log")), ["00000000000000001000.log"]);
});

test("retention deletes whole old segments by size and by age, never the active one", async (t) => {
  const clock = new ManualClock();
  const log = await SegmentedLog.open(options(tempDir(t), { clock, segmentBytesMax: 2048 }));
  t.after(() => log.close());
  for (let i = 0; i < 40; i++) log.append({ timestamp: clock.wallMs() - 10_000, payload: Buffer.alloc(100) });
  for (let i = 0; i < 40; i++) log.append({ timestamp: clock.wallMs(), payload: Buffer.alloc(100) });
  await log.sync();
  const bySize = await log.applyRetention({ bytesMax: 5000 });
  assert.ok(bySize.deletedSegments > 0);
  assert.ok(log.sizeBytes <= 5000);
  assert.equal(bySize.firstIndex, log.firstIndex);
  await assert.rejects(log.read(0), IndexCompactedError);
  const all = await log.applyRetention({ bytesMax: 0, ageMsMax: 0 });
  assert.equal(log.segmentCount, 1, "the active segment stays");
  assert.equal(all.firstIndex, log.firstIndex);
  assert.ok(log.lastIndex === 79);
});

test("retention by age keeps segments that hold recent entries", async (t) => {
  const clock = new ManualClock();
  const log = await SegmentedLog.open(options(tempDir(t), { clock, segmentBytesMax: 2048 }));
  t.after(() => log.close());
  for (let i = 0; i < 40; i++) log.append({ timestamp: clock.wallMs() - 10_000, payload: Buffer.alloc(100) });
  for (let i = 0; i < 40; i++) log.append({ timestamp: clock.wallMs(), payload: Buffer.alloc(100) });
  await log.sync();
  const result = await log.applyRetention({ ageMsMax: 5000 });
  assert.ok(result.deletedSegments > 0);
  assert.ok(log.firstIndex <= 40, "segments with recent entries stay");
  assert.ok((await log.read(log.firstIndex)).length > 0);
});

test("lookupByTimestamp: the first entry at or after t, with out-of-order timestamps (Kafka semantics)", async (t) => {
  const log = await SegmentedLog.open(options(tempDir(t), { segmentBytesMax: 1024, indexIntervalBytes: 128 }));
  t.after(() => log.close());
  const timestamps = [100, 300, 200, 250, 400, 150, 500, 450, 600, 600, 700];
  for (const timestamp of timestamps) log.append({ timestamp, payload: Buffer.alloc(150) });
  for (const target of [0, 100, 101, 200, 201, 300, 301, 450, 500, 600, 601, 700, 701]) {
    const expected = timestamps.findIndex((ts) => ts >= target);
    assert.equal(await log.lookupByTimestamp(target), expected === -1 ? undefined : expected, `lookupByTimestamp(${target})`);
  }
});

test("lookupByKey: the last entry whose key <= k (which slot holds Kafka offset k)", async (t) => {
  const log = await SegmentedLog.open(options(tempDir(t), { segmentBytesMax: 1024, indexIntervalBytes: 64 }));
  t.after(() => log.close());
  // Slots holding batches of 5 records each: slot i holds offsets 5i .. 5i + 4.
  for (let i = 0; i < 40; i++) log.append({ timestamp: 0, key: 5 * i, payload: Buffer.alloc(60) });
  for (const offset of [0, 4, 5, 99, 100, 199, 250]) assert.equal(await log.lookupByKey(offset), Math.min(39, Math.floor(offset / 5)));
  await log.compactPrefix(10);
  assert.equal(await log.lookupByKey(49), undefined, "offsets below the first slot are gone");
  assert.equal(await log.lookupByKey(50), 10);
});

test("a clean close indexes the active segment: the next open verifies nothing", async (t) => {
  const dir = tempDir(t);
  let log = await SegmentedLog.open(options(dir));
  append(log, 500, 300);
  await log.close();
  log = await SegmentedLog.open(options(dir));
  assert.equal(log.recovery.cleanShutdown, true);
  assert.equal(log.recovery.scannedBytes, 0);
  append(log, 10, 300);
  await log.sync();
  await log.close();
  log = await SegmentedLog.open(options(dir));
  t.after(() => log.close());
  assert.equal(log.lastIndex, 509);
});

test("bounded memory: reading a log much larger than the read budget keeps little alive", async (t) => {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  const log = await SegmentedLog.open(options(tempDir(t), { segmentBytesMax: 4 * 1024 * 1024, indexCacheSegmentsMax: 2 }));
  t.after(() => log.close());
  const payload = Buffer.alloc(64 * 1024, 1);
  for (let i = 0; i < 1024; i++) {
    log.append({ timestamp: i, payload });
    if (i % 64 === 63) await log.sync();
  }
  await log.sync(); // 64 MiB on disk
  await log.flush(); // settle the write path (its chunk pool is part of the baseline)
  // External memory is released asynchronously after a collection: settle before each sample.
  const settled = async (): Promise<number> => {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 5));
    gc();
    return process.memoryUsage().arrayBuffers;
  };
  const baseline = await settled();
  let peak = 0;
  let next = log.firstIndex;
  while (next <= log.lastIndex) {
    const entries = await log.read(next, { maxBytes: 1024 * 1024 });
    next = entries.at(-1)!.index + 1;
    if (next % 128 === 0) peak = Math.max(peak, (await settled()) - baseline);
  }
  t.diagnostic(`read ${(log.sizeBytes / 2 ** 20).toFixed(0)} MiB; external memory above baseline at most ${(peak / 2 ** 20).toFixed(1)} MiB`);
  // Loading the log would hold >= 64 MiB; reads with a 1 MiB budget hold about one read buffer.
  assert.ok(peak < 20 * 1024 * 1024, `reading held ${peak} bytes`);
});

test("file descriptors stay bounded: reading every segment keeps at most readHandlesMax read handles", async (t) => {
  const dir = tempDir(t);
  const log = await SegmentedLog.open(options(dir, { segmentBytesMax: 4096, readHandlesMax: 3 }));
  t.after(() => log.close());
  append(log, 400, 200);
  await log.sync();
  assert.ok(log.segmentCount > 20);
  const segmentFds = (): number => readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir);
    } catch {
      return false;
    }
  }).length;
  for (let index = 0; index < 400; index += 7) await log.read(index, { maxEntries: 1 });
  await new Promise((resolve) => setTimeout(resolve, 20)); // evicted handles close asynchronously
  assert.ok(segmentFds() <= 3 + 1, `${segmentFds()} descriptors open on ${log.segmentCount} segments`);
});

test("the storage fsync policy strings are exactly node/config's FsyncPolicy", () => {
  const asConfig: FsyncPolicy = "interval:5" as StorageFsyncPolicy; // compile-time: both ways
  const asStorage: StorageFsyncPolicy = asConfig;
  assert.equal(asStorage, "interval:5");
  for (const raw of ["always", "never", "interval:1", "interval:250", "interval:0", "interval:", "interval:-1", "sometimes", "ALWAYS", ""]) {
    let config: unknown;
    let storage: unknown;
    try {
      config = parseFsyncPolicy(raw);
    } catch {
      config = "rejected";
    }
    try {
      storage = parseStorageFsyncPolicy(raw);
    } catch {
      storage = "rejected";
    }
    assert.equal(config === "rejected", storage === "rejected", `"${raw}": config ${String(config)}, storage ${JSON.stringify(storage)}`);
  }
});
