// The simulated disk of one node: what its driver persisted, with the failure modes a real disk
// has (notes §1.11, TigerBeetle's storage fault model):
//   - writes since the last sync are volatile: a crash keeps only a random PREFIX of them (the
//     order the driver issued them), so unsynced entries and even an unsynced truncation can vanish;
//   - the last write that survives a crash may be torn (its checksum no longer matches);
//   - latent read errors: an entry that was durable reads back corrupt after a restart.
// Every entry carries a CRC-32C over its contents, so the driver detects both on restart. We
// inject only faults the protocol claims to survive: a latent error never hits the last entry
// (indistinguishable from a torn write), and the hard state and snapshots are atomic records
// (a two-slot meta store and write-temp-fsync-rename).
import { crc32c } from "@node-rs/crc32";
import { assert } from "../util/assert.js";
import type { SeededRandom } from "../util/random.js";
import type { SnapshotMeta } from "../paxos/codec.js";
import type { Membership } from "../paxos/membership.js";
import type { DurableState } from "../paxos/ready.js";
import { EMPTY_HARD_STATE, type HardState, type LogEntry, type Slot } from "../paxos/types.js";

interface StoredEntry {
  readonly entry: LogEntry;
  /** CRC-32C of the entry as written; a torn or corrupt entry no longer matches its data. */
  readonly crc: number;
  /** The data as it reads back (differs from entry.data once corrupted). */
  readonly readData: Uint8Array;
}

interface Image {
  hardState: HardState | undefined;
  firstSlot: Slot;
  entries: StoredEntry[];
  snapshot: { meta: SnapshotMeta; image: Uint8Array } | undefined;
}

type Op =
  | { readonly kind: "hard"; readonly state: HardState }
  | { readonly kind: "truncate"; readonly slot: Slot }
  | { readonly kind: "append"; readonly entry: StoredEntry };

export interface DiskReadout {
  readonly hardState: HardState | undefined;
  readonly snapshot: { meta: SnapshotMeta; image: Uint8Array } | undefined;
  readonly firstSlot: Slot;
  /** Every physical entry from firstSlot, with whether its checksum verified. */
  readonly entries: ReadonlyArray<{ readonly entry: LogEntry; readonly valid: boolean }>;
  /** The last slot physically present (firstSlot - 1 when the log is empty). */
  readonly lastSlotOnDisk: Slot;
}

export interface DiskStats {
  syncs: number;
  crashesLosingWrites: number;
  tornWrites: number;
  latentErrors: number;
}

function checksum(entry: LogEntry): number {
  let crc = crc32c(entry.data);
  const header = new Uint8Array(17);
  const view = new DataView(header.buffer);
  view.setFloat64(0, entry.slot);
  view.setUint32(8, entry.ballot.round);
  view.setUint32(12, entry.ballot.replicaId);
  header[16] = entry.kind;
  crc = crc32c(header, crc);
  return crc;
}

function store(entry: LogEntry): StoredEntry {
  return { entry, crc: checksum(entry), readData: entry.data };
}

function cloneImage(image: Image): Image {
  return { hardState: image.hardState, firstSlot: image.firstSlot, entries: image.entries.slice(), snapshot: image.snapshot };
}

/** Applies one write; returns whether it appended an entry (a torn write can only hit that one). */
function applyOp(image: Image, op: Op): boolean {
  switch (op.kind) {
    case "hard":
      image.hardState = op.state;
      return false;
    case "truncate": {
      const keep = Math.max(0, op.slot - image.firstSlot);
      if (keep < image.entries.length) image.entries.length = keep;
      return false;
    }
    case "append": {
      const expected = image.firstSlot + image.entries.length;
      // An append below the compaction point (the snapshot raced ahead of it) is simply dropped.
      if (op.entry.entry.slot < image.firstSlot) return false;
      assert(op.entry.entry.slot === expected, `disk append at ${op.entry.entry.slot}, expected ${expected}`);
      image.entries.push(op.entry);
      return true;
    }
  }
}

export class SimDisk {
  private durable: Image = { hardState: undefined, firstSlot: 1, entries: [], snapshot: undefined };
  private view: Image = cloneImage(this.durable);
  private pending: Op[] = [];
  readonly stats: DiskStats = { syncs: 0, crashesLosingWrites: 0, tornWrites: 0, latentErrors: 0 };

