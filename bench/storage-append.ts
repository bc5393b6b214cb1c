// Append throughput of the storage engine with fsync "always", beside dd on the same filesystem:
//  - group commit, window model (how the Paxos runtime drives a log): keep up to `window` bytes
//    appended but not yet durable, in batches of `batch` bytes with one sync() per batch, one
//    batch per event-loop turn; several batches in flight, so appends continue while the disk
//    flushes. 1 KiB and 16 KiB entries.
//    Each configuration runs three times; the median is reported with the spread.
//  - group commit, client model: `clients` independent clients each append one entry and await
//    its own sync() (acks=all producers), so each client's wait is one promise per entry.
//  - one fsync per append: a single client, append + await sync(); appends/s and latency.
//  - the append call alone (fsync "never", steady state): ns inside append() per 1 KiB entry.
// dd runs before and after (bench/dd-baseline.ts); ratios use their mean. Prints one JSON line.
// Usage: npm run bench -- storage-append [--dir <dir>] [--mib 512] [--dd-mib 1024]
import { mkdtempSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SegmentedLog } from "../src/storage/segmented-log.js";
import type { StorageFsyncPolicy } from "../src/storage/fsync-policy.js";
import { BackpressureError } from "../src/storage/errors.js";
import { silentLogger } from "../src/util/logger.js";
import { systemClock } from "../src/node/system-clock.js";
import { note, parseArgs, percentile, report, type BenchFigures } from "./harness.js";
import { ddBaseline } from "./dd-baseline.js";

const MiB = 1024 * 1024;
const args = parseArgs();
const root = mkdtempSync(join(args.get("dir") ?? tmpdir(), "synod-bench-append-"));
const targetBytes = Number(args.get("mib") ?? 512) * MiB;
let runs = 0;

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

