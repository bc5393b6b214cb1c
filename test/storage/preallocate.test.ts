// Goal: the active segment's sparse preallocation (SegmentedLogOptions.preallocateBytes) is
// invisible to everything but the file size: a clean close and a roll leave files exactly as long
// as their entries, and after a crash recovery trims the zero tail without calling it a torn
// tail, while real garbage before the zeros is still cut and reported.
// Method: real files. A crash image is a copy of the log directory taken while the log is open
// (after sync), which is what a killed process leaves: the written bytes, no index for the
// active segment, and the file extended past its entries.
import { test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, cpSync, openSync, readdirSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { SegmentedLog, type SegmentedLogOptions } from "../../src/storage/segmented-log.js";
import { tempDir } from "../helpers/tmp.js";
import { ManualClock, capturingLogger, payloadFor } from "./helpers.js";

const KiB = 1024;

function options(dir: string, extra: Partial<SegmentedLogOptions> = {}): SegmentedLogOptions {
  return { dir, clock: new ManualClock(), logger: capturingLogger().logger, preallocateBytes: 256 * KiB, ...extra };
}

function logFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith(".log"))
    .sort()
    .map((name) => join(dir, name));
}

async function appendSynced(log: SegmentedLog, from: number, count: number, bytes = 300): Promise<void> {
  for (let i = from; i < from + count; i++) log.append({ timestamp: i, payload: payloadFor(i, bytes) });
  await log.sync();
}

async function assertEntries(log: SegmentedLog, count: number, bytes = 300): Promise<void> {
  assert.equal(log.lastIndex, count - 1);
  let next = 0;
  while (next < count) {
    const entries = await log.read(next);
    for (const entry of entries) assert.deepEqual(entry.payload, payloadFor(entry.index, bytes), `entry ${entry.index}`);
    next += entries.length;
  }
}

test("the active segment is extended ahead of its writes; a clean close trims it to its entries", async (t) => {
  const dir = tempDir(t);
  const log = await SegmentedLog.open(options(dir));
  await appendSynced(log, 0, 100);
  const [file] = logFiles(dir);
  assert.equal(statSync(file).size, 256 * KiB, "one preallocation step ahead of 100 small entries");
  await appendSynced(log, 100, 2000); // past 256 KiB: the file grows by another step
  assert.ok(log.sizeBytes > 256 * KiB, `${log.sizeBytes} bytes of entries`);
  assert.equal(statSync(file).size, Math.ceil(log.sizeBytes / (256 * KiB)) * 256 * KiB);
  await log.close();
  const again = await SegmentedLog.open(options(dir));
  t.after(() => again.close());
  assert.equal(again.recovery.cleanShutdown, true);
  assert.equal(statSync(file).size, again.sizeBytes, "clean close leaves the file exactly its entries");
  await assertEntries(again, 2100);
});

test("a sealed segment is trimmed to its entries before its successor starts", async (t) => {
  const dir = tempDir(t);
  const log = await SegmentedLog.open(options(dir, { segmentBytesMax: 64 * KiB }));
  t.after(() => log.close());
  await appendSynced(log, 0, 1500);
  const files = logFiles(dir);
  assert.ok(files.length >= 3, `rolled into ${files.length} segments`);
  for (const file of files.slice(0, -1)) assert.ok(statSync(file).size <= 64 * KiB, `${file} is ${statSync(file).size} bytes`);
  assert.equal(statSync(files.at(-1)!).size, 256 * KiB, "only the active segment is preallocated");
});

test("after a crash, recovery trims the preallocated zero tail without reporting a torn tail", async (t) => {
  const dir = tempDir(t);
  const image = tempDir(t, "synod-crash-image-");
  const log = await SegmentedLog.open(options(dir));
  t.after(() => log.close());
  await appendSynced(log, 0, 200);
  cpSync(dir, image, { recursive: true });
  const [file] = logFiles(image);
  assert.equal(statSync(file).size, 256 * KiB);
  const captured = capturingLogger();
  const recovered = await SegmentedLog.open({ ...options(image), logger: captured.logger });
  t.after(() => recovered.close());
  assert.equal(recovered.recovery.cleanShutdown, false);
  assert.equal(recovered.recovery.truncation, undefined, "zeros beyond the entries are not a torn tail");
  assert.deepEqual(recovered.recovery.corruptEntries, []);
  assert.equal(statSync(file).size, recovered.sizeBytes, "the zero tail is gone");
  assert.equal(captured.mentioning("preallocated zero tail").length, 1);
  await assertEntries(recovered, 200);
  // Appends continue where the entries end (the file is extended again from there).
  await appendSynced(recovered, 200, 10);
  await assertEntries(recovered, 210);
});

test("after a crash, a torn frame in front of the zero tail is still cut and reported", async (t) => {
  const dir = tempDir(t);
  const image = tempDir(t, "synod-crash-image-");
  const log = await SegmentedLog.open(options(dir));
  t.after(() => log.close());
  await appendSynced(log, 0, 50);
  const end = log.sizeBytes;
  cpSync(dir, image, { recursive: true });
  const [file] = logFiles(image);
  // Half of a frame reached the file just past the last entry (a torn write), zeros follow.
  const fd = openSync(file, "r+");
  writeSync(fd, Buffer.alloc(100, 0x37), 0, 100, end);
  closeSync(fd);
  const recovered = await SegmentedLog.open(options(image));
  t.after(() => recovered.close());
  assert.equal(recovered.recovery.truncation?.position, end);
  assert.equal(recovered.recovery.truncation?.index, 50);
  assert.equal(statSync(file).size, end);
  await assertEntries(recovered, 50);
});

test("preallocateBytes 0: files are always exactly their entries", async (t) => {
  const dir = tempDir(t);
  const log = await SegmentedLog.open(options(dir, { preallocateBytes: 0 }));
  t.after(() => log.close());
  await appendSynced(log, 0, 100);
  assert.equal(statSync(logFiles(dir)[0]).size, log.sizeBytes);
});
