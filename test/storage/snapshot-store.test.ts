// Goal: snapshots are saved atomically and durably, only the newest N are kept, and loading takes
// the newest one that verifies (falling back past damaged ones, with a log line).
// Method: real files; damage is planted by rewriting bytes of a saved snapshot.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { crc32c } from "@node-rs/crc32";
import { join } from "node:path";
import { SNAPSHOT_WRITE_PIECE_BYTES, SnapshotStore } from "../../src/storage/snapshot-store.js";
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

test("a streamed save writes the image as it arrives (header last) and loads as the concatenation", async (t) => {
  const dir = tempDir(t);
  const store = await SnapshotStore.open({ dir, logger: silentLogger() });
  const temp = join(dir, "snapshot-00000000000000000042.snap.tmp");
  const sizesSeen: number[] = [];
  const chunk = (i: number): Buffer => Buffer.alloc(64 * 1024, i % 251);
  async function* image(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < 160; i++) {
      if (i % 40 === 0) sizesSeen.push(existsSync(temp) ? statSync(temp).size : -1);
      yield chunk(i);
      await new Promise((resolve) => setImmediate(resolve));
    }
    // One chunk larger than a write piece is written in pieces too.
    yield Buffer.alloc(3 * SNAPSHOT_WRITE_PIECE_BYTES + 5, 7);
  }
  const saved = await store.saveStream(42, Buffer.from("meta"), image());
  // By the 120th chunk (7.5 MiB produced) most of it is on disk: memory held one write piece.
  assert.ok(sizesSeen[3] >= 120 * 64 * 1024 - SNAPSHOT_WRITE_PIECE_BYTES, `file sizes while streaming: ${sizesSeen.join(", ")}`);
  const expected = Buffer.concat([...Array.from({ length: 160 }, (_, i) => chunk(i)), Buffer.alloc(3 * SNAPSHOT_WRITE_PIECE_BYTES + 5, 7)]);
  assert.equal(saved.sizeBytes, 32 + 4 + expected.length + 4);
  const loaded = (await store.loadLatest())!;
  assert.equal(loaded.index, 42);
  assert.equal(loaded.meta.toString(), "meta");
  assert.ok(loaded.data.equals(expected));
  assert.deepEqual(readdirSync(dir), ["snapshot-00000000000000000042.snap"]);
});

test("an image that fails mid-stream, or outgrows snapshotBytesMax, leaves no file; the previous snapshot stays", async (t) => {
  const dir = tempDir(t);
  const store = await SnapshotStore.open({ dir, logger: silentLogger(), snapshotBytesMax: 4 * 1024 * 1024 });
  await store.save(1, Buffer.from("one"));
  async function* failing(): AsyncGenerator<Uint8Array> {
    yield Buffer.alloc(2 * SNAPSHOT_WRITE_PIECE_BYTES, 1);
    throw new Error("abandoned by the caller");
  }
  await assert.rejects(store.saveStream(2, Buffer.alloc(0), failing()), /abandoned by the caller/);
  function* huge(): Generator<Uint8Array> {
    for (let i = 0; i < 8; i++) yield Buffer.alloc(SNAPSHOT_WRITE_PIECE_BYTES, i);
  }
  await assert.rejects(store.saveStream(3, Buffer.alloc(0), huge()), (error: unknown) => error instanceof StorageError && error.code === "SNAPSHOT_TOO_LARGE");
  assert.deepEqual(readdirSync(dir), ["snapshot-00000000000000000001.snap"]);
  assert.equal((await store.loadLatest())!.data.toString(), "one");
  // The store goes on working after a failed save.
  await store.save(4, Buffer.from("four"));
  assert.equal((await store.loadLatest())!.data.toString(), "four");
});

test("a version-1 snapshot (checksummed in file order) still loads; a damaged one is refused", async (t) => {
  const dir = tempDir(t);
  const meta = Buffer.from("v1 meta");
  const data = Buffer.from("state written by format version 1");
  const header = Buffer.alloc(32);
  header.writeUInt32LE(0x534e5953, 0);
  header.writeUInt32LE(1, 4);
  header.writeBigInt64LE(9n, 8);
  header.writeUInt32LE(meta.length, 16);
  header.writeBigInt64LE(BigInt(data.length), 24);
  const body = Buffer.concat([header, meta, data]);
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32LE(crc32c(body), 0);
  const path = join(dir, "snapshot-00000000000000000009.snap");
  writeFileSync(path, Buffer.concat([body, trailer]));
  const store = await SnapshotStore.open({ dir, logger: silentLogger() });
  const loaded = (await store.loadLatest())!;
  assert.equal(loaded.index, 9);
  assert.equal(loaded.meta.toString(), "v1 meta");
  assert.equal(loaded.data.toString(), data.toString());
  const damaged = Buffer.concat([body, trailer]);
  damaged[40] ^= 1;
  writeFileSync(path, damaged);
  assert.equal(await store.load((await store.list())[0]), "CRC mismatch");
});
