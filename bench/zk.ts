// ZooKeeper protocol load driver, run side by side against synod and Apache ZooKeeper 3.8
// (Debian's `zookeeper` package, standalone, started here on another port with its own data dir
// under /tmp, removed after). Workloads: create, setData, getData and a 90/10 read/write mix from
// 8 sessions × 32 requests in flight with 100-byte values, and create from 1 session × 1 in
// flight for latency. Both servers fsync every write (synod's default fsync=always; ZooKeeper's
// forceSync=yes). The driver speaks the wire protocol with our codecs, pipelining up to the
// in-flight depth per session; replies arrive in order, so latency is measured per request
// against a FIFO of send times.
//
// With --target both, the two servers run side by side for the whole benchmark and the workloads
// are interleaved: each workload runs --repeats times on each server, alternating which goes
// first, after an unmeasured warm-up of every workload on both (ZooKeeper's JIT and V8's). The
// disk of the VM this was written on drifts by 2x over minutes; measuring one server's whole
// suite and then the other's turned that drift into a bias. Each figure is the run with the
// median ops/s; the per-repeat ratios show the spread.
//
//   npm run bench -- zk [--seconds 5] [--repeats 3] [--target synod|zookeeper|both] [--workloads create,mixed]
//   npm run bench -- zk --target port --port 2181   (an already running server, e.g. under --cpu-prof)
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect as netConnect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { JuteReader, JuteWriter } from "../src/zookeeper/jute/runtime.js";
import { decodeConnectResponse, encodeConnectRequest } from "../src/zookeeper/protocol/connect.js";
import { OpCode } from "../src/zookeeper/protocol/constants.js";
import { createFrameReader } from "../src/zookeeper/protocol/frame.js";
import { encodeRequest, type ClientOpCode, type RequestBodies } from "../src/zookeeper/protocol/requests.js";
import { note, parseArgs, report } from "./harness.js";

const args = parseArgs();
const SECONDS = Number(args.get("seconds") ?? 5);
const REPEATS = Number(args.get("repeats") ?? 3);
const WARMUP_SECONDS = Number(args.get("warmup-seconds") ?? 2);
const TARGET = args.get("target") ?? "both";
const WORKLOADS = (args.get("workloads") ?? "create,setData,getData,mixed,createLatency").split(",") as Workload[];
const SESSIONS = 8;
const DEPTH = 32;
const VALUE = Buffer.alloc(100, 0x61);
const KEYS = 1000;
const OPEN_ACL = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
const ZK_BIN = "/usr/share/zookeeper/bin/zkServer.sh";
const cliPath = join(fileURLToPath(new URL(".", import.meta.url)), "..", "src", "cli", "main.js");

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** One pipelined session: send() queues a request, replies resolve in order. */
class Session {
  private readonly sendTimes: number[] = [];
  private head = 0;
  private readonly callbacks: Array<(err: number) => void> = [];
  private xid = 1;
  private readonly writer = new JuteWriter(512);

  private constructor(private readonly socket: Socket) {}

  static async open(port: number): Promise<Session> {
    const socket = netConnect(port, "127.0.0.1");
    socket.setNoDelay(true);
    await once(socket, "connect");
    const w = new JuteWriter();
    const at = w.reserveInt();
    encodeConnectRequest(w, { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 30_000, sessionId: 0n, passwd: new Uint8Array(16), readOnly: false });
    w.patchInt(at, w.length - 4);
    socket.write(w.toBytes());
    const reader = createFrameReader(16 * 2 ** 20);
    const session = new Session(socket);
    let connected = false;
    await new Promise<void>((resolve, reject) => {
      socket.on("error", reject);
      socket.on("close", () => reject(new Error("closed")));
      socket.on("data", (chunk: Buffer) => {
        for (const frame of reader.push(chunk)) {
          if (!connected) {
            connected = true;
            const response = decodeConnectResponse(new JuteReader(frame));
            if (response.timeOut <= 0) reject(new Error("session refused"));
            resolve();
            continue;
          }
          const xid = frame.readInt32BE(0);
          if (xid < 0) continue; // notifications and pings are not part of the load
          const err = frame.readInt32BE(12);
          const callback = session.callbacks[session.head];
          session.head++;
          if (session.head > 4096) {
            session.callbacks.splice(0, session.head);
            session.sendTimes.splice(0, session.head);
            session.head = 0;
          }
          callback(err);
        }
      });
    });
    return session;
  }

