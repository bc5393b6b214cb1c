// Goal: damaged bytes are found exactly where they are, a torn tail is cut exactly at its first
// damaged frame, a damaged entry in the durable prefix is reported and kept (never cut), and no
// read ever returns a damaged entry.
// Method: build a real log on disk, close it, then damage its files the way crashes and failing
// media do (truncate, append garbage, flip bits in payloads and length fields). Recovery after a
// crash is reproduced by deleting the last segment's index files, which is exactly the state a
// crash leaves (the active segment's indexes are only written by a clean close or a roll). Each
// test asserts the recovery report, the log lines, and what reads return.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, truncateSync, appendFileSync, writeFileSync, unlinkSync, existsSync } from "node:fs";
import { join } from "node:path";
import { SegmentedLog, type SegmentedLogOptions } from "../../src/storage/segmented-log.js";
import { CorruptEntryError } from "../../src/storage/errors.js";
import { tempDir } from "../helpers/tmp.js";
import { ManualClock, capturingLogger, framesOf, keyFor, payloadFor, timestampFor, type CapturedLogger } from "./helpers.js";

function options(dir: string, captured: CapturedLogger, extra: Partial<SegmentedLogOptions> = {}): SegmentedLogOptions {
  return { dir, clock: new ManualClock(), logger: captured.logger, segmentBytesMax: 16 * 1024, indexIntervalBytes: 256, ...extra };
}

/** Builds a log of `count` entries; `syncEvery` entries share one sync (1 = a sync per entry). */
async function buildLog(dir: string, count: number, syncEvery: number, extra: Partial<SegmentedLogOptions> = {}): Promise<void> {
  const log = await SegmentedLog.open(options(dir, capturingLogger(), extra));
  for (let i = 0; i < count; i++) {
    log.append({ timestamp: timestampFor(i), key: keyFor(i), payload: payloadFor(i, 300) });
    if ((i + 1) % syncEvery === 0) await log.sync();
  }
  await log.close();
}

function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith(".log"))
    .sort()
    .map((name) => join(dir, name));
}

/** The state a crash leaves: the active segment has no index files. */
function forgetLastIndex(dir: string): string {
  const last = segmentFiles(dir).at(-1)!;
  for (const ext of [".index", ".timeindex"]) {
    const path = last.replace(/\.log$/, ext);
    if (existsSync(path)) unlinkSync(path);
  }
  return last;
}

function flipByte(path: string, position: number): void {
  const bytes = readFileSync(path);
  bytes[position] ^= 0x5a;
  writeFileSync(path, bytes);
}

async function assertReadsIntact(log: SegmentedLog, from: number, to: number): Promise<void> {
  let next = from;
  while (next <= to) {
    const entries = await log.read(next, { toExclusive: to + 1 });
    assert.ok(entries.length > 0);
    for (const entry of entries) {
      assert.equal(entry.index, next);
      assert.ok(entry.payload.equals(payloadFor(next, 300)), `payload of ${next}`);
      next++;
    }
  }
}

test("tail: a torn last frame is cut exactly at its start, and the cut is reported and logged", async (t) => {
  const dir = tempDir(t);
  await buildLog(dir, 200, 1);
  const last = forgetLastIndex(dir);
  const frames = framesOf(readFileSync(last));
  const torn = frames.at(-1)!;
  truncateSync(last, torn.position + torn.frameBytes - 5);
  const captured = capturingLogger();
  const log = await SegmentedLog.open(options(dir, captured));
  t.after(() => log.close());
  assert.equal(log.recovery.truncation?.file, last);
  assert.equal(log.recovery.truncation?.position, torn.position);
  assert.equal(log.recovery.truncation?.index, 199);
  assert.equal(log.recovery.truncation?.bytes, torn.frameBytes - 5);
  assert.deepEqual(log.recovery.corruptEntries, []);
  assert.equal(log.lastIndex, 198);
  assert.equal(readFileSync(last).length, torn.position, "the file is cut on disk");
  assert.ok(captured.mentioning(last).some((line) => line.msg === "cut a torn tail from the last segment (entries that were never fsynced)" && line.bytes === torn.frameBytes - 5));
  await assertReadsIntact(log, 0, 198);
  // The log continues where it was cut.
  assert.equal(log.append({ timestamp: 1, key: keyFor(199), payload: payloadFor(199, 300) }), 199);
  await log.sync();
  await assertReadsIntact(log, 190, 199);
});