async function withLog<T>(fsync: StorageFsyncPolicy, fn: (log: SegmentedLog) => Promise<T>): Promise<T> {
  const dir = join(root, `run-${runs++}`);
  const log = await SegmentedLog.open({ dir, clock: systemClock, logger: silentLogger(), fsync, writeBufferBytesMax: 64 * MiB });
  try {
    return await fn(log);
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One window-model run: MB/s of payload made durable, and fdatasyncs used. */
async function windowRun(entryBytes: number, windowBytes: number, batchBytes: number): Promise<{ mbPerSecond: number; fdatasyncs: number }> {
  return withLog("always", async (log) => {
    const payload = Buffer.alloc(entryBytes, 0x61);
    const total = Math.floor(targetBytes / entryBytes);
    let appended = 0;
    let durable = 0;
    let inflightBytes = 0;
    const syncs = await countingDatasync();
    const started = performance.now();
    await new Promise<void>((done, fail) => {
      // One batch per event-loop turn, as the runtime appends one accepted message per socket
      // read: a driver that filled the whole window in one synchronous loop would hold back the
      // write and fdatasync completions the log is waiting on (measured: about half the rate).
      let scheduled = false;
      const schedule = (): void => {
        if (scheduled || appended === total || inflightBytes + entryBytes > windowBytes) return;
        scheduled = true;
        setImmediate(pump);
      };
      const pump = (): void => {
        scheduled = false;
        let batch = 0;
        while (batch * entryBytes < batchBytes && inflightBytes + entryBytes <= windowBytes && appended < total) {
          log.append({ timestamp: 0, payload });
          appended++;
          batch++;
          inflightBytes += entryBytes;
        }
        if (batch === 0) return;
        log.sync().then(() => {
          inflightBytes -= batch * entryBytes;
          durable += batch;
          if (durable === total) done();
          else schedule();
        }, fail);
        schedule();
      };
      pump();
    });
    const seconds = (performance.now() - started) / 1000;
    syncs.restore();
    return { mbPerSecond: (total * entryBytes) / 1e6 / seconds, fdatasyncs: syncs.count() };
  });
}

async function windowModel(entryBytes: number, windowBytes: number, batchBytes: number): Promise<BenchFigures> {
  const results: Array<{ mbPerSecond: number; fdatasyncs: number }> = [];
  for (let i = 0; i < 3; i++) results.push(await windowRun(entryBytes, windowBytes, batchBytes));
  const rates = results.map((r) => r.mbPerSecond).sort((a, b) => a - b);
  const figures = {
    entryBytes,
    windowMiB: windowBytes / MiB,
    batchMiB: batchBytes / MiB,
    mbPerSecondMedian: Math.round(rates[1]),
    mbPerSecondRuns: rates.map((r) => Math.round(r)),
    appendsPerSecondMedian: Math.round((rates[1] * 1e6) / entryBytes),
    entriesPerFdatasync: Math.round(targetBytes / entryBytes / results[1].fdatasyncs),
  };
  note(`window model ${JSON.stringify(figures)}`);
  return figures;
}

async function clientModel(entryBytes: number, clients: number): Promise<BenchFigures> {
  return withLog("always", async (log) => {
    const payload = Buffer.alloc(entryBytes, 0x62);
    const total = Math.floor(targetBytes / 2 / entryBytes);
    let started = 0;
    const syncs = await countingDatasync();
    const t0 = performance.now();
    const client = async (): Promise<void> => {
      while (started < total) {
        started++;
        log.append({ timestamp: 0, payload });
        await log.sync();
      }
    };
    await Promise.all(Array.from({ length: clients }, () => client()));
    const seconds = (performance.now() - t0) / 1000;
    syncs.restore();
    const figures = { entryBytes, clients, mbPerSecond: Math.round((total * entryBytes) / 1e6 / seconds), appendsPerSecond: Math.round(total / seconds), entriesPerFdatasync: Math.round(total / syncs.count()) };
    note(`client model ${JSON.stringify(figures)}`);
    return figures;
  });
}

async function fsyncPerAppend(entryBytes: number, count: number): Promise<BenchFigures> {
  return withLog("always", async (log) => {
    const payload = Buffer.alloc(entryBytes, 0x63);
    const latencies: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      const a = performance.now();
      log.append({ timestamp: 0, payload });
      await log.sync();
      latencies.push(performance.now() - a);
    }
    const seconds = (performance.now() - t0) / 1000;
    const figures = { entryBytes, appends: count, appendsPerSecond: Math.round(count / seconds), latencyMsP50: Number(percentile(latencies, 50).toFixed(3)), latencyMsP99: Number(percentile(latencies, 99).toFixed(3)) };
    note(`fsync per append ${JSON.stringify(figures)}`);
    return figures;
  });
}

/** The cost of append() itself in steady state (recycled write chunks), fsync "never". */
async function appendCall(entryBytes: number, count: number): Promise<BenchFigures> {
  return withLog("never", async (log) => {
    const payload = Buffer.alloc(entryBytes, 0x64);
    let insideMs = 0;
    const t0 = performance.now();
    for (let i = 0; i < count; ) {
      const a = performance.now();
      try {
        for (; i < count; i++) log.append({ timestamp: i, payload });
      } catch (error) {
        if (!(error instanceof BackpressureError)) throw error;
      }
      insideMs += performance.now() - a;
      await log.flush();
    }
    await log.sync();
    const seconds = (performance.now() - t0) / 1000;
    const figures = { entryBytes, appends: count, nsPerAppendCall: Math.round((insideMs * 1e6) / count), appendsPerSecondWithWrites: Math.round(count / seconds) };
    note(`append call ${JSON.stringify(figures)}`);
    return figures;
  });
}

try {
  const ddMiB = Number(args.get("dd-mib") ?? 1024);
  const ddBefore = ddBaseline(root, ddMiB);
  const window1k = await windowModel(1024, 16 * MiB, MiB);
  const window16k = await windowModel(16 * 1024, 16 * MiB, MiB);
  const clients1k = await clientModel(1024, 1024);
  const clients16k = await clientModel(16 * 1024, 256);
  const single = await fsyncPerAppend(1024, 2000);
  const call = await appendCall(1024, 1_000_000);
  const ddAfter = ddBaseline(root, ddMiB);
  const dd = (ddBefore.mbPerSecond + ddAfter.mbPerSecond) / 2;
  report("storage-append", {
    dir: root,
    ddCommand: ddBefore.command,
    ddMbPerSecond: { before: Math.round(ddBefore.mbPerSecond), after: Math.round(ddAfter.mbPerSecond) },
    groupCommitWindow: [window1k, window16k] as unknown as BenchFigures,
    groupCommitVsDd: {
      "1KiB": Number(((window1k.mbPerSecondMedian as number) / dd).toFixed(2)),
      "16KiB": Number(((window16k.mbPerSecondMedian as number) / dd).toFixed(2)),
    },
    groupCommitClients: [clients1k, clients16k] as unknown as BenchFigures,
    fsyncPerAppend: single,
    appendCall: call,
  });
} finally {
  rmSync(root, { recursive: true, force: true });
}
