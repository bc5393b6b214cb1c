// The storage package's public API: what node/ (the runtime) and kafka/ (fetch) import. Everything
// else in src/storage/ is internal. See docs/storage.md for formats, recovery and fsync rules.
export { SegmentedLog } from "./segmented-log.js";
export type { SegmentedLogOptions, AppendEntry, Entry, ReadOptions, RawEntry, RawRange, RetentionResult, RecoveryReport } from "./segmented-log.js";
export { MetaStore, type MetaStoreOptions } from "./meta-store.js";
export { SnapshotStore, type SnapshotStoreOptions, type Snapshot, type SnapshotInfo } from "./snapshot-store.js";
export { FRAME_HEADER_BYTES } from "./frame.js";
export { parseStorageFsyncPolicy, type StorageFsyncPolicy } from "./fsync-policy.js";
export {
  StorageError,
  CorruptEntryError,
  IndexCompactedError,
  IndexOutOfRangeError,
  EntryTooLargeError,
  BackpressureError,
  LogFailedError,
  LogClosedError,
  StorageFormatError,
  type StorageErrorCode,
} from "./errors.js";
