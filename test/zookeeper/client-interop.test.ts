// Goal: a real third-party client, node-zookeeper-client 1.1.3, works unchanged against our codecs
// and state machine — handshake without the readOnly byte, CRUD with versions, sequential and
// ephemeral nodes, ACLs with digest auth, a transaction (multi) that commits and one that rolls
// back, and one-shot watches that fire once — and the frames it sends are kept as fixtures that
// must decode and re-encode byte for byte. Method: real TCP to test/zookeeper/mini-server.ts (the
// codecs + CoordStateMachine + WatchManager, no Paxos); `SYNOD_RECORD_FIXTURES=1` rewrites
// test/fixtures/zookeeper/node-zookeeper-client.json from a run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { JuteWriter } from "../../src/zookeeper/jute/runtime.js";
import { decodeRequest, encodeRequest, type ClientOpCode } from "../../src/zookeeper/protocol/requests.js";
import { decodeConnectRequest, encodeConnectRequest } from "../../src/zookeeper/protocol/connect.js";
import { JuteReader } from "../../src/zookeeper/jute/runtime.js";
import { digestIdentity } from "../../src/zookeeper/digest.js";
import { repoRoot } from "../helpers/process.js";
import { MiniServer, type CapturedFrame } from "./mini-server.js";

/* The client is CommonJS without types; this is the slice of its API the test uses. */
interface ZkError extends Error {
  getCode(): number;
}
type Callback<T> = (error: ZkError | null, value: T, extra?: unknown) => void;
interface ZkClient {
  connect(): void;
  close(): void;
  once(event: "connected", listener: () => void): void;
  addAuthInfo(scheme: string, auth: Buffer): void;
  create(path: string, data: Buffer | null, acls: unknown[], mode: number, callback: Callback<string>): void;
  getData(path: string, watcher: ((event: { name: string; path: string }) => void) | undefined, callback: (error: ZkError | null, data: Buffer, stat: { version: number }) => void): void;
  setData(path: string, data: Buffer, version: number, callback: Callback<{ version: number }>): void;
  exists(path: string, watcher: ((event: { name: string; path: string }) => void) | undefined, callback: Callback<{ version: number } | null>): void;
  getChildren(path: string, watcher: ((event: { name: string; path: string }) => void) | undefined, callback: Callback<string[]>): void;
  remove(path: string, version: number, callback: (error: ZkError | null) => void): void;
  getACL(path: string, callback: Callback<Array<{ permission: number; id: { scheme: string; id: string } }>>): void;
  transaction(): { create(path: string, data?: Buffer): Tx; commit(callback: Callback<Array<{ type: number; err?: number; path?: string }>>): void };
  getSessionId(): Buffer;
}
interface Tx {
  create(path: string, data?: Buffer): Tx;
  setData(path: string, data: Buffer, version: number): Tx;
  check(path: string, version: number): Tx;
  remove(path: string, version: number): Tx;
  commit(callback: Callback<Array<{ type: number; err?: number; path?: string }>>): void;
}
interface ZkModule {
  createClient(connection: string, options: { sessionTimeout: number; retries: number }): ZkClient;
  ACL: { OPEN_ACL_UNSAFE: unknown[]; new (permission: number, id: unknown): unknown };
  Id: new (scheme: string, id: string) => unknown;
  Permission: { ALL: number; READ: number };
  CreateMode: { PERSISTENT: number; EPHEMERAL: number; PERSISTENT_SEQUENTIAL: number; EPHEMERAL_SEQUENTIAL: number };
}
const zookeeper = createRequire(import.meta.url)("node-zookeeper-client") as ZkModule;

const FIXTURE = join(repoRoot, "test", "fixtures", "zookeeper", "node-zookeeper-client.json");

function call<T>(fn: (callback: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((error, value) => (error ? reject(error) : resolve(value))));
}

async function connect(port: number): Promise<ZkClient> {
  const client = zookeeper.createClient(`127.0.0.1:${port}`, { sessionTimeout: 30_000, retries: 0 });
  const connected = new Promise<void>((resolve) => client.once("connected", resolve));
  client.connect();
  await connected;
  return client;
}

