// Append throughput of the storage engine with fsync "always":
//  - group commit: `inflight` producers each append one entry and await sync(), again and again,
//    so many appends share each fdatasync; 1 KiB and 16 KiB entries; MB/s of payload.
//  - one fsync per append: a single producer, append + await sync(); appends/s and latency.
//  - the append hot path alone (fsync "never", no waiting): appends/s of framing + CRC + copy.
// The dd baseline (bench/dd-baseline.ts) runs first on the same filesystem, so the ratio is
// measured, not assumed. Prints one JSON line.
// Usage: npm run bench -- storage-append [--dir <dir>] [--mib 512] [--dd-mib 1024]
import { mkdtempSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SegmentedLog } from "../src/storage/segmented-log.js";
import type { StorageFsyncPolicy } from "../src/storage/fsync-policy.js";
import { silentLogger } from "../src/util/logger.js";
import { systemClock } from "../src/node/system-clock.js";
import { note, parseArgs, percentile, report, type BenchFigures } from "./harness.js";
import { ddBaseline } from "./dd-baseline.js";

const args = parseArgs();
const root = mkdtempSync(join(args.get("dir") ?? tmpdir(), "synod-bench-append-"));
const targetBytes = Number(args.get("mib") ?? 512) * 1024 * 1024;

/** Counts fdatasync calls by wrapping the real FileHandle method (the disk stays real). */
async function countingDatasync(): Promise<{ count(): number; restore(): void }> {
  const probe = await open(process.execPath, "r");
  const prototype = Object.getPrototypeOf(probe) as { datasync: () => Promise<void> };
  await probe.close();
  const original = prototype.datasync;
  let count = 0;
  prototype.datasync = function (this: unknown) {
    count++;
    return original.call(this);
  };
  return { count: () => count, restore: () => (prototype.datasync = original) };
}

async function openLog(name: string, fsync: StorageFsyncPolicy): Promise<SegmentedLog> {
  return SegmentedLog.open({ dir: join(root, name), clock: systemClock, logger: silentLogger(), fsync, writeBufferBytesMax: 64 * 1024 * 1024 });
}

async function groupCommit(entryBytes: number, inflight: number): Promise<BenchFigures> {
  const log = await openLog(`group-${entryBytes}-${inflight}`, "always");
  const payload = Buffer.alloc(entryBytes, 0x61);
  const total = Math.floor(targetBytes / entryBytes);
  let started = 0;
  const syncs = await countingDatasync();
  const t0 = performance.now();
  async function producer(): Promise<void> {
    while (started < total) {
      started++;
      log.append({ timestamp: 0, payload });
      await log.sync();
    }
  }
  await Promise.all(Array.from({ length: inflight }, () => producer()));
  const seconds = (performance.now() - t0) / 1000;
  syncs.restore();
  await log.close();
  const figures = {
    entryBytes,
    inflight,
    entries: total,
    mbPerSecond: Math.round((total * entryBytes) / 1e6 / seconds),
    appendsPerSecond: Math.round(total / seconds),
    fdatasyncs: syncs.count(),
    entriesPerFdatasync: Math.round(total / Math.max(1, syncs.count())),
  };
  note(`group commit ${JSON.stringify(figures)}`);
  return figures;
}

async function fsyncPerAppend(entryBytes: number, count: number): Promise<BenchFigures> {
  const log = await openLog(`single-${entryBytes}`, "always");
  const payload = Buffer.alloc(entryBytes, 0x62);
  const latencies: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const a = performance.now();
    log.append({ timestamp: 0, payload });
    await log.sync();
    latencies.push(performance.now() - a);
  }
  const seconds = (performance.now() - t0) / 1000;
  await log.close();
  const figures = {
    entryBytes,
    appends: count,
    appendsPerSecond: Math.round(count / seconds),
    latencyMsP50: Number(percentile(latencies, 50).toFixed(3)),
    latencyMsP99: Number(percentile(latencies, 99).toFixed(3)),
  };
  note(`fsync per append ${JSON.stringify(figures)}`);
  return figures;
}

async function hotPath(entryBytes: number, count: number): Promise<BenchFigures> {
  const log = await openLog(`hot-${entryBytes}`, "never");
  const payload = Buffer.alloc(entryBytes, 0x63);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    try {
      log.append({ timestamp: i, payload });
    } catch {
      await log.flush(); // backpressure: the write buffer is full
      log.append({ timestamp: i, payload });
    }
  }
  await log.sync();
  const seconds = (performance.now() - t0) / 1000;
  await log.close();
  const figures = { entryBytes, appends: count, appendsPerSecond: Math.round(count / seconds), mbPerSecond: Math.round((count * entryBytes) / 1e6 / seconds) };
  note(`hot path ${JSON.stringify(figures)}`);
  return figures;
}

try {
  const dd = ddBaseline(root, Number(args.get("dd-mib") ?? 1024));
  note(`dd baseline ${dd.mbPerSecond.toFixed(0)} MB/s`);
  const groups: BenchFigures[] = [];
  for (const [entryBytes, inflight] of [
    [1024, 256],
    [1024, 1024],
    [16 * 1024, 64],
    [16 * 1024, 256],
  ]) {
    groups.push(await groupCommit(entryBytes, inflight));
  }
  const best = (bytes: number): number => Math.max(...groups.filter((g) => g.entryBytes === bytes).map((g) => g.mbPerSecond as number));
  report("storage-append", {
    dir: root,
    ddMbPerSecond: Math.round(dd.mbPerSecond),
    ddCommand: dd.command,
    groupCommit: groups as unknown as BenchFigures,
    groupCommitVsDd: { "1KiB": Number((best(1024) / dd.mbPerSecond).toFixed(2)), "16KiB": Number((best(16 * 1024) / dd.mbPerSecond).toFixed(2)) },
    fsyncPerAppend: await fsyncPerAppend(1024, 2000),
    hotPath: await hotPath(1024, 500_000),
  });
} finally {
  rmSync(root, { recursive: true, force: true });
}
