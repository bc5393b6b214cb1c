// Goal: snapshots are saved atomically and durably, only the newest N are kept, and loading takes
// the newest one that verifies (falling back past damaged ones, with a log line).
// Method: real files; damage is planted by rewriting bytes of a saved snapshot.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SnapshotStore } from "../../src/storage/snapshot-store.js";
import { StorageError, StorageFormatError } from "../../src/storage/errors.js";
import { tempDir } from "../helpers/tmp.js";
import { capturingLogger } from "./helpers.js";
import { silentLogger } from "../../src/util/logger.js";

test("save and loadLatest round-trip data and meta; only the newest keepCount remain", async (t) => {
  const dir = tempDir(t);
  const store = await SnapshotStore.open({ dir, logger: silentLogger(), keepCount: 2 });
  assert.equal(await store.loadLatest(), undefined);
  await store.save(10, Buffer.from("state at 10"), Buffer.from("ballot 3"));
  await store.save(20, [Buffer.from("state "), Buffer.from("at 20")]);
  await store.save(30, Buffer.alloc(100_000, 3), Buffer.from("m"));
  assert.deepEqual((await store.list()).map((s) => s.index), [20, 30]);
  assert.deepEqual(readdirSync(dir).sort(), ["snapshot-00000000000000000020.snap", "snapshot-00000000000000000030.snap"]);
  const latest = (await store.loadLatest())!;
  assert.equal(latest.index, 30);
  assert.ok(latest.data.equals(Buffer.alloc(100_000, 3)));
  assert.equal(latest.meta.toString(), "m");
});

test("a damaged newest snapshot is skipped with a log line; the previous one loads", async (t) => {
  const dir = tempDir(t);
  const captured = capturingLogger();
  const store = await SnapshotStore.open({ dir, logger: captured.logger, keepCount: 3 });
  await store.save(1, Buffer.from("one"));
  const second = await store.save(2, Buffer.from("two"));
  const bytes = readFileSync(second.path);
  bytes[bytes.length - 6] ^= 1;
  writeFileSync(second.path, bytes);
  const latest = (await store.loadLatest())!;
  assert.equal(latest.index, 1);
  assert.equal(latest.data.toString(), "one");
  assert.ok(captured.mentioning(second.path).some((line) => line.reason === "CRC mismatch"));
  writeFileSync(second.path, bytes.subarray(0, 10));
  assert.equal((await store.loadLatest())!.index, 1, "a truncated snapshot is skipped too");
});

test("open removes unfinished temp files and refuses unknown files by name", async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "snapshot-00000000000000000005.snap.tmp"), "half written");
  const store = await SnapshotStore.open({ dir, logger: silentLogger() });
  assert.deepEqual(readdirSync(dir), []);
  await store.save(5, Buffer.from("five"));
  writeFileSync(join(dir, "README"), "hello");
  await assert.rejects(SnapshotStore.open({ dir, logger: silentLogger() }), (error: unknown) => error instanceof StorageFormatError && error.file === join(dir, "README"));
});

test("a snapshot larger than snapshotBytesMax is refused before allocating it", async (t) => {
  const dir = tempDir(t);
  const writer = await SnapshotStore.open({ dir, logger: silentLogger() });
  await writer.save(7, Buffer.alloc(4096));
  const reader = await SnapshotStore.open({ dir, logger: silentLogger(), snapshotBytesMax: 1024 });
  await assert.rejects(reader.loadLatest(), (error: unknown) => error instanceof StorageError && error.code === "SNAPSHOT_TOO_LARGE");
});