  get lastSlot(): Slot {
    return this.view.firstSlot + this.view.entries.length - 1;
  }

  get firstSlot(): Slot {
    return this.view.firstSlot;
  }

  /** The last slot an fsync made durable (a crash now keeps at least this much). */
  get durableLastSlot(): Slot {
    return this.durable.firstSlot + this.durable.entries.length - 1;
  }

  /** The durable hard state (undefined before the first synced write of one). */
  get durableHardState(): HardState | undefined {
    return this.durable.hardState;
  }

  get hasPendingWrites(): boolean {
    return this.pending.length > 0;
  }

  writeHardState(state: HardState): void {
    this.op({ kind: "hard", state });
  }

  truncate(slot: Slot): void {
    this.op({ kind: "truncate", slot });
  }

  append(entry: LogEntry): void {
    this.op({ kind: "append", entry: store(entry) });
  }

  private op(op: Op): void {
    applyOp(this.view, op);
    this.pending.push(op);
  }

  sync(): void {
    for (const op of this.pending) applyOp(this.durable, op);
    this.pending = [];
    this.stats.syncs++;
  }

  /** Saves a snapshot atomically and durably (write temp, fsync, rename, fsync dir). */
  saveSnapshot(meta: SnapshotMeta, image: Uint8Array): void {
    const snapshot = { meta, image: image.slice() };
    this.durable.snapshot = snapshot;
    this.view.snapshot = snapshot;
  }

  /** Drops entries below `firstSlot` durably; a log that ended below it becomes empty there. */
  compactPrefix(firstSlot: Slot): void {
    for (const image of [this.durable, this.view]) {
      if (firstSlot <= image.firstSlot) continue;
      const drop = Math.min(firstSlot - image.firstSlot, image.entries.length);
      image.entries.splice(0, drop);
      image.firstSlot = firstSlot;
    }
  }

  /**
   * Entries [fromSlot, toSlot] (checksums verified), stopping before the first corrupt entry,
   * whose slot is then reported.
   */
  readRange(fromSlot: Slot, toSlot: Slot, bytesMax: number): { entries: LogEntry[]; corruptSlot: Slot | undefined } {
    const entries: LogEntry[] = [];
    let bytes = 0;
    for (let slot = Math.max(fromSlot, this.view.firstSlot); slot <= Math.min(toSlot, this.lastSlot); slot++) {
      const stored = this.view.entries[slot - this.view.firstSlot];
      if (checksum({ ...stored.entry, data: stored.readData }) !== stored.crc) return { entries, corruptSlot: slot };
      entries.push(stored.entry);
      bytes += stored.entry.data.length;
      if (bytes >= bytesMax) break;
    }
    return { entries, corruptSlot: undefined };
  }

  get snapshot(): { meta: SnapshotMeta; image: Uint8Array } | undefined {
    return this.view.snapshot;
  }

  /**
   * Power loss: keeps a random prefix of the unsynced writes, possibly tearing the last append
   * that made it, then forgets the volatile view.
   */
  crash(random: SeededRandom, tornWriteRate: number): void {
    const survivors = random.int(this.pending.length + 1);
    this.crashKeeping(survivors, random.chance(tornWriteRate));
  }

  /** Power loss keeping exactly the first `survivors` unsynced writes, tearing the last if it appended. */
  crashKeeping(survivors: number, tearLast: boolean): void {
    assert(survivors >= 0 && survivors <= this.pending.length, "survivors are a prefix of the pending writes");
    if (survivors < this.pending.length) this.stats.crashesLosingWrites++;
    let lastAppended = false;
    for (let i = 0; i < survivors; i++) lastAppended = applyOp(this.durable, this.pending[i]);
    if (lastAppended && tearLast) {
      this.corruptAt(this.durable.entries.length - 1);
      this.stats.tornWrites++;
    }
    this.pending = [];
    this.view = cloneImage(this.durable);
  }

  get pendingWriteCount(): number {
    return this.pending.length;
  }

