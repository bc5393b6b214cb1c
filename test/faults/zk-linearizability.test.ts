// Goal: the ZooKeeper front-end is linearizable for a register across crashes. Several concurrent
// sessions run setData with versions (compare-and-set, and blind writes) and sync+getData on one
// znode while a real `synod start` process is SIGKILLed and restarted; the history is checked with
// checkLinearizability + versionedRegisterModel (src/sim/linearizability). A request cut by a kill
// (no reply) is recorded as unknown ("info"), never as ok. To show the check has teeth, a copy of
// the history with one read made stale is rejected. Method: real process, real TCP, real fsync;
// the seed of the op mix and the kill times is printed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { join } from "node:path";
import { spawnLogged, type LoggedProcess } from "../helpers/process.js";
import { tempDir } from "../helpers/tmp.js";
import { SeededRandom } from "../../src/util/random.js";
import { HistoryRecorder, checkLinearizability, versionedRegisterModel, type Operation } from "../../src/sim/linearizability/mod.js";
import type { VersionedRegisterInput, VersionedRegisterOutput } from "../../src/sim/linearizability/models/versioned-register.js";
import { OpCode } from "../../src/zookeeper/protocol/constants.js";
import { ErrorCode } from "../../src/zookeeper/protocol/errors.js";
import { OPEN_ACL, RawZk } from "../zookeeper/raw-zk.js";

const KILLS = Number(process.env.SYNOD_ZK_CRASH_KILLS ?? 4);
const CLIENTS = 4;
const PATH = "/register";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const dataText = (data: unknown): string | null => (data === null || data === undefined ? null : Buffer.from(data as Uint8Array).toString());

test(`ZooKeeper register history across ${KILLS} SIGKILL restarts is linearizable`, async (t) => {
  const seed = Number(process.env.SEED ?? 7);
  t.diagnostic(`seed ${seed}`);
  const random = new SeededRandom(seed);
  const dataDir = join(tempDir(t), "data");
  const zkPort = await freePort();
  const args = ["start", "--data-dir", dataDir, "--kafka-port", "0", "--admin-port", "0", "--zookeeper-port", String(zkPort), "--log-level", "info"];
  let node: LoggedProcess | undefined;
  t.after(() => node?.child.kill("SIGKILL"));
  const start = async (): Promise<void> => {
    node = spawnLogged(args);
    await node.waitFor((line) => line.msg === "node started", 30_000);
  };
  await start();
  const setup = await RawZk.connect(zkPort);
  assert.ok(setup);
  assert.equal((await setup.call(OpCode.create, { path: PATH, data: null, acl: OPEN_ACL, flags: 0 })).err, 0);
  setup.drop();

  const history = new HistoryRecorder<VersionedRegisterInput, VersionedRegisterOutput>();
  const now = (): number => performance.now();
  let stop = false;
  const counts = { ok: 0, unknown: 0 };

  const client = async (id: number): Promise<void> => {
    const rng = new SeededRandom(seed * 1000 + id);
    let sequence = 0;
    let lastVersion = 0;
    while (!stop) {
      const zk = await RawZk.connect(zkPort, { timeoutMs: 10_000 }).catch(() => undefined);
      if (!zk || zk.connectResponse.timeOut === 0) {
        zk?.drop();
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      try {
        while (!stop && !zk.closed) {
          if (rng.int(3) === 0) {
            // sync, then getData: a linearizable read.
            const op = history.invoke(id, { kind: "getData" }, now());
            const sync = await zk.call(OpCode.sync, { path: PATH }).catch(() => undefined);
            const read = sync?.err === 0 ? await zk.call(OpCode.getData, { path: PATH, watch: false }).catch(() => undefined) : undefined;
            if (read && read.err === 0) {
              const body = read.body as { data: unknown; stat: { version: number } };
              history.ok(op, { kind: "getData", value: dataText(body.data), version: body.stat.version }, now());
              lastVersion = body.stat.version;
              counts.ok++;
            } else {
              history.info(op, now());
              counts.unknown++;
            }
          } else {
            const value = `c${id}-${sequence++}`;
            const expectedVersion = rng.int(4) === 0 ? -1 : lastVersion;
            const op = history.invoke(id, { kind: "setData", value, expectedVersion }, now());
            const reply = await zk.call(OpCode.setData, { path: PATH, data: Buffer.from(value), version: expectedVersion }).catch(() => undefined);
            if (reply && reply.err === 0) {
              const version = (reply.body as { stat: { version: number } }).stat.version;
              history.ok(op, { kind: "setData", ok: true, version }, now());
              lastVersion = version;
              counts.ok++;
            } else if (reply && reply.err === ErrorCode.badVersion) {
              history.ok(op, { kind: "setData", ok: false, error: "BadVersion" }, now());
              counts.ok++;
            } else {
              // No reply (the node died) or an unexpected error: the outcome is unknown.
              history.info(op, now());
              counts.unknown++;
            }
          }
        }
      } finally {
        zk.drop();
      }
    }
  };

  const clients = Array.from({ length: CLIENTS }, (_, i) => client(i + 1));
  for (let kill = 0; kill < KILLS; kill++) {
    await new Promise((r) => setTimeout(r, 300 + random.int(700)));
    node!.child.kill("SIGKILL");
    await node!.exited;
    await start();
  }
  await new Promise((r) => setTimeout(r, 500));
  stop = true;
  await Promise.all(clients);
  const operations = history.operations();
  t.diagnostic(`${KILLS} kills, ${operations.length} operations: ${counts.ok} answered, ${counts.unknown} unknown`);
  assert.ok(counts.ok > 50, "the sessions made progress between kills");

  const model = versionedRegisterModel();
  const result = checkLinearizability(model, operations, { budgetMs: 60_000 });
  assert.equal(result.verdict, "ok", `history of ${operations.length} operations is not linearizable`);

  // The checker has teeth: one read moved back to an older, really-written state is caught.
  const reads = operations.filter((op) => op.input.kind === "getData" && op.output !== undefined && (op.output as { version: number }).version >= 2);
  assert.ok(reads.length > 0, "some reads saw version >= 2");
  const victim = reads[reads.length - 1];
  const older = operations.find(
    (op) => op.input.kind === "setData" && op.output?.kind === "setData" && op.output.ok && op.output.version === (victim.output as { version: number }).version - 1,
  );
  assert.ok(older, "the write before the victim read's version was answered");
  // Make the stale read start after everything else finished, so no interleaving can excuse it.
  const lastReturn = Math.max(...operations.map((op) => (Number.isFinite(op.return) ? op.return : op.call)));
  const moved: Operation<VersionedRegisterInput, VersionedRegisterOutput>[] = operations.map((op) =>
    op === victim
      ? { ...op, call: lastReturn + 1, return: lastReturn + 2, output: { kind: "getData", value: (older.input as { value: string }).value, version: (victim.output as { version: number }).version - 1 } }
      : op,
  );
  assert.equal(checkLinearizability(model, moved, { budgetMs: 60_000 }).verdict, "illegal", "a stale read after all writes must be rejected");
});
