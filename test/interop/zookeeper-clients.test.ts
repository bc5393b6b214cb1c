// Interop with real third-party ZooKeeper clients installed from Debian by tools/test-all.sh:
// kazoo 2.8 (python3-kazoo, run with Debian's /usr/bin/python3) and zkCli from the `zookeeper`
// package (the Java client 3.8), against a real synod node. kazoo: CRUD with versions, ephemeral
// vanishing on session close, sequential naming, watches once and in order, transactions, and its
// recipes Lock, Semaphore, Election, Barrier, DoubleBarrier, Counter, Queue and Party under
// contention from several threads (one session each) and from several processes at once; the
// Python side checks mutual exclusion itself (test/interop/kazoo_client.py) and this side checks
// the cross-process totals. zkCli: a scripted session of create/get/set/ls/stat/delete/
// deleteall/getAcl/setAcl/addWatch, checked line by line.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { startTestCluster, type TestCluster } from "../../src/synod.js";
import { repoRoot } from "../helpers/process.js";

/** Debian's interpreter: python3-kazoo is installed for it, not for a pyenv python3. */
const PYTHON = "/usr/bin/python3";
const KAZOO_SCRIPT = join(repoRoot, "test", "interop", "kazoo_client.py");
const ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh";

let cluster: TestCluster;
before(async () => {
  // envi must be whitelisted: kazoo's server_version() reads it.
  cluster = await startTestCluster({ node: { zookeeper4lwWhitelist: "*" } });
});
after(() => cluster.close());

function runCapture(command: string, args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.stdin.end(options.input ?? "");
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 180_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      const result = { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
      if (code === 0) resolve(result);
      else reject(new Error(`${command} ${args.join(" ")} exited with ${code}\n${result.stdout.slice(-2000)}\n${result.stderr.slice(-4000)}`));
    });
  });
}

async function kazoo(...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await runCapture(PYTHON, [KAZOO_SCRIPT, args[0], cluster.zookeeperConnectString, ...args.slice(1)]);
  const lines = stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
}

test("kazoo: CRUD with versions, ephemerals, sequential names, watches once and in order, transactions", async () => {
  const result = await kazoo("basic");
  assert.equal(result.ok, true);
  assert.deepEqual(result.server_version, [3, 8, 4], "kazoo parsed envi's zookeeper.version");
});

test("kazoo recipes under contention from 4 threads: Lock, Semaphore, Counter, Queue, Election, Barrier, DoubleBarrier, Party", async () => {
  const result = await kazoo("recipes", "4");
  assert.deepEqual(result, { ok: true, threads: 4, lock: 20, semaphore: 20, counter: 20, elected: 4 });
});

test("kazoo recipes under contention from 3 processes × 2 threads at once", async () => {
  const processes = 3;
  const threads = 2;
  const rounds = 5;
  const results = await Promise.all(Array.from({ length: processes }, (_, i) => kazoo("worker", String(i), String(threads))));
  const consumed: string[] = [];
  for (const r of results) {
    assert.equal(r.ok, true);
    assert.equal(r.lock, threads * rounds);
    assert.equal(r.semaphore, threads * rounds);
    consumed.push(...(r.consumed as string[]));
  }
  // Every queued item was consumed exactly once, across processes.
  const expected = [];
  for (let p = 0; p < processes; p++) for (let t = 0; t < threads; t++) for (let r = 0; r < rounds; r++) expected.push(`p${p}-${t}-${r}`);
  assert.deepEqual(consumed.sort(), expected.sort());
  // The shared Counter saw every increment (compare-and-set retries on BadVersion).
  const counter = await kazoo("counter", "/kazoo-processes/counter");
  assert.equal(counter.value, processes * threads * rounds);
});

test("zkCli (ZooKeeper 3.8's Java client): create, get, set, ls, stat, delete, deleteall, getAcl/setAcl, addWatch", async () => {
  const script = [
    'create /cli "hello"',
    "get /cli",
    'set /cli "world"',
    "get /cli",
    "stat /cli",
    "create /cli/a",
    "create -e /cli/eph",
    "create -s /cli/seq-",
    "ls /cli",
    "delete /cli/a",
    "ls /cli",
    "addauth digest bob:pw",
    "create /cli/b",
    "setAcl /cli/b auth:bob:pw:crdwa",
    "getAcl /cli/b",
    "addWatch -m PERSISTENT_RECURSIVE /cli",
    "create /cli/c",
    "deleteall /cli",
    "ls /",
    "quit",
  ].join("\n");
  const { stdout, stderr } = await runCapture(ZKCLI, ["-server", cluster.zookeeperConnectString], { input: script + "\n", timeoutMs: 120_000 });
  const lines = stdout.split("\n").filter((l) => !/^\d{4}-\d\d-\d\d|SLF4J|^\s*$/.test(l));
  const text = lines.join("\n");
  // zkCli prints "Created <path>" on stderr, results on stdout.
  assert.match(stderr, /Created \/cli\n/);
  assert.match(stderr, /Created \/cli\/seq-0000000002\n/);
  assert.match(text, /\nhello\n/);
  assert.match(text, /\nworld\n/);
  assert.match(text, /dataVersion = 1\n/);
  assert.match(text, /dataLength = 5\n/);
  assert.match(text, /\[a, eph, seq-0000000002\]\n\[eph, seq-0000000002\]/);
  assert.match(text, /'digest,'bob:ikIaKsbtGweaHnb\/jKn7OHqbunM=\n: cdrwa/);
  assert.match(text, /WatchedEvent state:SyncConnected type:NodeCreated path:\/cli\/c/);
  assert.match(text, /WatchedEvent state:SyncConnected type:NodeDeleted path:\/cli\n/);
  assert.match(text, /\n\[(?:kazoo-processes, )?zookeeper\]\n/, "deleteall removed /cli and everything under it");
  assert.doesNotMatch(text + stderr, /Exception|KeeperErrorCode/);
});
