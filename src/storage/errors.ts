// The storage engine's vocabulary of operating errors: typed, so callers (the Paxos runtime, the
// Kafka fetch path) can react to each one — repair a corrupt entry from a peer, answer
// OFFSET_OUT_OF_RANGE, wait for backpressure to clear — without parsing messages. Invariant
// violations of our own code are not here: they are ProgrammerError assertions (util/assert.ts).

/** Base class of every storage operating error; `code` is stable and machine-readable. */
export class StorageError extends Error {
  override name = "StorageError";
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type StorageErrorCode =
  | "CORRUPT_ENTRY"
  | "INDEX_COMPACTED"
  | "INDEX_OUT_OF_RANGE"
  | "ENTRY_TOO_LARGE"
  | "BACKPRESSURE"
  | "LOG_FAILED"
  | "LOG_CLOSED"
  | "BAD_FORMAT"
  | "SNAPSHOT_TOO_LARGE"
  | "RECORD_TOO_LARGE";

/**
 * An entry failed verification (CRC, length, or its recorded index): the bytes on disk are not
 * what was written. Never returned as data. The Paxos layer repairs it from a peer.
 */
export class CorruptEntryError extends StorageError {
  override name = "CorruptEntryError";
  constructor(
    readonly file: string,
    readonly position: number,
    readonly index: number,
    readonly reason: string,
  ) {
    super("CORRUPT_ENTRY", `corrupt entry ${index} in ${file} at byte ${position}: ${reason}`);
  }
}

/** The requested index is below firstIndex: removed by compactPrefix or retention. */
export class IndexCompactedError extends StorageError {
  override name = "IndexCompactedError";
  constructor(
    readonly index: number,
    readonly firstIndex: number,
  ) {
    super("INDEX_COMPACTED", `index ${index} is below the log's first index ${firstIndex}`);
  }
}

/** The requested index is beyond lastIndex + 1. */
export class IndexOutOfRangeError extends StorageError {
  override name = "IndexOutOfRangeError";
  constructor(
    readonly index: number,
    readonly lastIndex: number,
  ) {
    super("INDEX_OUT_OF_RANGE", `index ${index} is beyond the log's last index ${lastIndex} + 1`);
  }
}

export class EntryTooLargeError extends StorageError {
  override name = "EntryTooLargeError";
  constructor(
    readonly payloadBytes: number,
    readonly entryBytesMax: number,
  ) {
    super("ENTRY_TOO_LARGE", `entry payload of ${payloadBytes} bytes exceeds entryBytesMax ${entryBytesMax}`);
  }
}

/**
 * The write buffer is full: the disk is behind the appends. Nothing was appended; await
 * `log.flush()` (or `sync()`) and append again.
 */
export class BackpressureError extends StorageError {
  override name = "BackpressureError";
  constructor(
    readonly bufferedBytes: number,
    readonly writeBufferBytesMax: number,
  ) {
    super("BACKPRESSURE", `write buffer full (${bufferedBytes} of ${writeBufferBytesMax} bytes buffered); await flush() and retry`);
  }
}

/**
 * A write or fsync failed earlier; the log refuses all further work. Never retried: after a
 * failed fsync the kernel may have dropped the dirty pages, so "retry and succeed" can silently
 * lose data (Rebello et al., ATC 2020). The process must restart and recover from disk.
 */
export class LogFailedError extends StorageError {
  override name = "LogFailedError";
  constructor(file: string, cause: unknown) {
    super("LOG_FAILED", `storage at ${file} failed and is unusable: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

export class LogClosedError extends StorageError {
  override name = "LogClosedError";
  constructor(file: string) {
    super("LOG_CLOSED", `storage at ${file} is closed`);
  }
}

/** A file in a storage directory that cannot be what it claims to be; names the file. */
export class StorageFormatError extends StorageError {
  override name = "StorageFormatError";
  constructor(
    readonly file: string,
    message: string,
  ) {
    super("BAD_FORMAT", `${file}: ${message}`);
  }
}
