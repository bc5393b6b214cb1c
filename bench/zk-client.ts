// ZooKeeper client and recipes: what synod's TypeScript client sustains against a ZooKeeper server
// — pipelined creates/reads/writes, one-at-a-time latency, the same pipelined reads through
// node-zookeeper-client (the reference third-party Node client) on the same server, and the cost
// of the recipes (lock hand-offs, CAS counter adds under contention). Without --connect it starts
// a standalone Apache ZooKeeper 3.8 (Debian's package) on a free port, the reference server; with
// --connect it measures any server (e.g. synod). Prints one JSON line.
//   npm run bench -- zk-client [--connect host:port] [--ops 20000] [--inflight 100] [--clients 8]
import { createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import { note, parseArgs, report } from "./harness.js";
import { ZooKeeperClient } from "../src/zookeeper/client/index.js";
import { Counter, Lock } from "../src/recipes/index.js";
import { startApacheZooKeeper, type ZooKeeperTarget } from "../test/helpers/zookeeper-server.js";

const args = parseArgs();
const opsTotal = Number(args.get("ops") ?? 20_000);
const inflight = Number(args.get("inflight") ?? 100);
const clientCount = Number(args.get("clients") ?? 8);
const VALUE = Buffer.alloc(100, 97);

/** Runs `count` operations with at most `window` outstanding; returns ops/s. */
async function pipelined(count: number, window: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < count) await op(next++);
    }),
  );
  return Math.round((count / (performance.now() - started)) * 1000);
}

function percentile(sorted: number[], p: number): number {
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] * 1000);
}

/** One operation at a time; returns p50/p99 in microseconds. */
async function latency(count: number, op: (i: number) => Promise<unknown>): Promise<{ p50Us: number; p99Us: number }> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await op(i);
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return { p50Us: percentile(samples, 0.5), p99Us: percentile(samples, 0.99) };
}

interface NzcClient {
  connect(): void;
  close(): void;
  once(event: "connected", listener: () => void): void;
  getData(path: string, callback: (error: Error | null, data: Buffer) => void): void;
}
interface NzcModule {
  createClient(connection: string, options: { sessionTimeout: number }): NzcClient;
}

async function nodeZookeeperClientReads(connectString: string, root: string, count: number): Promise<number> {
  const nzc = createRequire(import.meta.url)("node-zookeeper-client") as NzcModule;
  const client = nzc.createClient(connectString, { sessionTimeout: 30_000 });
  await new Promise<void>((resolve) => {
    client.once("connected", resolve);
    client.connect();
  });
  try {
    return await pipelined(count, inflight, (i) => new Promise((resolve, reject) => client.getData(`${root}/n${i % 1000}`, (error, data) => (error ? reject(error) : resolve(data)))));
  } finally {
    client.close();
  }
}

async function recipes(connectString: string): Promise<Record<string, number>> {
  const clients = await Promise.all(Array.from({ length: clientCount }, () => ZooKeeperClient.connect({ connectString, sessionTimeoutMs: 30_000 })));
  try {
    const solo = new Lock(clients[0], "/locks/solo");
    const soloCount = 500;
    let started = performance.now();
    for (let i = 0; i < soloCount; i++) await (await solo.acquire()).release();
    const uncontendedPerSecond = Math.round((soloCount / (performance.now() - started)) * 1000);

    const perClient = 50;
    started = performance.now();
    await Promise.all(
      clients.map(async (zk) => {
        const lock = new Lock(zk, "/locks/shared");
        for (let i = 0; i < perClient; i++) await (await lock.acquire()).release();
      }),
    );
    const contendedPerSecond = Math.round(((perClient * clients.length) / (performance.now() - started)) * 1000);

    started = performance.now();
    await Promise.all(
      clients.map(async (zk) => {
        const counter = new Counter(zk, "/counter");
        for (let i = 0; i < perClient; i++) await counter.add(1);
      }),
    );
    const counterAddsPerSecond = Math.round(((perClient * clients.length) / (performance.now() - started)) * 1000);
    return { lockUncontendedPerSecond: uncontendedPerSecond, lockHandoffsPerSecond: contendedPerSecond, counterAddsPerSecond };
  } finally {
    await Promise.all(clients.map((zk) => zk.close()));
  }
}

async function main(): Promise<void> {
  let server: ZooKeeperTarget | undefined;
  let connectString = args.get("connect");
  if (connectString === undefined) {
    note("starting Apache ZooKeeper 3.8 (standalone)...");
    // The full JIT and a real heap: the tests' fast-start flags would handicap the server.
    server = await startApacheZooKeeper({ jvmFlags: ["-Xmx1g"] });
    connectString = server.connectString;
  }
  const root = `/bench-${process.pid}`;
  try {
    const zk = await ZooKeeperClient.connect({ connectString, sessionTimeoutMs: 30_000, pendingRequestsMax: Math.max(4096, inflight * 2) });
    await zk.create(root);
    note("warming up (the JVM's JIT, our own)");
    await pipelined(opsTotal / 2, inflight, (i) => zk.exists(`${root}/warm-${i}`));
    note(`pipelined, ${inflight} in flight, ${opsTotal} ops each`);
    const createsPerSecond = await pipelined(opsTotal, inflight, (i) => zk.create(`${root}/n${i}`, VALUE));
    const getDataPerSecond = await pipelined(opsTotal, inflight, (i) => zk.getData(`${root}/n${i}`));
    const setDataPerSecond = await pipelined(opsTotal, inflight, (i) => zk.setData(`${root}/n${i}`, VALUE));
    note("one at a time");
    const getData = await latency(2000, (i) => zk.getData(`${root}/n${i}`));
    const setData = await latency(2000, (i) => zk.setData(`${root}/n${i}`, VALUE));
    note("node-zookeeper-client, same reads");
    const nzcGetDataPerSecond = await nodeZookeeperClientReads(connectString, root, opsTotal);
    const ourGetDataPerSecondSameKeys = await pipelined(opsTotal, inflight, (i) => zk.getData(`${root}/n${i % 1000}`));
    await zk.close();
    note(`recipes, ${clientCount} clients`);
    const recipeFigures = await recipes(connectString);
    report("zk-client", {
      server: server ? "apache-zookeeper-3.8 standalone" : connectString,
      ops: opsTotal,
      inflight,
      valueBytes: VALUE.length,
      pipelined: { createsPerSecond, getDataPerSecond, setDataPerSecond },
      sequential: { getDataP50Us: getData.p50Us, getDataP99Us: getData.p99Us, setDataP50Us: setData.p50Us, setDataP99Us: setData.p99Us },
      reads1000Keys: { synodClientPerSecond: ourGetDataPerSecondSameKeys, nodeZookeeperClientPerSecond: nzcGetDataPerSecond },
      recipes: { clients: clientCount, ...recipeFigures },
    });
  } finally {
    await server?.close();
  }
}

await main();