test("tail: garbage after the last frame (a partial next write) is cut at the old end", async (t) => {
  const dir = tempDir(t);
  await buildLog(dir, 150, 10);
  const last = forgetLastIndex(dir);
  const size = readFileSync(last).length;
  appendFileSync(last, Buffer.from("this is not a frame, just some bytes a crash left behind".repeat(3)));
  const log = await SegmentedLog.open(options(dir, capturingLogger()));
  t.after(() => log.close());
  assert.equal(log.recovery.truncation?.position, size);
  assert.equal(log.recovery.truncation?.index, 150);
  assert.equal(log.lastIndex, 149);
  await assertReadsIntact(log, 0, 149);
});

test("tail: a flipped bit in the last frame cuts exactly that frame", async (t) => {
  const dir = tempDir(t);
  await buildLog(dir, 120, 1);
  const last = forgetLastIndex(dir);
  const frame = framesOf(readFileSync(last)).at(-1)!;
  flipByte(last, frame.position + frame.frameBytes - 1);
  const log = await SegmentedLog.open(options(dir, capturingLogger()));
  t.after(() => log.close());
  assert.equal(log.recovery.truncation?.position, frame.position);
  assert.equal(log.recovery.truncation?.index, 119);
  assert.match(log.recovery.truncation!.reason, /CRC mismatch/);
  assert.equal(log.lastIndex, 118);
});

test("middle of the last segment, durable (a later frame proves it): reported and kept, never cut", async (t) => {
  const dir = tempDir(t);
  await buildLog(dir, 100, 1);
  const last = forgetLastIndex(dir);
  const frames = framesOf(readFileSync(last));
  const victim = frames[Math.floor(frames.length / 2)];
  flipByte(last, victim.position + 45); // inside the payload (header is 40 bytes)
  const captured = capturingLogger();
  const log = await SegmentedLog.open(options(dir, captured));
  t.after(() => log.close());
  assert.equal(log.recovery.truncation, undefined, "nothing is cut");
  assert.deepEqual(log.recovery.corruptEntries, [{ file: last, position: victim.position, index: victim.index, count: 1, reason: log.recovery.corruptEntries[0].reason }]);
  assert.match(log.recovery.corruptEntries[0].reason, /CRC mismatch/);
  assert.ok(captured.mentioning(last).some((line) => line.level === 50 && line.index === victim.index));
  assert.equal(log.lastIndex, 99);
  await assert.rejects(log.read(victim.index), (error: unknown) => {
    assert.ok(error instanceof CorruptEntryError);
    assert.equal(error.file, last);
    assert.equal(error.position, victim.position);
    assert.equal(error.index, victim.index);
    return true;
  });
  // A read that reaches the damage stops before it; reads after it work.
  const before = await log.read(victim.index - 3);
  assert.deepEqual(before.map((e) => e.index), [victim.index - 3, victim.index - 2, victim.index - 1]);
  await assertReadsIntact(log, victim.index + 1, 99);
  // The log keeps working after the damaged entry.
  log.append({ timestamp: 5, key: keyFor(100), payload: payloadFor(100, 300) });
  await log.sync();
  await assertReadsIntact(log, 99, 100);
});

test("middle of the last segment with a damaged length field: found again by searching, reported and kept", async (t) => {
  const dir = tempDir(t);
  await buildLog(dir, 100, 1);
  const last = forgetLastIndex(dir);
  const frames = framesOf(readFileSync(last));
  const victim = frames[Math.floor(frames.length / 3)];
  flipByte(last, victim.position + 6); // the length field: the next frame cannot be found by skipping
  const log = await SegmentedLog.open(options(dir, capturingLogger()));
  t.after(() => log.close());
  assert.equal(log.recovery.truncation, undefined);
  assert.equal(log.recovery.corruptEntries.length, 1);
  assert.equal(log.recovery.corruptEntries[0].position, victim.position);
  assert.equal(log.recovery.corruptEntries[0].index, victim.index);
  await assert.rejects(log.read(victim.index), CorruptEntryError);
  await assertReadsIntact(log, victim.index + 1, 99);
  assert.equal(await log.lookupByKey(keyFor(victim.index + 5)), victim.index + 5);
});

