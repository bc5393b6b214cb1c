// Goal: the simulated disk models what the simulator claims (lost unsynced writes as a prefix,
// torn last writes, latent read errors) and a restarting driver classifies each correctly: a torn
// last entry is dropped silently, any other bad entry above the snapshot makes the replica rejoin
// as non-voting, and corruption below the snapshot is harmless. Method: drive SimDisk directly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SimDisk, readDurableState } from "../../src/sim/disk.js";
import { membership } from "../../src/paxos/membership.js";
import { EntryKind, type LogEntry } from "../../src/paxos/types.js";

const ballot = { round: 1, replicaId: 1 };
const entry = (slot: number): LogEntry => ({ slot, ballot, kind: EntryKind.commands, data: new Uint8Array([slot, slot + 1]) });
const group = membership([1, 2, 3]);

function diskWith(synced: number, unsynced: number): SimDisk {
  const disk = new SimDisk();
  for (let s = 1; s <= synced; s++) disk.append(entry(s));
  disk.sync();
  for (let s = synced + 1; s <= synced + unsynced; s++) disk.append(entry(s));
  return disk;
}

test("disk: a crash keeps only a prefix of the unsynced writes", () => {
  const disk = diskWith(3, 3);
  disk.crashKeeping(1, false);
  const state = readDurableState(disk, group);
  assert.equal(state.lastSlot, 4);
  assert.deepEqual(state.tail.map((e) => e.slot), [1, 2, 3, 4]);
  assert.equal(state.lostFromSlot, undefined);
});

test("disk: a torn last write is dropped; nothing is lost", () => {
  const disk = diskWith(3, 2);
  disk.crashKeeping(2, true);
  const lines: string[] = [];
  const state = readDurableState(disk, group, (l) => lines.push(l));
  assert.equal(state.lastSlot, 4, "the torn slot 5 is gone");
  assert.equal(state.lostFromSlot, undefined);
  assert.match(lines.join(), /torn write at slot 5/);
  assert.equal(disk.lastSlot, 4, "the disk agrees after the restart");
});

test("disk: a latent error inside the log is corruption, even when a torn write follows it", () => {
  const disk = diskWith(5, 1);
  disk.corruptSlot(3);
  disk.crashKeeping(1, true);
  const state = readDurableState(disk, group);
  assert.equal(state.lostFromSlot, 3, "the replica is told slots from 3 on are lost");
  assert.equal(state.lastSlot, 5, "its old last durable slot (the torn slot 6 excluded)");
  assert.deepEqual(state.tail.map((e) => e.slot), [1, 2]);
});

test("disk: corruption at or below the snapshot is harmless", () => {
  const disk = diskWith(6, 0);
  disk.saveSnapshot({ slot: 4, membership: group }, new Uint8Array([1]));
  disk.corruptSlot(2);
  const state = readDurableState(disk, group);
  assert.equal(state.lostFromSlot, undefined);
  assert.deepEqual(state.tail.map((e) => e.slot), [5, 6]);
  assert.equal(state.snapshot.slot, 4);
});

test("disk: read ranges verify checksums and stop at a corrupt entry", () => {
  const disk = diskWith(6, 0);
  disk.corruptSlot(4);
  const read = disk.readRange(2, 6, 1 << 20);
  assert.deepEqual(read.entries.map((e) => e.slot), [2, 3]);
  assert.equal(read.corruptSlot, 4);
});
