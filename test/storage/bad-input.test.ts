// Goal: whatever a crash, an operator or a failing disk leaves in a log directory, open() either
// succeeds with a clear log line naming the file (and cleans up), or fails with a typed error
// naming the file — never a crash (ProgrammerError) and never a crash loop: a second open of the
// repaired directory finds nothing left to repair.
// Method: build a real log, then plant the bad input with plain fs calls and open it again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, readdirSync, statSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SegmentedLog, type SegmentedLogOptions } from "../../src/storage/segmented-log.js";
import { CorruptEntryError, StorageFormatError } from "../../src/storage/errors.js";
import { tempDir } from "../helpers/tmp.js";
import { ManualClock, capturingLogger, type CapturedLogger } from "./helpers.js";

function options(dir: string, captured: CapturedLogger = capturingLogger()): SegmentedLogOptions {
  return { dir, clock: new ManualClock(), logger: captured.logger, segmentBytesMax: 2048, indexIntervalBytes: 256 };
}

async function buildLog(dir: string, count = 60): Promise<void> {
  const log = await SegmentedLog.open(options(dir));
  for (let i = 0; i < count; i++) log.append({ timestamp: i, payload: Buffer.alloc(100, i) });
  await log.close();
}

function segmentLogs(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith(".log"))
    .sort()
    .map((n) => join(dir, n));
}

/** Opens twice: the second open must find nothing left to fix (no crash loop, no repeated repair). */
async function openTwice(dir: string, captured: CapturedLogger): Promise<SegmentedLog> {
  const log = await SegmentedLog.open(options(dir, captured));
  await log.close();
  const again = await SegmentedLog.open(options(dir));
  assert.deepEqual(again.recovery.removedFiles, []);
  assert.deepEqual(again.recovery.rebuiltIndexes, []);
  assert.equal(again.recovery.truncation, undefined);
  return again;
}

async function readAll(log: SegmentedLog): Promise<number[]> {
  const indexes: number[] = [];
  let next = log.firstIndex;
  while (next <= log.lastIndex) {
    const entries = await log.read(next);
    for (const entry of entries) indexes.push(entry.index);
    next += entries.length;
  }
  return indexes;
}

test("a segment file full of garbage (the only one): cut to empty, logged with the file's name", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "00000000000000000000.log");
  writeFileSync(path, Buffer.from("GARBAGE!".repeat(1000)));
  const captured = capturingLogger();
  const log = await openTwice(dir, captured);
  t.after(() => log.close());
  assert.equal(log.lastIndex, -1);
  assert.equal(statSync(path).size, 0);
  assert.ok(captured.mentioning(path).some((line) => line.level === 40 && line.bytes === 8000));
});

test("a closed segment full of garbage with no index: open succeeds, its entries are reported corrupt, the rest reads", async (t) => {
  const dir = tempDir(t);
  await buildLog(dir);
  const victim = segmentLogs(dir)[1];
  const size = statSync(victim).size;
  writeFileSync(victim, Buffer.alloc(size, 0xee));
  unlinkSync(victim.replace(/\.log$/, ".index"));
  const captured = capturingLogger();
  const log = await SegmentedLog.open(options(dir, captured));
  t.after(() => log.close());
  assert.equal(log.recovery.corruptEntries.length, 1);
  assert.equal(log.recovery.corruptEntries[0].file, victim);
  assert.ok(log.recovery.corruptEntries[0].count > 0);
  assert.ok(captured.mentioning(victim).some((line) => line.level === 50));
  const firstBad = log.recovery.corruptEntries[0].index;
  await assert.rejects(log.read(firstBad), CorruptEntryError);
  assert.equal((await log.read(0)).length > 0, true);
  const afterBad = firstBad + log.recovery.corruptEntries[0].count;
  assert.equal((await log.read(afterBad))[0].index, afterBad);
});

test("zero-length files: an empty last segment is an empty log; empty index files are rebuilt", async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "00000000000000000007.log"), "");
  let log = await SegmentedLog.open(options(dir));
  assert.equal(log.firstIndex, 7);
  assert.equal(log.lastIndex, 6);
  await log.close();

  const dir2 = tempDir(t);
  await buildLog(dir2);
  const closed = segmentLogs(dir2)[0];
  writeFileSync(closed.replace(/\.log$/, ".index"), "");
  writeFileSync(closed.replace(/\.log$/, ".timeindex"), "");
  const captured = capturingLogger();
  log = await openTwice(dir2, captured);
  t.after(() => log.close());
  assert.deepEqual(await readAll(log), Array.from({ length: 60 }, (_, i) => i));
  assert.ok(captured.mentioning(closed).some((line) => line.msg === "rebuilding the index of a closed segment"));
});

