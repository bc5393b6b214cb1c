// Small filesystem helpers with the durability rules spelled out once. "Durable" means fsynced:
// a file's bytes need fdatasync on the file; its existence (create, rename, unlink) needs fsync
// on the directory that names it.
import { writevSync, writeSync } from "node:fs";
import { open, rename, unlink, type FileHandle } from "node:fs/promises";

/** fsync a directory so that creates, renames and unlinks inside it survive power loss. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * What is left after a short writev of `written` bytes: each unfinished buffer and where in it to
 * go on. A short writev on a regular file is rare (signals, quotas).
 */
function* unwritten(buffers: Uint8Array[], written: number): Generator<{ buffer: Uint8Array; from: number }> {
  let skip = written;
  for (const buffer of buffers) {
    if (skip >= buffer.byteLength) {
      skip -= buffer.byteLength;
      continue;
    }
    yield { buffer, from: skip };
    skip = 0;
  }
}

function totalBytes(buffers: Uint8Array[]): number {
  let total = 0;
  for (const buffer of buffers) total += buffer.byteLength;
  return total;
}

function noProgress(at: number): Error {
  return new Error(`write made no progress at byte ${at}`);
}

/** Writes all of `buffers` at `position`, looping over short writes (ENOSPC surfaces as an error). */
export async function writeFully(handle: FileHandle, buffers: Uint8Array[], position: number): Promise<number> {
  let written = (await handle.writev(buffers, position)).bytesWritten;
  if (written === totalBytes(buffers)) return written;
  for (const { buffer, from } of unwritten(buffers, written)) {
    for (let offset = from; offset < buffer.byteLength; ) {
      const { bytesWritten } = await handle.write(buffer, offset, buffer.byteLength - offset, position + written);
      if (bytesWritten === 0) throw noProgress(position + written);
      offset += bytesWritten;
      written += bytesWritten;
    }
  }
  return written;
}

/**
 * writeFully on the calling thread: for small writes, a copy into the page cache costs less than
 * the two thread-pool hand-offs of an asynchronous write (measured on a loaded 2-core machine:
 * 0.8 ms per hand-off round trip against tens of microseconds for the copy).
 */
export function writeFullySync(fd: number, buffers: Uint8Array[], position: number): number {
  let written = writevSync(fd, buffers, position);
  if (written === totalBytes(buffers)) return written;
  for (const { buffer, from } of unwritten(buffers, written)) {
    for (let offset = from; offset < buffer.byteLength; ) {
      const bytesWritten = writeSync(fd, buffer, offset, buffer.byteLength - offset, position + written);
      if (bytesWritten === 0) throw noProgress(position + written);
      offset += bytesWritten;
      written += bytesWritten;
    }
  }
  return written;
}

/** True when bytes [from, to) of the file are all zero (holes read as zeros). */
export async function isZeroRegion(handle: FileHandle, from: number, to: number): Promise<boolean> {
  const step = 1024 * 1024;
  const size = Math.min(step, Math.max(0, to - from));
  const buffer = Buffer.alloc(size);
  const zeros = Buffer.alloc(size);
  for (let position = from; position < to; position += step) {
    const length = Math.min(step, to - position);
    const { bytesRead } = await handle.read(buffer, 0, length, position);
    if (bytesRead < length || !buffer.subarray(0, length).equals(zeros.subarray(0, length))) return false;
  }
  return true;
}

/** Reads exactly `length` bytes at `position` into a new buffer, or fewer if the file ends. */
export async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === length ? buffer : buffer.subarray(0, filled);
}

/**
 * Creates or replaces `path` atomically and durably: write `path.tmp`, fdatasync, rename over
 * `path`, fsync the directory. A crash leaves either the old file or the new one, plus perhaps a
 * stray `.tmp` that the owner deletes on open.
 */
export async function writeFileAtomic(dir: string, path: string, buffers: Uint8Array[]): Promise<void> {
  const temp = `${path}.tmp`;
  const handle = await open(temp, "w");
  try {
    await writeFully(handle, buffers, 0);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  await fsyncDirectory(dir);
}

/** Unlinks a file; true if it existed. */
export async function unlinkIfExists(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
}

export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}
