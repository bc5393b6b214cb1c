// SnapshotStore: state-machine snapshots as whole files, newest N kept.
//
// A snapshot is written to `snapshot-<index>.snap.tmp`, fdatasynced, renamed to
// `snapshot-<index>.snap` and the directory fsynced; only then may the caller compact the log
// below `index` (consensus notes §1.7, §1.11). Loading takes the newest file that verifies and
// falls back to older ones, logging each one it skips.
//
// File layout (little-endian):
//   magic u32 "SYNS" | version u32 | index u64 | metaBytes u32 | reserved u32 | dataBytes u64 |
//   meta | data | crc32c u32
// Version 2 (written now) checksums meta and data first, then the 32-byte header, so an image can
// be streamed to disk before its length is known and the header written last. Version 1 (read
// still) checksummed everything in file order. `meta` is the caller's small header (membership
// at `index`, …); `data` is the state-machine image. `index` is zero-padded to 20 digits in the
// name so names sort by index.
//
// A streamed save (saveStream) holds at most SNAPSHOT_WRITE_PIECE_BYTES of the image in memory and
// fdatasyncs every SNAPSHOT_SYNC_EVERY_BYTES: one fsync of a whole large image (95 MB measured)
// held the log's own fdatasync behind it for hundreds of milliseconds on ext4.
import { open, readdir, rename, stat } from "node:fs/promises";
import { join } from "node:path";
import { crc32c } from "@node-rs/crc32";
import type { Logger } from "../util/logger.js";
import { assert } from "../util/assert.js";
import { readInt64LE, writeInt64LE } from "./frame.js";
import { StorageError, StorageFormatError } from "./errors.js";
import { fsyncDirectory, readAt, unlinkIfExists, writeFully } from "./fs-util.js";

const MAGIC = 0x534e5953; // "SYNS" read as little-endian u32
const FORMAT_VERSION = 2;
const FORMAT_VERSION_FILE_ORDER_CRC = 1;
/** A streamed image is handed to the OS in writes of about this size. */
export const SNAPSHOT_WRITE_PIECE_BYTES = 1024 * 1024;
/** A streamed image is fdatasynced every this many bytes, so no one fsync flushes a whole image. */
export const SNAPSHOT_SYNC_EVERY_BYTES = 4 * 1024 * 1024;
const HEADER_BYTES = 32;
const CRC_BYTES = 4;
const NAME_PATTERN = /^snapshot-(\d{20})\.snap$/;

export interface SnapshotStoreOptions {
  dir: string;
  logger: Logger;
  /** How many snapshots to keep (newest first); at least 1. Default 2. */
  keepCount?: number;
  /** Largest snapshot (meta + data) load() will allocate for. Default 1 GiB. */
  snapshotBytesMax?: number;
}

export interface SnapshotInfo {
  index: number;
  path: string;
  sizeBytes: number;
}

export interface Snapshot {
  index: number;
  meta: Buffer;
  data: Buffer;
}