  /** Sends a request; `done(latencyMs, err)` runs when its reply arrives. */
  send<K extends ClientOpCode>(op: K, body: RequestBodies[K], done: (latencyMs: number, err: number) => void): void {
    const w = this.writer;
    w.reset();
    const at = w.reserveInt();
    encodeRequest(w, this.xid++, op, body);
    w.patchInt(at, w.length - at - 4);
    const sentAt = performance.now();
    this.callbacks.push((err) => done(performance.now() - sentAt, err));
    this.socket.write(w.toBytes());
  }

  close(): void {
    this.socket.destroy();
  }
}

interface Result {
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

type Workload = "create" | "setData" | "getData" | "mixed" | "createLatency";

let runNumber = 0;

async function run(port: number, workload: Workload, prefix: string, seconds = SECONDS): Promise<Result> {
  const tag = `r${runNumber++}`;
  const sessions = workload === "createLatency" ? 1 : SESSIONS;
  const depth = workload === "createLatency" ? 1 : DEPTH;
  const clients = await Promise.all(Array.from({ length: sessions }, () => Session.open(port)));
  const latencies: number[] = [];
  let errors = 0;
  let counting = false;
  let counted = 0;
  let stop = false;
  let sequence = 0;
  const next = (s: Session, i: number): void => {
    if (stop) return;
    const key = `${prefix}/k${(sequence * 7919 + i) % KEYS}`;
    sequence++;
    const done = (latencyMs: number, err: number): void => {
      if (err !== 0) errors++;
      if (counting) {
        counted++;
        latencies.push(latencyMs);
      }
      next(s, i);
    };
    const read = workload === "getData" || (workload === "mixed" && sequence % 10 !== 0);
    if (workload === "create" || workload === "createLatency") s.send(OpCode.create, { path: `${prefix}/c-${tag}-${i}-${sequence}`, data: VALUE, acl: OPEN_ACL, flags: 0 }, done);
    else if (read) s.send(OpCode.getData, { path: key, watch: false }, done);
    else s.send(OpCode.setData, { path: key, data: VALUE, version: -1 }, done);
  };
  clients.forEach((s, i) => {
    for (let d = 0; d < depth; d++) next(s, i);
  });
  // Half a second of warm-up, then the measured window.
  await new Promise((r) => setTimeout(r, 500));
  counting = true;
  const startedMs = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  counting = false;
  const elapsedMs = performance.now() - startedMs;
  stop = true;
  await new Promise((r) => setTimeout(r, 200));
  for (const c of clients) c.close();
  const sorted = Float64Array.from(latencies).sort();
  return { opsPerSec: Math.round((counted / elapsedMs) * 1000), p50Ms: round(percentile(sorted, 50)), p99Ms: round(percentile(sorted, 99)), errors };
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

async function prepare(port: number, prefix: string): Promise<void> {
  const s = await Session.open(port);
  await new Promise<void>((resolve) => s.send(OpCode.create, { path: prefix, data: null, acl: OPEN_ACL, flags: 0 }, () => resolve()));
  let left = KEYS;
  await new Promise<void>((resolve) => {
    for (let k = 0; k < KEYS; k++) {
      s.send(OpCode.create, { path: `${prefix}/k${k}`, data: VALUE, acl: OPEN_ACL, flags: 0 }, () => {
        if (--left === 0) resolve();
      });
    }
  });
  s.close();
}

async function waitServing(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const s = await Session.open(port);
      s.close();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`no ZooKeeper service on port ${port} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function startSynod(dir: string): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [cliPath, "start", "--data-dir", join(dir, "synod"), "--zookeeper-port", String(port), "--kafka-port", "0", "--admin-port", "0", "--log-level", "warn"], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  await waitServing(port, 30_000);
  return { port, child };
}

async function startZooKeeper(dir: string): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const config = join(dir, "zoo.cfg");
  writeFileSync(
    config,
    [`tickTime=2000`, `dataDir=${join(dir, "zk-data")}`, `clientPort=${port}`, `clientPortAddress=127.0.0.1`, `admin.enableServer=false`, `maxClientCnxns=0`, `forceSync=yes`].join("\n") + "\n",
  );
  const child = spawn(ZK_BIN, ["start-foreground", config], { stdio: ["ignore", "ignore", "ignore"], env: { ...process.env, ZOO_LOG_DIR: dir }, detached: true });
  await waitServing(port, 60_000);
  return { port, child };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, "exit");
  try {
    process.kill(-child.pid!, "SIGTERM");
  } catch {
    child.kill("SIGTERM");
  }
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null) child.kill("SIGKILL");
}

interface Server {
  name: string;
  port: number;
  child: ChildProcess | undefined;
  dir: string;
}

async function startServer(name: string, start: (dir: string) => Promise<{ port: number; child: ChildProcess | undefined }>): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), `bench-zk-${name}-`));
  const { port, child } = await start(dir);
  await prepare(port, `/bench-${process.pid}`);
  return { name, port, child, dir };
}

async function stopServer(server: Server): Promise<void> {
  if (server.child) await stop(server.child);
  rmSync(server.dir, { recursive: true, force: true });
}

/** The run with the median ops/s, and every run's ops/s. */
function median(results: Result[]): Result & { runsOpsPerSec: number[] } {
  const sorted = [...results].sort((a, b) => a.opsPerSec - b.opsPerSec);
  return { ...sorted[Math.floor((sorted.length - 1) / 2)], runsOpsPerSec: results.map((r) => r.opsPerSec) };
}

const figures: Record<string, unknown> = { seconds: SECONDS, repeats: REPEATS, sessions: SESSIONS, depth: DEPTH, valueBytes: VALUE.length };
const servers: Server[] = [];
try {
  if (TARGET === "port") servers.push({ name: "server", port: Number(args.get("port") ?? 2181), child: undefined, dir: mkdtempSync(join(tmpdir(), "bench-zk-port-")) });
  if (TARGET === "synod" || TARGET === "both") servers.push(await startServer("synod", (dir) => startSynod(dir)));
  if (TARGET === "zookeeper" || TARGET === "both") servers.push(await startServer("zookeeper", (dir) => startZooKeeper(dir)));
  if (TARGET === "port") await prepare(servers[0].port, `/bench-${process.pid}`);
  const prefix = `/bench-${process.pid}`;
  if (WARMUP_SECONDS > 0) {
    for (const workload of WORKLOADS) for (const server of servers) await run(server.port, workload, prefix, WARMUP_SECONDS);
    note(`warmed up: every workload for ${WARMUP_SECONDS} s on each server`);
  }
  const runs = new Map<string, Record<string, Result[]>>(servers.map((server) => [server.name, {}]));
  const ratios: Record<string, number[]> = {};
  for (const workload of WORKLOADS) {
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      const order = repeat % 2 === 0 ? servers : [...servers].reverse();
      const ops: Record<string, number> = {};
      for (const server of order) {
        const result = await run(server.port, workload, prefix);
        (runs.get(server.name)![workload] ??= []).push(result);
        ops[server.name] = result.opsPerSec;
        note(`${server.name} ${workload} #${repeat + 1}: ${JSON.stringify(result)}`);
      }
      if (ops.synod !== undefined && ops.zookeeper !== undefined) (ratios[workload] ??= []).push(Math.round((ops.synod / ops.zookeeper) * 100) / 100);
    }
  }
  for (const server of servers) figures[server.name] = Object.fromEntries(Object.entries(runs.get(server.name)!).map(([w, results]) => [w, median(results)]));
  if (Object.keys(ratios).length > 0) {
    const s = figures.synod as Record<Workload, Result>;
    const z = figures.zookeeper as Record<Workload, Result>;
    figures.ratio = Object.fromEntries(WORKLOADS.map((w) => [w, Math.round((s[w].opsPerSec / z[w].opsPerSec) * 100) / 100]));
    figures.ratioPerRepeat = ratios;
  }
} finally {
  for (const server of servers) await stopServer(server);
}
report("zk", figures as never);