test("node-zookeeper-client against the codecs and the state machine over real TCP", async (t) => {
  const server = new MiniServer(digestIdentity("super", "test"));
  const port = await server.listen();
  t.after(() => server.close());
  const client = await connect(port);
  t.after(() => client.close());
  const buf = (text: string): Buffer => Buffer.from(text);
  const { ACL, Id, Permission, CreateMode } = zookeeper;

  // CRUD with versions.
  assert.equal(await call<string>((cb) => client.create("/app", buf("v0"), ACL.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, cb)), "/app");
  const [data, stat] = await new Promise<[Buffer, { version: number }]>((resolve, reject) => client.getData("/app", undefined, (e, d, s) => (e ? reject(e) : resolve([d, s]))));
  assert.equal(data.toString(), "v0");
  assert.equal(stat.version, 0);
  assert.equal((await call<{ version: number }>((cb) => client.setData("/app", buf("v1"), 0, cb))).version, 1);
  await assert.rejects(call((cb) => client.setData("/app", buf("v2"), 0, cb)), (e: ZkError) => e.getCode() === -103);
  await assert.rejects(call((cb) => client.create("/app", null, ACL.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, cb)), (e: ZkError) => e.getCode() === -110);
  await assert.rejects(call((cb) => client.create("/nope/x", null, ACL.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, cb)), (e: ZkError) => e.getCode() === -101);

  // Sequential and ephemeral nodes; children.
  const seq1 = await call<string>((cb) => client.create("/app/job-", buf(""), ACL.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL, cb));
  const seq2 = await call<string>((cb) => client.create("/app/job-", buf(""), ACL.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL, cb));
  assert.deepEqual([seq1, seq2], ["/app/job-0000000000", "/app/job-0000000001"]);
  assert.deepEqual(await call<string[]>((cb) => client.getChildren("/app", undefined, cb)), ["job-0000000000", "job-0000000001"]);
  await assert.rejects(call((cb) => client.create("/app/job-0000000001/x", null, ACL.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, cb)), (e: ZkError) => e.getCode() === -108);
  assert.equal(await call<{ version: number } | null>((cb) => client.exists("/missing", undefined, cb)), null);

  // Watches fire once, before the reply that shows the change.
  const dataEvents: string[] = [];
  await new Promise<void>((resolve, reject) => client.getData("/app", (event) => dataEvents.push(`${event.name} ${event.path}`), (e) => (e ? reject(e) : resolve())));
  const childEvents: string[] = [];
  await call<string[]>((cb) => client.getChildren("/app", (event) => childEvents.push(`${event.name} ${event.path}`), cb));
  const existsEvents: string[] = [];
  await call((cb) => client.exists("/later", (event) => existsEvents.push(`${event.name} ${event.path}`), cb));
  await call((cb) => client.setData("/app", buf("v2"), -1, cb));
  assert.deepEqual(dataEvents, ["NODE_DATA_CHANGED /app"], "the notification arrived before the setData reply");
  await call((cb) => client.setData("/app", buf("v3"), -1, cb));
  assert.deepEqual(dataEvents, ["NODE_DATA_CHANGED /app"], "one-shot");
  await call<string>((cb) => client.create("/later", null, ACL.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, cb));
  assert.deepEqual(existsEvents, ["NODE_CREATED /later"]);
  await call<string>((cb) => client.create("/app/more", null, ACL.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, cb));
  assert.deepEqual(childEvents, ["NODE_CHILDREN_CHANGED /app"]);

  // A transaction that commits, and one that rolls back with per-op results.
  const committed = await call<Array<{ type: number; path?: string }>>((cb) => client.transaction().create("/tx").setData("/app", buf("t"), 3).check("/app", 4).create("/tx/a").commit(cb));
  assert.deepEqual(
    committed.map((r) => r.type),
    [1, 5, 13, 1],
  );
  const rolledBack = await new Promise<{ error: ZkError | null; results: Array<{ type: number; err?: number }> }>((resolve) =>
    client
      .transaction()
      .create("/tx/b")
      .remove("/tx", -1)
      .create("/tx/c")
      .commit((error, results) => resolve({ error, results })),
  );
  assert.ok(rolledBack.error, "the client reports the failure");
  assert.equal(server.sm.peekStat("/tx/b"), undefined, "nothing of the failed transaction was applied");

  // Digest ACLs: a node readable by bob only, then bob authenticates.
  await call<string>((cb) => client.create("/secret", buf("s"), [new ACL(Permission.ALL, new Id("digest", digestIdentity("bob", "pw")))], CreateMode.PERSISTENT, cb));
  await assert.rejects(
    new Promise((resolve, reject) => client.getData("/secret", undefined, (e, d) => (e ? reject(e) : resolve(d)))),
    (e: ZkError) => e.getCode() === -102,
  );
  const masked = await call<Array<{ id: { id: string } }>>((cb) => client.getACL("/secret", cb)).catch((e: ZkError) => e.getCode());
  assert.equal(masked, -102, "getACL needs READ or ADMIN");
  client.addAuthInfo("digest", buf("bob:pw"));
  const secret = await new Promise<Buffer>((resolve, reject) => client.getData("/secret", undefined, (e, d) => (e ? reject(e) : resolve(d))));
  assert.equal(secret.toString(), "s");

  // Delete with versions; NotEmpty.
  await assert.rejects(new Promise<void>((resolve, reject) => client.remove("/app", -1, (e) => (e ? reject(e) : resolve()))), (e: ZkError) => e.getCode() === -111);
  await new Promise<void>((resolve, reject) => client.remove("/later", 0, (e) => (e ? reject(e) : resolve())));

  // The handshake had no readOnly byte (44 bytes), and every captured frame decodes.
  assert.equal(server.connectRequests[0].length / 2, 44);
  assert.ok(server.captured.length >= 25);
  const ops = new Set(server.captured.map((f) => f.op));
  for (const op of [1, 2, 3, 4, 5, 6, 12, 14, 100]) assert.ok(ops.has(op), `captured op ${op}`);
  if (process.env.SYNOD_RECORD_FIXTURES === "1") {
    writeFileSync(FIXTURE, JSON.stringify({ client: "node-zookeeper-client 1.1.3", connect: server.connectRequests[0], frames: server.captured }, null, 1) + "\n");
  }
});

test("the stored node-zookeeper-client frames decode and re-encode byte for byte", () => {
  const fixture = JSON.parse(readFileSync(FIXTURE, "utf8")) as { client: string; connect: string; frames: CapturedFrame[] };
  assert.ok(fixture.frames.length >= 25, "the fixture holds a real session's frames");
  const connect = Buffer.from(fixture.connect, "hex");
  const request = decodeConnectRequest(new JuteReader(connect));
  assert.equal(request.readOnly, undefined);
  const w = new JuteWriter();
  encodeConnectRequest(w, request);
  assert.deepEqual(w.toBytes(), connect);
  for (const frame of fixture.frames) {
    const bytes = Buffer.from(frame.hex, "hex");
    const decoded = decodeRequest(bytes);
    assert.equal(decoded.opCode, frame.op);
    w.reset();
    encodeRequest(w, decoded.xid, decoded.opCode as ClientOpCode, decoded.body as never);
    assert.deepEqual(w.toBytes(), bytes, `op ${frame.op}`);
  }
});