export class SnapshotStore {
  private readonly keepCount: number;
  private readonly snapshotBytesMax: number;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    private readonly logger: Logger,
    options: SnapshotStoreOptions,
  ) {
    this.keepCount = options.keepCount ?? 2;
    this.snapshotBytesMax = options.snapshotBytesMax ?? 2 ** 30;
    assert(Number.isSafeInteger(this.keepCount) && this.keepCount >= 1, `keepCount ${this.keepCount}`);
    assert(Number.isSafeInteger(this.snapshotBytesMax) && this.snapshotBytesMax > 0, `snapshotBytesMax ${this.snapshotBytesMax}`);
  }

  /** Opens the directory (which must exist), deleting stray temp files left by a crash. */
  static async open(options: SnapshotStoreOptions): Promise<SnapshotStore> {
    const store = new SnapshotStore(options.dir, options.logger, options);
    let removed = 0;
    for (const name of await readdir(options.dir)) {
      if (name.endsWith(".snap.tmp")) {
        await unlinkIfExists(join(options.dir, name));
        options.logger.warn({ file: join(options.dir, name) }, "removed an unfinished snapshot left by a crash");
        removed++;
      } else if (!NAME_PATTERN.test(name)) {
        throw new StorageFormatError(join(options.dir, name), "is not a snapshot file; move it out of the snapshot directory");
      }
    }
    if (removed > 0) await fsyncDirectory(options.dir);
    return store;
  }

  /** The snapshots on disk, oldest first (unverified: load() checks contents). */
  async list(): Promise<SnapshotInfo[]> {
    const infos: SnapshotInfo[] = [];
    for (const name of await readdir(this.dir)) {
      const match = NAME_PATTERN.exec(name);
      if (!match) continue;
      const path = join(this.dir, name);
      try {
        infos.push({ index: Number(match[1]), path, sizeBytes: (await stat(path)).size });
      } catch {
        // Deleted by a concurrent prune: not listed.
      }
    }
    return infos.sort((a, b) => a.index - b.index);
  }

  /**
   * Saves a snapshot of the state at `index` durably, then deletes all but the newest keepCount.
   * Saves are serialized. Saving an index that exists replaces it atomically.
   */
  save(index: number, data: Uint8Array | Uint8Array[], meta: Uint8Array = new Uint8Array(0)): Promise<SnapshotInfo> {
    assert(Number.isSafeInteger(index) && index >= 0, `snapshot index ${index}`);
    return this.saveStream(index, meta, Array.isArray(data) ? data : [data]);
  }

  /** The newest snapshot that verifies, or undefined; invalid ones are logged and skipped. */
  async loadLatest(): Promise<Snapshot | undefined> {
    const infos = await this.list();
    for (let i = infos.length - 1; i >= 0; i--) {
      const loaded = await this.load(infos[i]);
      if (typeof loaded !== "string") return loaded;
      this.logger.error({ file: infos[i].path, reason: loaded }, "snapshot failed verification; trying an older one");
    }
    return undefined;
  }

  /** Loads and verifies one snapshot; returns the reason when it is not valid. */
  async load(info: SnapshotInfo): Promise<Snapshot | string> {
    const handle = await open(info.path, "r");
    try {
      const size = (await handle.stat()).size;
      if (size < HEADER_BYTES + CRC_BYTES) return `file of ${size} bytes is shorter than a header`;
      const header = await readAt(handle, 0, HEADER_BYTES);
      if (header.readUInt32LE(0) !== MAGIC) return "bad magic";
      const version = header.readUInt32LE(4);
      if (version !== FORMAT_VERSION && version !== FORMAT_VERSION_FILE_ORDER_CRC) return `unknown format version ${version}`;
      const index = readInt64LE(header, 8);
      const metaBytes = header.readUInt32LE(16);
      const dataBytes = readInt64LE(header, 24);
      if (index !== info.index) return `header says index ${index}, name says ${info.index}`;
      if (!(dataBytes >= 0) || HEADER_BYTES + metaBytes + dataBytes + CRC_BYTES !== size) return "header lengths do not match the file size";
      if (metaBytes + dataBytes > this.snapshotBytesMax) {
        throw new StorageError("SNAPSHOT_TOO_LARGE", `${info.path}: ${metaBytes + dataBytes} bytes exceeds snapshotBytesMax ${this.snapshotBytesMax}`);
      }
      const body = await readAt(handle, 0, size);
      if (body.length !== size) return "file shrank while reading";
      const stored = body.readUInt32LE(size - CRC_BYTES);
      const computed =
        version === FORMAT_VERSION
          ? crc32c(body.subarray(0, HEADER_BYTES), crc32c(body.subarray(HEADER_BYTES, size - CRC_BYTES)))
          : crc32c(body.subarray(0, size - CRC_BYTES));
      if (computed !== stored) return "CRC mismatch";
      const meta = body.subarray(HEADER_BYTES, HEADER_BYTES + metaBytes);
      const dataStart = HEADER_BYTES + metaBytes;
      return { index, meta, data: body.subarray(dataStart, dataStart + dataBytes) };
    } finally {
      await handle.close();
    }
  }

  /**
   * Saves a snapshot whose image arrives in chunks (e.g. a copy-on-write tree walk), writing it as
   * it comes: memory holds at most about SNAPSHOT_WRITE_PIECE_BYTES of it, and the file is
   * fdatasynced every SNAPSHOT_SYNC_EVERY_BYTES. If `chunks` throws, the unfinished file is
   * removed and the error rethrown; nothing else changes. Serialized with save().
   */
  saveStream(index: number, meta: Uint8Array, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<SnapshotInfo> {
    assert(Number.isSafeInteger(index) && index >= 0, `snapshot index ${index}`);
    const result = this.queue.then(() => this.saveNow(index, chunks, meta));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async saveNow(index: number, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, meta: Uint8Array): Promise<SnapshotInfo> {
    const path = join(this.dir, `snapshot-${String(index).padStart(20, "0")}.snap`);
    const temp = `${path}.tmp`;
    const handle = await open(temp, "w");
    let dataBytes = 0;
    try {
      // The header goes last (it holds the image's length); its bytes are reserved now.
      let position = HEADER_BYTES;
      let crc = crc32c(meta);
      let pending: Uint8Array[] = meta.byteLength > 0 ? [meta] : [];
      let pendingBytes = meta.byteLength;
      let unsynced = 0;
      const writePending = async (): Promise<void> => {
        if (pendingBytes === 0) return;
        position += await writeFully(handle, pending, position);
        unsynced += pendingBytes;
        pending = [];
        pendingBytes = 0;
        if (unsynced >= SNAPSHOT_SYNC_EVERY_BYTES) {
          await handle.datasync();
          unsynced = 0;
        }
      };
      for await (const chunk of chunks) {
        if (chunk.byteLength === 0) continue;
        dataBytes += chunk.byteLength;
        if (meta.byteLength + dataBytes > this.snapshotBytesMax) {
          throw new StorageError("SNAPSHOT_TOO_LARGE", `${path}: the image exceeds snapshotBytesMax ${this.snapshotBytesMax}`);
        }
        crc = crc32c(chunk, crc);
        // A large chunk (a whole image from the leader) is written and synced in pieces too.
        for (let from = 0; from < chunk.byteLength; from += SNAPSHOT_WRITE_PIECE_BYTES) {
          const piece = from === 0 && chunk.byteLength <= SNAPSHOT_WRITE_PIECE_BYTES ? chunk : chunk.subarray(from, from + SNAPSHOT_WRITE_PIECE_BYTES);
          pending.push(piece);
          pendingBytes += piece.byteLength;
          if (pendingBytes >= SNAPSHOT_WRITE_PIECE_BYTES) await writePending();
        }
      }
      const header = Buffer.alloc(HEADER_BYTES);
      header.writeUInt32LE(MAGIC, 0);
      header.writeUInt32LE(FORMAT_VERSION, 4);
      writeInt64LE(header, 8, index);
      header.writeUInt32LE(meta.byteLength, 16);
      writeInt64LE(header, 24, dataBytes);
      const trailer = Buffer.alloc(CRC_BYTES);
      trailer.writeUInt32LE(crc32c(header, crc), 0);
      pending.push(trailer);
      pendingBytes += CRC_BYTES;
      await writePending();
      await writeFully(handle, [header], 0);
      await handle.datasync();
    } catch (error) {
      await handle.close();
      await unlinkIfExists(temp);
      throw error;
    }
    await handle.close();
    await rename(temp, path);
    await fsyncDirectory(this.dir);
    await this.prune();
    return { index, path, sizeBytes: HEADER_BYTES + meta.byteLength + dataBytes + CRC_BYTES };
  }

  private async prune(): Promise<void> {
    const infos = await this.list();
    const doomed = infos.slice(0, Math.max(0, infos.length - this.keepCount));
    for (const info of doomed) await unlinkIfExists(info.path);
    if (doomed.length > 0) await fsyncDirectory(this.dir);
  }
}
