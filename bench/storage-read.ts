// Sequential read throughput of the storage engine: writes a log of --mib MiB (1 KiB or --entry
// sized entries), closes it, reopens it (a clean open reads index trailers only) and reads it end
// to end with a 1 MiB budget per read, verifying every CRC. Also reports the process's external
// memory while reading (bounded: the log is never loaded whole) and random-access reads/s.
// The data is likely in the page cache (the machine is shared; dropping caches would disturb
// others), so the figure is CPU + syscall bound, not disk bound. Prints one JSON line.
// Usage: npm run bench -- storage-read [--dir <dir>] [--mib 1024] [--entry 1024]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SegmentedLog } from "../src/storage/segmented-log.js";
import { silentLogger } from "../src/util/logger.js";
import { systemClock } from "../src/node/system-clock.js";
import { SeededRandom } from "../src/util/random.js";
import { note, parseArgs, report } from "./harness.js";

const args = parseArgs();
const root = mkdtempSync(join(args.get("dir") ?? tmpdir(), "synod-bench-read-"));
const totalBytes = Number(args.get("mib") ?? 1024) * 1024 * 1024;
const entryBytes = Number(args.get("entry") ?? 1024);
const options = { dir: root, clock: systemClock, logger: silentLogger(), fsync: "always" as const };

try {
  let log = await SegmentedLog.open(options);
  const payload = Buffer.alloc(entryBytes, 0x71);
  const count = Math.floor(totalBytes / entryBytes);
  for (let i = 0; i < count; i++) {
    try {
      log.append({ timestamp: i, payload });
    } catch {
      await log.sync();
      log.append({ timestamp: i, payload });
    }
  }
  await log.close();
  note(`wrote ${count} entries, ${(totalBytes / 2 ** 20).toFixed(0)} MiB`);

  const openStarted = performance.now();
  log = await SegmentedLog.open(options);
  const openMs = performance.now() - openStarted;
  const segments = log.segmentCount;
  const externalBefore = process.memoryUsage().arrayBuffers;
  let externalPeak = 0;
  let bytes = 0;
  let reads = 0;
  const t0 = performance.now();
  for (let next = log.firstIndex; next <= log.lastIndex; reads++) {
    const raw = await log.readRaw(next, { maxBytes: 1024 * 1024 });
    bytes += raw.buffer.length;
    next += raw.entries.length;
    if (reads % 64 === 0) externalPeak = Math.max(externalPeak, process.memoryUsage().arrayBuffers - externalBefore);
  }
  const seconds = (performance.now() - t0) / 1000;

  const random = new SeededRandom(7);
  const lookups = 20_000;
  const r0 = performance.now();
  for (let i = 0; i < lookups; i++) await log.read(random.int(count), { maxEntries: 1 });
  const randomSeconds = (performance.now() - r0) / 1000;
  await log.close();
  report("storage-read", {
    dir: root,
    entryBytes,
    logMiB: Math.round(totalBytes / 2 ** 20),
    segments,
    cleanOpenMs: Number(openMs.toFixed(1)),
    sequentialMbPerSecond: Math.round(bytes / 1e6 / seconds),
    readsOf1MiB: reads,
    // Sampled without forcing GC: includes read buffers not yet collected.
    externalMemoryPeakMiB: Number((externalPeak / 2 ** 20).toFixed(1)),
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    randomReadsPerSecond: Math.round(lookups / randomSeconds),
  });
} finally {
  rmSync(root, { recursive: true, force: true });
}