test("a zero-length closed segment between others: its entries are reported missing, not invented", async (t) => {
  const dir = tempDir(t);
  await buildLog(dir);
  const victim = segmentLogs(dir)[1];
  truncateSync(victim, 0);
  const log = await SegmentedLog.open(options(dir));
  t.after(() => log.close());
  assert.equal(log.recovery.corruptEntries.length, 1);
  assert.match(log.recovery.corruptEntries[0].reason, /segment ends after 0 entries/);
  await assert.rejects(log.read(log.recovery.corruptEntries[0].index), CorruptEntryError);
  assert.equal(log.lastIndex, 59);
});

test("a missing .index is rebuilt from its segment, with a log line; reads and lookups are unaffected", async (t) => {
  const dir = tempDir(t);
  await buildLog(dir);
  const closed = segmentLogs(dir)[1];
  unlinkSync(closed.replace(/\.log$/, ".index"));
  const captured = capturingLogger();
  const log = await openTwice(dir, captured);
  t.after(() => log.close());
  assert.ok(captured.mentioning(closed).some((line) => String(line.reason).includes("missing")));
  assert.deepEqual(await readAll(log), Array.from({ length: 60 }, (_, i) => i));
  assert.equal(await log.lookupByTimestamp(30), 30);
});

test("an index whose trailer is valid but describes a different segment is rebuilt, not trusted", async (t) => {
  const dir = tempDir(t);
  await buildLog(dir);
  const [first, second] = segmentLogs(dir);
  for (const ext of [".index", ".timeindex"]) writeFileSync(second.replace(/\.log$/, ext), readFileSync(first.replace(/\.log$/, ext)));
  const log = await SegmentedLog.open(options(dir));
  t.after(() => log.close());
  assert.equal(log.recovery.rebuiltIndexes.length, 1);
  assert.match(log.recovery.rebuiltIndexes[0].reason, /belongs to the segment at 0/);
  assert.deepEqual(await readAll(log), Array.from({ length: 60 }, (_, i) => i));
  for (let key = 0; key < 60; key += 7) assert.equal(await log.lookupByKey(key), key);
});

test("unparsable file names fail open with an error naming the file; nothing is deleted", async (t) => {
  for (const name of ["notes.txt", "123.log", "00000000000000000000.LOG", "99999999999999999999.log", "subdir"]) {
    const dir = tempDir(t);
    await buildLog(dir, 5);
    const path = join(dir, name);
    if (name === "subdir") mkdirSync(path);
    else writeFileSync(path, "x");
    await assert.rejects(SegmentedLog.open(options(dir)), (error: unknown) => {
      assert.ok(error instanceof StorageFormatError, String(error));
      assert.equal(error.file, path);
      assert.match(error.message, /move it out/);
      return true;
    });
    assert.ok(readdirSync(dir).includes(name), "the operator's file is left alone");
  }
});

test("stray temporary files and orphan index files are removed, listed, and logged", async (t) => {
  const dir = tempDir(t);
  await buildLog(dir);
  const strays = [join(dir, "00000000000000000000.index.tmp"), join(dir, "log.meta.tmp"), join(dir, "00000000000000099999.index"), join(dir, "00000000000000099999.timeindex")];
  for (const path of strays) writeFileSync(path, "leftover");
  const captured = capturingLogger();
  const log = await openTwice(dir, captured);
  t.after(() => log.close());
  const first = await SegmentedLog.open(options(dir)).then(async (l) => {
    await l.close();
    return l;
  });
  assert.deepEqual(first.recovery.removedFiles, []);
  for (const path of strays) assert.ok(!readdirSync(dir).includes(path.split("/").at(-1)!), `${path} removed`);
  for (const path of strays) assert.ok(captured.mentioning(path).length > 0, `${path} logged`);
});

test("a log.meta with no valid slot fails open with an error naming it (the first index cannot be guessed)", async (t) => {
  const dir = tempDir(t);
  const log = await SegmentedLog.open(options(dir));
  for (let i = 0; i < 10; i++) log.append({ timestamp: 0, payload: Buffer.alloc(10) });
  await log.compactPrefix(5);
  await log.close();
  const meta = join(dir, "log.meta");
  writeFileSync(meta, Buffer.alloc(statSync(meta).size, 0x11));
  await assert.rejects(SegmentedLog.open(options(dir)), (error: unknown) => error instanceof StorageFormatError && error.file === meta);
  writeFileSync(meta, "short");
  await assert.rejects(SegmentedLog.open(options(dir)), (error: unknown) => error instanceof StorageFormatError && error.file === meta && /bytes, expected/.test(error.message));
});