test("middle of the last segment without proof of durability is indistinguishable from a torn write: cut there", async (t) => {
  // All entries after the damage were written in the same unsynced batch as it (one sync for all),
  // so no frame says the damaged one had been fsynced: a power loss mid-writeback looks the same.
  const dir = tempDir(t);
  await buildLog(dir, 60, 60);
  const last = forgetLastIndex(dir);
  const frames = framesOf(readFileSync(last));
  const victim = frames[Math.floor(frames.length / 2)];
  flipByte(last, victim.position + 45);
  const log = await SegmentedLog.open(options(dir, capturingLogger()));
  t.after(() => log.close());
  assert.equal(log.recovery.truncation?.position, victim.position);
  assert.equal(log.lastIndex, victim.index - 1);
});

test("middle of a closed segment: open trusts its index; reads report the entry, neighbours stay readable", async (t) => {
  const dir = tempDir(t);
  await buildLog(dir, 400, 7);
  const closed = segmentFiles(dir)[1];
  const frames = framesOf(readFileSync(closed));
  const victim = frames[Math.floor(frames.length / 2)];
  flipByte(closed, victim.position + 41);
  const log = await SegmentedLog.open(options(dir, capturingLogger()));
  t.after(() => log.close());
  assert.ok(log.segmentCount >= 3);
  assert.equal(log.recovery.truncation, undefined, "a closed segment is never cut");
  assert.equal(log.lastIndex, 399);
  await assert.rejects(log.read(victim.index), (error: unknown) => error instanceof CorruptEntryError && error.file === closed && error.position === victim.position);
  await assertReadsIntact(log, victim.index + 1, 399);
  const upTo = await log.read(victim.index - 2, { maxBytes: 1 << 20 });
  assert.deepEqual(upTo.map((e) => e.index), [victim.index - 2, victim.index - 1]);
});

test("closed segment with a damaged length field: a read after it steps over the damage", async (t) => {
  const dir = tempDir(t);
  // A wide index interval: the entries after the damage are reachable only by the resync search.
  await buildLog(dir, 400, 7, { indexIntervalBytes: 8192 });
  const closed = segmentFiles(dir)[0];
  const frames = framesOf(readFileSync(closed));
  const victim = frames[10];
  flipByte(closed, victim.position + 5);
  const log = await SegmentedLog.open(options(dir, capturingLogger()));
  t.after(() => log.close());
  await assert.rejects(log.read(victim.index), CorruptEntryError);
  // Entries right after the damage sit before the next index point: reached by resync.
  await assertReadsIntact(log, victim.index + 1, victim.index + 3);
  assert.equal(await log.lookupByKey(keyFor(victim.index - 2)), victim.index - 2);
  // The last entry with key <= key(victim - 1) depends on the damaged entry's key: no guessing.
  await assert.rejects(log.lookupByKey(keyFor(victim.index - 1)), CorruptEntryError);
});

test("closed segment with damage and no index: the rebuild reports the entry in the recovery report", async (t) => {
  const dir = tempDir(t);
  await buildLog(dir, 400, 7);
  const closed = segmentFiles(dir)[1];
  unlinkSync(closed.replace(/\.log$/, ".index"));
  const frames = framesOf(readFileSync(closed));
  const victim = frames[3];
  flipByte(closed, victim.position + 44);
  const captured = capturingLogger();
  const log = await SegmentedLog.open(options(dir, captured));
  t.after(() => log.close());
  assert.deepEqual(
    log.recovery.corruptEntries.map(({ file, position, index, count }) => ({ file, position, index, count })),
    [{ file: closed, position: victim.position, index: victim.index, count: 1 }],
  );
  assert.deepEqual(log.recovery.rebuiltIndexes, [], "an index is not written for a segment that needs repair");
  assert.ok(captured.mentioning(closed).some((line) => line.msg === "rebuilding the index of a closed segment"));
  await assert.rejects(log.read(victim.index), CorruptEntryError);
  await assertReadsIntact(log, victim.index + 1, victim.index + 30);
  assert.equal(log.lastIndex, 399);
});