  /** Corrupts the durable entry at `slot` (a latent sector error, for scenario scripts). */
  corruptSlot(slot: Slot): void {
    const index = slot - this.durable.firstSlot;
    assert(index >= 0 && index < this.durable.entries.length, `slot ${slot} is on disk`);
    this.corruptAt(index);
    this.view = cloneImage(this.durable);
  }

  /** Latent sector errors: each durable entry but the last reads back corrupt with probability `rate`. */
  injectLatentErrors(random: SeededRandom, rate: number): number {
    let injected = 0;
    for (let i = 0; i + 1 < this.durable.entries.length; i++) {
      if (!random.chance(rate)) continue;
      this.corruptAt(i);
      injected++;
    }
    this.stats.latentErrors += injected;
    this.view = cloneImage(this.durable);
    return injected;
  }

  private corruptAt(index: number): void {
    const stored = this.durable.entries[index];
    const data = stored.entry.data.length > 0 ? stored.entry.data.slice() : new Uint8Array(1);
    data[0] ^= 0x5a;
    this.durable.entries[index] = { entry: stored.entry, crc: stored.crc, readData: data };
  }

  /** What a restarting driver reads back: every entry with its checksum verified. */
  read(): DiskReadout {
    const image = this.durable;
    const entries = image.entries.map((stored) => {
      const readBack: LogEntry = { ...stored.entry, data: stored.readData };
      return { entry: stored.entry, valid: checksum(readBack) === stored.crc };
    });
    return {
      hardState: image.hardState,
      snapshot: image.snapshot,
      firstSlot: image.firstSlot,
      entries,
      lastSlotOnDisk: image.firstSlot + image.entries.length - 1,
    };
  }

  /** After a restart: the driver cut a torn tail; make the disk agree (durably). */
  dropTornTail(slot: Slot): void {
    const keep = slot - this.durable.firstSlot;
    this.durable.entries.length = Math.min(this.durable.entries.length, keep);
    this.view = cloneImage(this.durable);
  }
}

/**
 * What a restarting driver hands the replica, read back from its disk. Only the LAST physical
 * entry may be a torn write (the write in flight at power loss, never acknowledged): it is
 * dropped. Any other bad entry is corruption inside the durable log: above the snapshot, the
 * replica is told the slots from there on are lost (it truncates and rejoins as non-voting);
 * at or below the snapshot it is harmless (the snapshot covers it).
 */
export function readDurableState(disk: SimDisk, bootstrap: Membership, trace: (line: string) => void = () => undefined): DurableState {
  const readout = disk.read();
  const snapshotMeta = readout.snapshot?.meta ?? { slot: 0, membership: bootstrap };
  const physical = readout.entries;
  const tornSlot = physical.length > 0 && !physical[physical.length - 1].valid ? readout.lastSlotOnDisk : undefined;
  let lost: Slot | undefined;
  for (const { entry, valid } of physical) {
    if (!valid && entry.slot !== tornSlot && entry.slot > snapshotMeta.slot) {
      lost = entry.slot;
      break;
    }
  }
  if (tornSlot !== undefined) {
    trace(`torn write at slot ${tornSlot} dropped`);
    disk.dropTornTail(tornSlot);
    // The log must end at or above the snapshot (or be empty just after it).
    if (disk.lastSlot < snapshotMeta.slot) disk.compactPrefix(snapshotMeta.slot + 1);
  }
  const lastSlot = Math.max(snapshotMeta.slot, tornSlot !== undefined ? tornSlot - 1 : readout.lastSlotOnDisk);
  if (lost !== undefined) trace(`corrupt entry at slot ${lost} (log ends at ${lastSlot}): rejoining as non-voting`);
  const tail: LogEntry[] = [];
  for (const { entry } of physical) {
    if (entry.slot > snapshotMeta.slot && entry.slot <= lastSlot && (lost === undefined || entry.slot < lost)) tail.push(entry);
  }
  return {
    hardState: readout.hardState ?? EMPTY_HARD_STATE,
    snapshot: snapshotMeta,
    logFirstSlot: Math.min(readout.firstSlot, snapshotMeta.slot + 1),
    lastSlot,
    tail,
    memberships: [],
    appliedSlot: snapshotMeta.slot,
    lostFromSlot: lost,
  };
}
