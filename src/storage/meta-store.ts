// MetaStore: one small durable record (a promised ballot, a log's first index) that is replaced
// often and must never be half-replaced.
//
// Design: two alternating slots in one file, each record stamped with a sequence number and a
// CRC-32C. An update overwrites the OLDER slot in place and fdatasyncs: one pwrite + one
// fdatasync, no rename and no directory fsync per update (those cost two more syncs). A torn
// update damages only the slot being written; the other still holds the previous record, so the
// newest valid slot is always either the old or the new record, never a mix. The file itself is
// created once with the classic temp + fsync + rename + fsync-dir dance.
//
// File `<name>.meta`, 2 × slotBytes (default 4096, a sector multiple so a torn write cannot
// cross into the other slot):
//   slot: magic u32 "SYNM" | version u32 | sequence u64 | recordBytes u32 | reserved u32 |
//         record | crc32c u32 of everything before it in the slot
import { open, stat, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { crc32c } from "@node-rs/crc32";
import { assert } from "../util/assert.js";
import { readInt64LE, writeInt64LE } from "./frame.js";
import { LogClosedError, LogFailedError, StorageError, StorageFormatError } from "./errors.js";
import { isNotFound, readAt, unlinkIfExists, writeFileAtomic } from "./fs-util.js";

const SLOT_MAGIC = 0x4d4e5953; // "SYNM" read as little-endian u32
const FORMAT_VERSION = 1;
const SLOT_HEADER_BYTES = 24;
const SLOT_CRC_BYTES = 4;
export const META_SLOT_BYTES_DEFAULT = 4096;

export interface MetaStoreOptions {
  /** Directory holding the file (created by the caller). */
  dir: string;
  /** File name stem: the file is `<name>.meta`. */
  name: string;
  /** Bytes per slot; the largest record is slotBytes - 28. Default 4096. */
  slotBytes?: number;
}

export interface MetaRecord {
  sequence: number;
  record: Uint8Array;
}

export class MetaStore {
  private current: MetaRecord | undefined;
  private handle: FileHandle | undefined;
  private queue: Promise<void> = Promise.resolve();
  private failed: unknown;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly dir: string,
    readonly slotBytes: number,
  ) {}

  /** The largest record a write accepts. */
  get recordBytesMax(): number {
    return this.slotBytes - SLOT_HEADER_BYTES - SLOT_CRC_BYTES;
  }

  /** The newest durable record, or undefined if none was ever written. */
  get record(): Uint8Array | undefined {
    return this.current?.record;
  }

  get sequence(): number {
    return this.current?.sequence ?? 0;
  }

  /**
   * Opens the store and loads the newest valid slot. A file with no valid slot is refused with
   * an error naming it: the record may be a promise to a proposer, and forgetting it is unsafe.
   */
  static async open(options: MetaStoreOptions): Promise<MetaStore> {
    const slotBytes = options.slotBytes ?? META_SLOT_BYTES_DEFAULT;
    assert(Number.isSafeInteger(slotBytes) && slotBytes >= 64 && slotBytes % 512 === 0, `slotBytes ${slotBytes} must be a multiple of 512`);
    const path = join(options.dir, `${options.name}.meta`);
    const store = new MetaStore(path, options.dir, slotBytes);
    // A crash during the first write leaves only the temp file: the record was never durable.
    await unlinkIfExists(`${path}.tmp`);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch (error) {
      if (isNotFound(error)) return store;
      throw error;
    }
    if (size !== 2 * slotBytes) throw new StorageFormatError(path, `is ${size} bytes, expected ${2 * slotBytes} (two slots)`);
    store.handle = await open(path, "r+");
    const bytes = await readAt(store.handle, 0, size);
    const slots = [decodeSlot(bytes.subarray(0, slotBytes)), decodeSlot(bytes.subarray(slotBytes))];
    for (const slot of slots) {
      if (slot && (!store.current || slot.sequence > store.current.sequence)) store.current = slot;
    }
    if (!store.current) {
      await store.handle.close();
      throw new StorageFormatError(path, "neither slot holds a valid record (both fail their CRC); refusing to guess the lost value");
    }
    return store;
  }

  /**
   * Replaces the record durably: when the promise resolves, a crash at any later moment loads this
   * record (or a newer one). Writes are applied in call order. A failed write or fdatasync makes
   * the store unusable (never retried; see errors.ts LogFailedError).
   */
  write(record: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new LogClosedError(this.path));
    if (this.failed) return Promise.reject(new LogFailedError(this.path, this.failed));
    if (record.byteLength > this.recordBytesMax) {
      return Promise.reject(new StorageError("RECORD_TOO_LARGE", `${this.path}: record of ${record.byteLength} bytes exceeds ${this.recordBytesMax}`));
    }
    const copy = Buffer.from(record);
    const result = this.queue.then(() => this.writeNow(copy));
    this.queue = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.handle?.close();
    this.handle = undefined;
  }

  private async writeNow(record: Buffer): Promise<void> {
    if (this.failed) throw new LogFailedError(this.path, this.failed);
    const sequence = this.sequence + 1;
    const slot = encodeSlot(sequence, record);
    try {
      if (!this.handle) {
        const image = Buffer.alloc(2 * this.slotBytes);
        slot.copy(image, (sequence % 2) * this.slotBytes);
        await writeFileAtomic(this.dir, this.path, [image]);
        this.handle = await open(this.path, "r+");
      } else {
        const { bytesWritten } = await this.handle.write(slot, 0, slot.length, (sequence % 2) * this.slotBytes);
        assert(bytesWritten === slot.length, `short write to ${this.path}`);
        await this.handle.datasync();
      }
    } catch (error) {
      this.failed = error;
      throw new LogFailedError(this.path, error);
    }
    this.current = { sequence, record: new Uint8Array(record) };
  }
}

function encodeSlot(sequence: number, record: Buffer): Buffer {
  const slot = Buffer.alloc(SLOT_HEADER_BYTES + record.length + SLOT_CRC_BYTES);
  slot.writeUInt32LE(SLOT_MAGIC, 0);
  slot.writeUInt32LE(FORMAT_VERSION, 4);
  writeInt64LE(slot, 8, sequence);
  slot.writeUInt32LE(record.length, 16);
  slot.writeUInt32LE(0, 20);
  record.copy(slot, SLOT_HEADER_BYTES);
  const end = SLOT_HEADER_BYTES + record.length;
  slot.writeUInt32LE(crc32c(slot.subarray(0, end)), end);
  return slot;
}

function decodeSlot(slot: Buffer): MetaRecord | undefined {
  if (slot.readUInt32LE(0) !== SLOT_MAGIC || slot.readUInt32LE(4) !== FORMAT_VERSION) return undefined;
  const sequence = readInt64LE(slot, 8);
  const recordBytes = slot.readUInt32LE(16);
  const end = SLOT_HEADER_BYTES + recordBytes;
  if (!(sequence > 0) || end + SLOT_CRC_BYTES > slot.length) return undefined;
  if (crc32c(slot.subarray(0, end)) !== slot.readUInt32LE(end)) return undefined;
  return { sequence, record: new Uint8Array(slot.subarray(SLOT_HEADER_BYTES, end)) };
}
