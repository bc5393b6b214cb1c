// Shared pieces of the Kafka benchmarks: a synod node in its own process (so broker and client
// CPU are measured separately), CPU accounting from /proc, a dd baseline, and running a client
// command with its own CPU times.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

const CLOCK_TICKS = Number(spawnSync("getconf", ["CLK_TCK"]).stdout?.toString().trim() || 100);

/** User + system CPU seconds a process has used so far (Linux /proc). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface BenchNode {
  child: ChildProcess;
  pid: number;
  bootstrap: string;
  dataDir: string;
  /** Milliseconds from spawn to the "node started" log line. */
  startMs: number;
  stop(): Promise<void>;
}

/** Starts `synod start` (compiled CLI) in its own process on a fresh data directory. */
export async function startBenchNode(extraArgs: string[] = [], dataDir = mkdtempSync(join(tmpdir(), "synod-bench-"))): Promise<BenchNode> {
  const port = await freePort();
  const cli = new URL("../bin/synod.mjs", import.meta.url).pathname;
  const started = performance.now();
  const child = spawn(process.execPath, [cli, "start", "--data-dir", dataDir, "--kafka-port", String(port), "--admin-port", "0", "--zookeeper-port", "0", "--log-level", "info", ...extraArgs], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      if (line.includes('"node started"')) resolve();
    });
    child.once("exit", (code) => reject(new Error(`synod exited with ${code} before starting`)));
  });
  const startMs = performance.now() - started;
  child.stdout!.resume();
  return {
    child,
    pid: child.pid!,
    bootstrap: `127.0.0.1:${port}`,
    dataDir,
    startMs,
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs a command; returns wall seconds and the command's own user+system CPU seconds. */
export function timedRun(command: string, args: string[], options: { input?: string } = {}): { wallSeconds: number; cpuSeconds: number; stdout: string; stderr: string } {
  // bash's `time` reports the child's CPU; TIMEFORMAT prints "user system" on stderr's last line.
  const quoted = [command, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const started = performance.now();
  const result = spawnSync("bash", ["-c", `TIMEFORMAT='%U %S'; time ${quoted}`], { input: options.input, maxBuffer: 1 << 30 });
  const wallSeconds = (performance.now() - started) / 1000;
  const stderr = result.stderr.toString();
  if (result.status !== 0) throw new Error(`${command} failed (${result.status}): ${stderr.slice(-2000)}`);
  const [user, system] = stderr.trim().split("\n").at(-1)!.split(" ").map(Number);
  return { wallSeconds, cpuSeconds: user + system, stdout: result.stdout.toString(), stderr };
}

/** dd with one fdatasync at the end, in `dir`: the disk's sequential durable write MB/s. */
export function ddBaselineMBps(dir: string, megabytes = 512): number {
  const file = join(dir, "dd-baseline.bin");
  const result = spawnSync("dd", ["if=/dev/zero", `of=${file}`, "bs=1M", `count=${megabytes}`, "conv=fdatasync"], { encoding: "utf8" });
  rmSync(file, { force: true });
  const match = /(\d+) bytes .* copied, ([\d.]+) s/.exec(result.stderr);
  if (!match) throw new Error(`dd output not understood: ${result.stderr}`);
  return Number(match[1]) / Number(match[2]) / 1e6;
}
