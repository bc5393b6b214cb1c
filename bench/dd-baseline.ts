// The disk's sequential write ceiling, measured the way the brief and docs/benchmarks.md cite it:
//   dd if=/dev/zero of=<dir>/dd-baseline.bin bs=1M count=<mib> conv=fdatasync
// run on the same filesystem as the storage benchmarks (--dir, default the OS temp dir). The
// storage-append goal (≥ 60 % of this figure under group commit) is read against it.
// Usage: npm run bench -- dd-baseline [--dir <dir>] [--mib 1024]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { note, parseArgs, report } from "./harness.js";

export function ddBaseline(dir: string, mib: number): { command: string; bytes: number; seconds: number; mbPerSecond: number } {
  const file = join(dir, "dd-baseline.bin");
  const args = ["if=/dev/zero", `of=${file}`, "bs=1M", `count=${mib}`, "conv=fdatasync"];
  const started = process.hrtime.bigint();
  const result = spawnSync("dd", args, { encoding: "utf8" });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  rmSync(file, { force: true });
  if (result.status !== 0) throw new Error(`dd failed: ${result.stderr}`);
  note(result.stderr.trim());
  const bytes = mib * 1024 * 1024;
  return { command: `dd ${args.join(" ")}`, bytes, seconds, mbPerSecond: bytes / 1e6 / seconds };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = parseArgs();
  const dir = mkdtempSync(join(args.get("dir") ?? tmpdir(), "synod-dd-"));
  try {
    const mib = Number(args.get("mib") ?? 1024);
    const figures = ddBaseline(dir, mib);
    report("dd-baseline", { dir, ...figures, mbPerSecond: Math.round(figures.mbPerSecond) });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
