// Goal: MetaStore keeps one small record durably, replaces it without ever exposing a half-written
// record, and updates in place (no rename per update) in two alternating slots.
// Method: real files; torn updates are reproduced by damaging the slot that the newest write used.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statSync, writeFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { open, type FileHandle } from "node:fs/promises";
import { MetaStore } from "../../src/storage/meta-store.js";
import { LogFailedError, StorageError, StorageFormatError } from "../../src/storage/errors.js";
import { tempDir } from "../helpers/tmp.js";

test("write then reopen returns the newest record; updates stay in one file, in place", async (t) => {
  const dir = tempDir(t);
  let store = await MetaStore.open({ dir, name: "ballot" });
  assert.equal(store.record, undefined);
  assert.equal(store.sequence, 0);
  await store.write(Buffer.from("ballot 1"));
  const inode = statSync(join(dir, "ballot.meta")).ino;
  for (let i = 2; i <= 9; i++) await store.write(Buffer.from(`ballot ${i}`));
  assert.equal(statSync(join(dir, "ballot.meta")).ino, inode, "no rename per update");
  assert.equal(statSync(join(dir, "ballot.meta")).size, 8192);
  await store.close();
  store = await MetaStore.open({ dir, name: "ballot" });
  t.after(() => store.close());
  assert.equal(Buffer.from(store.record!).toString(), "ballot 9");
  assert.equal(store.sequence, 9);
  assert.deepEqual(readdirSync(dir), ["ballot.meta"]);
});

test("a torn update of the newer slot falls back to the previous record", async (t) => {
  const dir = tempDir(t);
  const store = await MetaStore.open({ dir, name: "m" });
  await store.write(Buffer.from("first"));
  await store.write(Buffer.from("second")); // sequence 2 → slot 0
  await store.close();
  const path = join(dir, "m.meta");
  const bytes = readFileSync(path);
  bytes[30] ^= 0xff; // inside slot 0's record
  writeFileSync(path, bytes);
  const reopened = await MetaStore.open({ dir, name: "m" });
  t.after(() => reopened.close());
  assert.equal(Buffer.from(reopened.record!).toString(), "first");
  await reopened.write(Buffer.from("third"));
  assert.equal(reopened.sequence, 2, "the torn slot is rewritten with the next sequence");
});

test("both slots damaged, or a file of the wrong size: open fails naming the file", async (t) => {
  const dir = tempDir(t);
  const store = await MetaStore.open({ dir, name: "m" });
  await store.write(Buffer.from("a"));
  await store.write(Buffer.from("b"));
  await store.close();
  const path = join(dir, "m.meta");
  writeFileSync(path, Buffer.alloc(8192, 0x42));
  await assert.rejects(MetaStore.open({ dir, name: "m" }), (error: unknown) => error instanceof StorageFormatError && error.file === path);
  writeFileSync(path, Buffer.alloc(100));
  await assert.rejects(MetaStore.open({ dir, name: "m" }), (error: unknown) => error instanceof StorageFormatError && /100 bytes/.test(error.message));
});

test("an interrupted first write leaves only a temp file: removed, no record", async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "m.meta.tmp"), "half");
  const store = await MetaStore.open({ dir, name: "m" });
  t.after(() => store.close());
  assert.equal(store.record, undefined);
  assert.deepEqual(readdirSync(dir), []);
});

test("records beyond the slot are refused with a typed error; writes apply in call order", async (t) => {
  const store = await MetaStore.open({ dir: tempDir(t), name: "m", slotBytes: 512 });
  t.after(() => store.close());
  await assert.rejects(store.write(Buffer.alloc(store.recordBytesMax + 1)), (error: unknown) => error instanceof StorageError && error.code === "RECORD_TOO_LARGE");
  await Promise.all([store.write(Buffer.from("1")), store.write(Buffer.from("2")), store.write(Buffer.from("3"))]);
  assert.equal(Buffer.from(store.record!).toString(), "3");
  assert.equal(store.sequence, 3);
});

test("a failed fdatasync makes the store unusable (never retried)", async (t) => {
  const store = await MetaStore.open({ dir: tempDir(t), name: "m" });
  await store.write(Buffer.from("ok"));
  const probe = await open(process.execPath, "r");
  const prototype = Object.getPrototypeOf(probe) as { datasync: FileHandle["datasync"] };
  await probe.close();
  const original = prototype.datasync;
  prototype.datasync = () => Promise.reject(Object.assign(new Error("EIO"), { code: "EIO" }));
  try {
    await assert.rejects(store.write(Buffer.from("lost")), LogFailedError);
  } finally {
    prototype.datasync = original;
  }
  await assert.rejects(store.write(Buffer.from("again")), LogFailedError);
  assert.equal(Buffer.from(store.record!).toString(), "ok");
  await store.close();
});
