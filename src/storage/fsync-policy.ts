// When the storage engine calls fdatasync. The strings are identical to node/config.ts's
// FsyncPolicy (storage/ may not import node/, so the type is declared again here; a test keeps the
// two in step).

/**
 * - `always`: `sync()` writes and fdatasyncs; concurrent callers share one fdatasync (group commit).
 * - `interval:<ms>`: a background timer syncs every <ms>; `sync()` still forces an fdatasync.
 * - `never`: `sync()` only hands the bytes to the page cache. Survives a process crash, not an
 *   OS crash or power loss.
 */
export type StorageFsyncPolicy = "always" | "never" | `interval:${number}`;

export interface ParsedFsyncPolicy {
  kind: "always" | "never" | "interval";
  /** For "interval": the period in ms; otherwise 0. */
  intervalMs: number;
}

/** Parses a policy string; throws a RangeError naming the bad value. */
export function parseStorageFsyncPolicy(raw: string): ParsedFsyncPolicy {
  if (raw === "always" || raw === "never") return { kind: raw, intervalMs: 0 };
  const match = /^interval:(\d+)$/.exec(raw);
  if (match) {
    const intervalMs = Number(match[1]);
    if (Number.isSafeInteger(intervalMs) && intervalMs > 0) return { kind: "interval", intervalMs };
  }
  throw new RangeError(`invalid fsync policy: ${raw} (expected always, never or interval:<ms>)`);
}
