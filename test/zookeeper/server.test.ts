// Goal: the ZooKeeper server as clients see it — node-zookeeper-client (a real third-party client)
// and a wire-level client built on our codecs, against a real node from startTestCluster() (real
// TCP, the coordination group on real storage with fsync). Covered: CRUD with versions, sequential
// naming, ephemerals vanishing on close and on session expiry (and the expired session refused on
// reconnect), watches firing once and the notification arriving before the reply that shows the
// change, multi commit and rollback, ACLs (digest, auth, world, NoAuth, super), session resume
// with id and password and the stale older connection (SessionMoved), SetWatches replay,
// containers and TTL nodes, the four-letter words and the metrics.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect as netConnect, createServer, type Socket } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { startNode, startTestCluster, type TestCluster } from "../../src/synod.js";
import { digestIdentity } from "../../src/zookeeper/digest.js";
import { EventType, OpCode } from "../../src/zookeeper/protocol/constants.js";
import { ErrorCode } from "../../src/zookeeper/protocol/errors.js";
import { OPEN_ACL, RawZk } from "./raw-zk.js";
import { zookeeper, buf, call, type ZkError, type Watcher, type Stat, type ZkClient } from "./nzc.js";
import { JuteReader, JuteWriter } from "../../src/zookeeper/jute/runtime.js";
import { decodeConnectResponse, encodeConnectRequest } from "../../src/zookeeper/protocol/connect.js";
import { createFrameReader, lengthPrefixed } from "../../src/zookeeper/protocol/frame.js";
import { decodeReply, encodeRequest } from "../../src/zookeeper/protocol/requests.js";

const { ACL, Id, Permission, CreateMode } = zookeeper;

async function code(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 0;
  } catch (error) {
    return (error as ZkError).getCode();
  }
}

async function connect(cluster: TestCluster, sessionTimeoutMs = 30_000): Promise<ZkClient> {
  const client = zookeeper.createClient(cluster.zookeeperConnectString, { sessionTimeout: sessionTimeoutMs, retries: 0 });
  const connected = new Promise<void>((resolve) => client.once("connected", resolve));
  client.connect();
  await connected;
  return client;
}

function getData(client: ZkClient, path: string, watcher?: Watcher): Promise<{ data: Buffer; stat: Stat }> {
  return new Promise((resolve, reject) => client.getData(path, watcher, (error, data, stat) => (error ? reject(error) : resolve({ data, stat }))));
}

async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const SUPER_DIGEST = digestIdentity("super", "test");

async function startCluster(t: { after(fn: () => Promise<void>): void }): Promise<TestCluster> {
  const cluster = await startTestCluster({
    node: {
      zookeeperSessionTimeoutMsMin: 600,
      zookeeperSessionTimeoutMsMax: 60_000,
      zookeeper4lwWhitelist: "*",
      zookeeperSuperDigest: SUPER_DIGEST,
      zookeeperExtendedTypesEnabled: true,
      zookeeperContainerCheckMs: 100,
    },
  });
  t.after(() => cluster.close());
  return cluster;
}

function portOf(cluster: TestCluster): number {
  return cluster.nodes[0].zookeeperPort;
}

test("ZooKeeper server: node-zookeeper-client and the wire", async (t) => {
  const cluster = await startCluster(t);
  const port = portOf(cluster);

  await t.test("CRUD with versions and the errors ZooKeeper gives", async () => {
    const c = await connect(cluster);
    try {
      assert.equal(await call<string>((cb) => c.create("/crud", buf("v0"), ACL.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, cb)), "/crud");
      assert.equal(await code(call((cb) => c.create("/crud", buf("again"), ACL.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, cb))), ErrorCode.nodeExists);
      const first = await getData(c, "/crud");
      assert.equal(first.data.toString(), "v0");
      assert.equal(first.stat.version, 0);
      assert.equal((await call<Stat>((cb) => c.setData("/crud", buf("v1"), 0, cb))).version, 1);
      assert.equal(await code(call((cb) => c.setData("/crud", buf("stale"), 0, cb))), ErrorCode.badVersion);
      assert.equal((await getData(c, "/crud")).data.toString(), "v1");
      await call((cb) => c.create("/crud/child", null, ACL.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, cb));
      assert.equal(await code(call((cb) => c.remove("/crud", -1, (e) => cb(e, undefined)))), ErrorCode.notEmpty);
      assert.deepEqual(await call<string[]>((cb) => c.getChildren("/crud", undefined, cb)), ["child"]);
      assert.equal(await code(call((cb) => c.remove("/crud/child", 5, (e) => cb(e, undefined)))), ErrorCode.badVersion);
      await call((cb) => c.remove("/crud/child", 0, (e) => cb(e, undefined)));
      await call((cb) => c.remove("/crud", 1, (e) => cb(e, undefined)));
      assert.equal(await call<Stat | null>((cb) => c.exists("/crud", undefined, cb)), null);
      assert.equal(await code(getData(c, "/crud")), ErrorCode.noNode);
      assert.equal(await code(call((cb) => c.create("/missing/child", null, ACL.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, cb))), ErrorCode.noNode);
    } finally {
      c.close();
    }
  });

  await t.test("sequential naming: ten digits from the parent's cversion", async () => {
    const c = await connect(cluster);
    try {
      await call((cb) => c.create("/seq", null, ACL.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, cb));
      const names: string[] = [];
      for (let i = 0; i < 3; i++) names.push(await call<string>((cb) => c.create("/seq/n-", null, ACL.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL, cb)));
      assert.deepEqual(names, ["/seq/n-0000000000", "/seq/n-0000000001", "/seq/n-0000000002"]);
      await call((cb) => c.create("/seq/plain", null, ACL.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, cb));
      assert.equal(await call<string>((cb) => c.create("/seq/e-", null, ACL.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL, cb)), "/seq/e-0000000004");
    } finally {
      c.close();
    }
  });

  await t.test("an ephemeral vanishes when its session closes, and the watch fires once", async () => {
    const owner = await connect(cluster);
    const observer = await connect(cluster);
    try {
      await call((cb) => owner.create("/eph", buf("mine"), ACL.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL, cb));
      const stat = await call<Stat | null>((cb) => observer.exists("/eph", undefined, cb));
      assert.equal(stat!.ephemeralOwner.toString("hex"), owner.getSessionId().toString("hex"));
      const events: string[] = [];
      await call<Stat | null>((cb) => observer.exists("/eph", (event) => events.push(`${event.name}@${event.path}`), cb));
      owner.close();
      await waitFor(() => events.length > 0, 5000, "NodeDeleted");
      assert.deepEqual(events, ["NODE_DELETED@/eph"]);
      assert.equal(await call<Stat | null>((cb) => observer.exists("/eph", undefined, cb)), null);
      // Fired once: recreating the node does not fire the consumed watch again.
      await call((cb) => observer.create("/eph", null, ACL.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, cb));
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(events, ["NODE_DELETED@/eph"]);
      await call((cb) => observer.remove("/eph", -1, (e) => cb(e, undefined)));
    } finally {
      observer.close();
    }
  });

  await t.test("an ephemeral vanishes on session expiry; the expired session is refused on reconnect", async () => {
    const owner = await RawZk.connect(port, { timeoutMs: 600 });
    assert.ok(owner);
    assert.equal(owner.connectResponse.timeOut, 600, "600 ms is within [min, max]");
    assert.equal((await owner.call(OpCode.create, { path: "/expiring", data: null, acl: OPEN_ACL, flags: 1 })).err, 0);
    const observer = await RawZk.connect(port);
    assert.ok(observer);
    assert.equal((await observer.call(OpCode.exists, { path: "/expiring", watch: true })).err, 0);
    const startedMs = Date.now();
    owner.drop();
    await waitFor(() => observer.notifications().length > 0, 5000, "the expiry's NodeDeleted");
    const elapsedMs = Date.now() - startedMs;
    assert.ok(elapsedMs >= 500, `expired after ${elapsedMs} ms, not before the timeout`);
    assert.deepEqual(observer.notifications(), [{ type: EventType.nodeDeleted, state: 3, path: "/expiring" }]);
    assert.equal((await observer.call(OpCode.exists, { path: "/expiring", watch: false })).err, ErrorCode.noNode);
    const again = await RawZk.connect(port, { sessionId: owner.sessionId, passwd: owner.passwd });
    assert.ok(again);
    assert.equal(again.connectResponse.timeOut, 0, "an expired session gets timeOut 0");
    await again.waitClosed();
    observer.drop();
  });

  await t.test("timeouts are clamped to [min, max] and pings keep a session alive", async () => {
    const low = await RawZk.connect(port, { timeoutMs: 1 });
    const high = await RawZk.connect(port, { timeoutMs: 10_000_000 });
    assert.equal(low?.connectResponse.timeOut, 600);
    assert.equal(high?.connectResponse.timeOut, 60_000);
    high?.drop();
    assert.ok(low);
    assert.equal((await low.call(OpCode.create, { path: "/pinged", data: null, acl: OPEN_ACL, flags: 1 })).err, 0);
    for (let i = 0; i < 10; i++) {
      await new Promise((resolve) => setTimeout(resolve, 150));
      low.send(OpCode.ping, null, -2);
      await waitFor(() => low.frames.filter((f) => f.kind === "reply" && f.header.xid === -2).length === i + 1, 2000, "the ping reply");
    }
    assert.equal((await low.call(OpCode.exists, { path: "/pinged", watch: false })).err, 0, "1.5 s of pings every 150 ms kept a 600 ms session");
    await low.call(OpCode.closeSession, null);
    await low.waitClosed();
  });

  await t.test("a watch notification reaches the client before the reply that shows the change", async () => {
    const c = await RawZk.connect(port);
    assert.ok(c);
    await c.call(OpCode.create, { path: "/order", data: Buffer.from("0"), acl: OPEN_ACL, flags: 0 });
    await c.call(OpCode.getData, { path: "/order", watch: true });
    await c.call(OpCode.getChildren, { path: "/order", watch: true });
    const before = c.frames.length;
    // Pipelined in one TCP write: the write and two reads after it.
    const setXid = c.send(OpCode.setData, { path: "/order", data: Buffer.from("1"), version: -1 });
    const createXid = c.send(OpCode.create, { path: "/order/kid", data: null, acl: OPEN_ACL, flags: 0 });
    const readXid = c.send(OpCode.getData, { path: "/order", watch: false });
    const childrenXid = c.send(OpCode.getChildren, { path: "/order", watch: false });
    await c.reply(childrenXid);
    const seen = c.frames.slice(before).map((f) => (f.kind === "notification" ? `event ${f.event.type} ${f.event.path}` : `reply ${f.header.xid}`));
    assert.deepEqual(seen, [
      `event ${EventType.nodeDataChanged} /order`,
      `reply ${setXid}`,
      `event ${EventType.nodeChildrenChanged} /order`,
      `reply ${createXid}`,
      `reply ${readXid}`,
      `reply ${childrenXid}`,
    ]);
    // Watches are one-shot: another change sends nothing.
    await c.call(OpCode.setData, { path: "/order", data: Buffer.from("2"), version: -1 });
    assert.equal(c.notifications().length, 2);
    // Replies carry non-decreasing zxids.
    const zxids = c.frames.flatMap((f) => (f.kind === "reply" ? [f.header.zxid] : []));
    for (let i = 1; i < zxids.length; i++) assert.ok(zxids[i] >= zxids[i - 1], "reply zxids never go back");
    c.drop();
  });

  await t.test("pipelined writes do not overtake reads between them; auth applies to later writes", async () => {
    const c = await RawZk.connect(port);
    assert.ok(c);
    await c.call(OpCode.create, { path: "/pipe", data: Buffer.from("0"), acl: OPEN_ACL, flags: 0 });
    // write 1, read, write 2, read: each read sees exactly the writes before it.
    const xids: number[] = [];
    for (let round = 1; round <= 20; round++) {
      xids.push(c.send(OpCode.setData, { path: "/pipe", data: Buffer.from(String(round)), version: -1 }));
      xids.push(c.send(OpCode.getData, { path: "/pipe", watch: false }));
    }
    for (let i = 0; i < xids.length; i += 2) {
      const written = await c.reply(xids[i]);
      const read = await c.reply(xids[i + 1]);
      const round = i / 2 + 1;
      assert.equal(written?.header.err, 0);
      const body = read?.body as { data: Uint8Array; stat: { version: number } };
      assert.equal(Buffer.from(body.data).toString(), String(round), `read after write ${round}`);
      assert.equal(body.stat.version, round);
      assert.ok(read!.header.zxid >= written!.header.zxid);
    }
    // An auth between two writes: the second write already carries the new identity.
    const digest = [{ perms: 31, id: { scheme: "digest", id: digestIdentity("pipe", "pw") } }];
    const before = c.send(OpCode.create, { path: "/pipe/a", data: null, acl: digest, flags: 0 });
    c.send(OpCode.auth, { type: 0, scheme: "digest", auth: Buffer.from("pipe:pw") }, -4);
    const after = c.send(OpCode.setData, { path: "/pipe/a", data: Buffer.from("mine"), version: -1 });
    assert.equal((await c.reply(before))?.header.err, 0);
    assert.equal((await c.reply(after))?.header.err, 0, "the write after auth is authorized");
    c.drop();
  });

  await t.test("requests sent right behind a new session's ConnectRequest wait for the session", async () => {
    const socket = netConnect(port, "127.0.0.1");
    await once(socket, "connect");
    const w = new JuteWriter();
    encodeConnectRequest(w, { protocolVersion: 0, lastZxidSeen: 0n, timeOut: 30_000, sessionId: 0n, passwd: new Uint8Array(16), readOnly: false });
    const connect = lengthPrefixed(w.toBytes());
    w.reset();
    encodeRequest(w, -4, OpCode.auth, { type: 0, scheme: "digest", auth: Buffer.from("early:bird") });
    const auth = lengthPrefixed(w.toBytes());
    w.reset();
    encodeRequest(w, 1, OpCode.create, { path: "/early", data: null, acl: [{ perms: 31, id: { scheme: "auth", id: "" } }], flags: 1 });
    const create = lengthPrefixed(w.toBytes());
    socket.write(Buffer.concat([connect, auth, create]));
    const reader = createFrameReader(1 << 20);
    const frames: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => frames.push(...reader.push(chunk)));
    await waitFor(() => frames.length >= 3, 5000, "three replies");
    assert.ok(decodeConnectResponse(new JuteReader(frames[0])).timeOut > 0);
    assert.equal(decodeReply(frames[1], OpCode.auth).header.err, 0);
    const created = decodeReply(frames[2], OpCode.create);
    assert.deepEqual([created.header.xid, created.header.err, created.body], [1, 0, { path: "/early" }], "created with the session and the auth that came before it");
    socket.destroy();
  });

  await t.test("node-zookeeper-client watches fire once, in update order", async () => {
    const a = await connect(cluster);
    const b = await connect(cluster);
    try {
      await call((cb) => a.create("/w", buf("0"), ACL.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, cb));
      const events: string[] = [];
      await getData(a, "/w", (e) => events.push(`data:${e.name}`));
      await call((cb) => a.getChildren("/w", (e) => events.push(`children:${e.name}`), cb));
      await call((cb) => b.setData("/w", buf("1"), -1, cb));
      await call((cb) => b.create("/w/x", null, ACL.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, cb));
      await call((cb) => b.setData("/w", buf("2"), -1, cb));
      await waitFor(() => events.length >= 2, 5000, "two events");
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(events, ["data:NODE_DATA_CHANGED", "children:NODE_CHILDREN_CHANGED"]);
    } finally {
      a.close();
      b.close();
    }
  });

  await t.test("multi: all or nothing, per-op results, one zxid", async () => {
    const c = await connect(cluster);
    try {
      const ok = await new Promise<Array<{ type: number; path?: string }>>((resolve, reject) =>
        c
          .transaction()
          .create("/tx")
          .create("/tx/a", buf("a"))
          .setData("/tx", buf("x"), 0)
          .check("/tx/a", 0)
          .commit((error, results) => (error ? reject(error) : resolve(results))),
      );
      assert.deepEqual(
        ok.map((r) => r.type),
        [1, 1, 5, 13],
      );
      const failed = await new Promise<{ error: ZkError | null; results: Array<{ type: number; err?: number }> }>((resolve) =>
        c
          .transaction()
          .create("/tx/b")
          .remove("/tx/a", 0)
          .check("/tx", 99)
          .setData("/tx", buf("never"), -1)
          .commit((error, results) => resolve({ error, results })),
      );
      assert.ok(failed.error, "a failed multi reports an error");
      assert.equal(failed.error.getCode(), ErrorCode.badVersion);
      // Nothing applied: /tx/b absent, /tx/a still there, /tx's data unchanged.
      assert.equal(await call<Stat | null>((cb) => c.exists("/tx/b", undefined, cb)), null);
      assert.ok(await call<Stat | null>((cb) => c.exists("/tx/a", undefined, cb)));
      assert.equal((await getData(c, "/tx")).data.toString(), "x");
    } finally {
      c.close();
    }
    // The wire results of a rolled-back multi: earlier ops 0, the failing one its code, later -2.
    const raw = await RawZk.connect(port);
    assert.ok(raw);
    const reply = await raw.call(OpCode.multi, {
      ops: [
        { type: OpCode.create, request: { path: "/tx/c", data: null, acl: OPEN_ACL, flags: 0 } },
        { type: OpCode.check, request: { path: "/tx", version: 42 } },
        { type: OpCode.delete, request: { path: "/tx/a", version: -1 } },
      ],
    });
    assert.equal(reply.err, 0, "a multi's header err stays 0");
    assert.deepEqual(reply.body, {
      results: [
        { type: -1, err: 0 },
        { type: -1, err: ErrorCode.badVersion },
        { type: -1, err: ErrorCode.runtimeInconsistency },
      ],
    });
    raw.drop();
  });

  await t.test("ACLs: digest, auth, world read-only, NoAuth, super", async () => {
    const owner = await connect(cluster);
    const stranger = await connect(cluster);
    const superUser = await connect(cluster);
    try {
      owner.addAuthInfo("digest", buf("alice:secret"));
      const aliceOnly = [new ACL(Permission.ALL, new Id("digest", digestIdentity("alice", "secret")))];
      await call((cb) => owner.create("/acl", buf("private"), aliceOnly, CreateMode.PERSISTENT, cb));
      assert.equal((await getData(owner, "/acl")).data.toString(), "private");
      assert.equal(await code(getData(stranger, "/acl")), ErrorCode.noAuth);
      assert.equal(await code(call((cb) => stranger.setData("/acl", buf("x"), -1, cb))), ErrorCode.noAuth);
      // "auth" means: the creator's authenticated ids.
      await call((cb) => owner.create("/acl-auth", null, [new ACL(Permission.ALL, new Id("auth", ""))], CreateMode.PERSISTENT, cb));
      const acl = await call<Array<{ permission: number; id: { scheme: string; id: string } }>>((cb) => owner.getACL("/acl-auth", cb));
      assert.deepEqual(
        acl.map((a) => [a.permission, a.id.scheme, a.id.id]),
        [[31, "digest", digestIdentity("alice", "secret")]],
      );
      // auth: with no authenticated id is InvalidACL.
      assert.equal(await code(call((cb) => stranger.create("/acl-bad", null, [new ACL(Permission.ALL, new Id("auth", ""))], CreateMode.PERSISTENT, cb))), ErrorCode.invalidACL);
      // world read-only.
      await call((cb) => owner.create("/acl-ro", buf("ro"), ACL.READ_ACL_UNSAFE, CreateMode.PERSISTENT, cb));
      assert.equal((await getData(stranger, "/acl-ro")).data.toString(), "ro");
      assert.equal(await code(call((cb) => stranger.setData("/acl-ro", buf("x"), -1, cb))), ErrorCode.noAuth);
      // The stranger authenticates as alice and gets in.
      stranger.addAuthInfo("digest", buf("alice:secret"));
      await waitFor(async () => (await code(getData(stranger, "/acl"))) === 0, 5000, "auth to apply");
      // Super bypasses everything.
      superUser.addAuthInfo("digest", buf("super:test"));
      await waitFor(async () => (await code(call((cb) => superUser.setData("/acl-ro", buf("super"), -1, cb)))) === 0, 5000, "super write");
      assert.equal((await getData(superUser, "/acl")).data.toString(), "private");
    } finally {
      owner.close();
      stranger.close();
      superUser.close();
    }
    // An unknown auth scheme: AuthFailed, then the server closes the connection.
    const raw = await RawZk.connect(port);
    assert.ok(raw);
    const xid = raw.send(OpCode.auth, { type: 0, scheme: "kerberos", auth: Buffer.from("x") }, -4);
    const reply = await raw.reply(xid);
    assert.equal(reply?.header.err, ErrorCode.authFailed);
    await raw.waitClosed();
  });

  await t.test("resume with session id and password; the older connection becomes stale; a wrong password is refused", async () => {
    const first = await RawZk.connect(port);
    assert.ok(first);
    assert.equal((await first.call(OpCode.create, { path: "/resume", data: null, acl: OPEN_ACL, flags: 1 })).err, 0);
    const second = await RawZk.connect(port, { sessionId: first.sessionId, passwd: first.passwd, lastZxidSeen: 1n });
    assert.ok(second);
    assert.equal(second.connectResponse.sessionId, first.sessionId);
    assert.equal(second.connectResponse.timeOut, first.connectResponse.timeOut);
    assert.deepEqual(Buffer.from(second.passwd), Buffer.from(first.passwd));
    assert.equal((await first.call(OpCode.exists, { path: "/resume", watch: false })).err, ErrorCode.sessionMoved);
    const stat = await second.call(OpCode.exists, { path: "/resume", watch: false });
    assert.equal(stat.err, 0);
    assert.equal((stat.body as { stat: { ephemeralOwner: bigint } }).stat.ephemeralOwner, first.sessionId, "the ephemeral survived the move");
    first.drop();
    const wrong = Buffer.from(second.passwd);
    wrong[0] ^= 0xff;
    const refused = await RawZk.connect(port, { sessionId: second.sessionId, passwd: wrong });
    assert.ok(refused);
    assert.equal(refused.connectResponse.timeOut, 0);
    assert.equal(refused.connectResponse.sessionId, 0n);
    await refused.waitClosed();
    // The session itself is untouched by the bad attempt.
    assert.equal((await second.call(OpCode.exists, { path: "/resume", watch: false })).err, 0);
    // A client that has seen a newer zxid than the server gets no reply at all.
    const ahead = await RawZk.connect(port, { lastZxidSeen: 1n << 60n });
    assert.equal(ahead, undefined, "closed without a ConnectResponse");
    await second.call(OpCode.closeSession, null);
    await second.waitClosed();
  });

  await t.test("node-zookeeper-client's handshake (no readOnly byte) and kazoo-style (with it) both work", async () => {
    const withByte = await RawZk.connect(port, { readOnly: false });
    assert.equal(withByte?.connectResponse.readOnly, false);
    const without = await RawZk.connect(port);
    assert.equal(without?.connectResponse.readOnly, undefined);
    withByte?.drop();
    without?.drop();
  });

  await t.test("SetWatches replay fires for changes since relativeZxid and re-arms the rest", async () => {
    const c = await RawZk.connect(port);
    assert.ok(c);
    await c.call(OpCode.create, { path: "/sw", data: null, acl: OPEN_ACL, flags: 0 });
    await c.call(OpCode.create, { path: "/sw/same", data: null, acl: OPEN_ACL, flags: 0 });
    const mark = (await c.call(OpCode.create, { path: "/sw/changed", data: null, acl: OPEN_ACL, flags: 0 })).zxid;
    await c.call(OpCode.setData, { path: "/sw/changed", data: Buffer.from("new"), version: -1 });
    const xid = c.send(
      OpCode.setWatches2,
      { relativeZxid: mark, dataWatches: ["/sw/same", "/sw/changed", "/sw/gone"], existWatches: ["/sw/later"], childWatches: [], persistentWatches: [], persistentRecursiveWatches: ["/sw-rec"] },
      -8,
    );
    await c.reply(xid);
    assert.deepEqual(
      c.notifications().map((e) => `${e.type} ${e.path}`),
      [`${EventType.nodeDataChanged} /sw/changed`, `${EventType.nodeDeleted} /sw/gone`],
    );
    await c.call(OpCode.create, { path: "/sw/later", data: null, acl: OPEN_ACL, flags: 0 });
    await c.call(OpCode.setData, { path: "/sw/same", data: Buffer.from("x"), version: -1 });
    await c.call(OpCode.create, { path: "/sw-rec", data: null, acl: OPEN_ACL, flags: 0 });
    await c.call(OpCode.create, { path: "/sw-rec/x", data: null, acl: OPEN_ACL, flags: 0 });
    assert.deepEqual(
      c.notifications().slice(2).map((e) => `${e.type} ${e.path}`),
      [`${EventType.nodeCreated} /sw/later`, `${EventType.nodeDataChanged} /sw/same`, `${EventType.nodeCreated} /sw-rec`, `${EventType.nodeCreated} /sw-rec/x`],
      "SetWatches2 re-armed a persistent-recursive watch",
    );
    c.drop();
  });

  await t.test("addWatch, checkWatches/removeWatches, getEphemerals, getAllChildrenNumber, whoAmI, multiRead, sync", async () => {
    const c = await RawZk.connect(port);
    assert.ok(c);
    assert.equal((await c.call(OpCode.addWatch, { path: "/pw", mode: 1 })).err, 0);
    await c.call(OpCode.create, { path: "/pw", data: null, acl: OPEN_ACL, flags: 0 });
    await c.call(OpCode.create, { path: "/pw/deep", data: null, acl: OPEN_ACL, flags: 1 });
    await c.call(OpCode.setData, { path: "/pw/deep", data: Buffer.from("d"), version: -1 });
    assert.deepEqual(
      c.notifications().map((e) => `${e.type} ${e.path}`),
      [`${EventType.nodeCreated} /pw`, `${EventType.nodeCreated} /pw/deep`, `${EventType.nodeDataChanged} /pw/deep`],
      "a recursive watch stays and never sees NodeChildrenChanged",
    );
    assert.equal((await c.call(OpCode.checkWatches, { path: "/pw", type: 3 })).err, 0);
    assert.equal((await c.call(OpCode.removeWatches, { path: "/pw", type: 3 })).err, 0);
    assert.equal((await c.call(OpCode.checkWatches, { path: "/pw", type: 3 })).err, ErrorCode.noWatcher);
    assert.deepEqual((await c.call(OpCode.getEphemerals, { prefixPath: "/pw" })).body, { ephemerals: ["/pw/deep"] });
    assert.deepEqual((await c.call(OpCode.getAllChildrenNumber, { path: "/pw" })).body, { totalNumber: 1 });
    const who = (await c.call(OpCode.whoAmI, null)).body as { clientInfo: Array<{ authScheme: string; user: string }> };
    assert.deepEqual(who.clientInfo, [{ authScheme: "ip", user: "127.0.0.1" }]);
    const multiRead = await c.call(OpCode.multiRead, {
      ops: [
        { type: OpCode.getData, request: { path: "/pw/deep", watch: false } },
        { type: OpCode.getChildren, request: { path: "/nope", watch: false } },
        { type: OpCode.getChildren, request: { path: "/pw", watch: false } },
      ],
    });
    const results = (multiRead.body as { results: Array<{ type: number }> }).results;
    assert.deepEqual(
      results.map((r) => r.type),
      [OpCode.getData, -1, OpCode.getChildren],
    );
    const sync = await c.call(OpCode.sync, { path: "/pw" });
    assert.deepEqual([sync.err, sync.body], [0, { path: "/pw" }]);
    assert.equal((await c.call(OpCode.reconfig, { joiningServers: null, leavingServers: null, newMembers: null, curConfigId: -1n })).err, ErrorCode.reconfigDisabled);
    c.drop();
  });

  await t.test("containers and TTL nodes are cleaned up by the leader", async () => {
    const c = await RawZk.connect(port);
    assert.ok(c);
    assert.equal((await c.call(OpCode.createContainer, { path: "/box", data: null, acl: OPEN_ACL, flags: 4 })).err, 0);
    await c.call(OpCode.create, { path: "/box/item", data: null, acl: OPEN_ACL, flags: 0 });
    await c.call(OpCode.delete, { path: "/box/item", version: -1 });
    assert.equal((await c.call(OpCode.createTTL, { path: "/ttl", data: null, acl: OPEN_ACL, flags: 5, ttl: 200n })).err, 0);
    await waitFor(async () => (await c.call(OpCode.exists, { path: "/box", watch: false })).err === ErrorCode.noNode, 5000, "the empty container's deletion");
    await waitFor(async () => (await c.call(OpCode.exists, { path: "/ttl", watch: false })).err === ErrorCode.noNode, 5000, "the TTL node's deletion");
    c.drop();
  });

  await t.test("four-letter words and metrics", async () => {
    const client = await RawZk.connect(port);
    assert.ok(client);
    await client.call(OpCode.exists, { path: "/", watch: true });
    const word = async (w: string): Promise<string> => {
      const socket = netConnect(port, "127.0.0.1");
      await once(socket, "connect");
      socket.write(w);
      const chunks: Buffer[] = [];
      socket.on("data", (chunk: Buffer) => chunks.push(chunk));
      await once(socket, "close");
      return Buffer.concat(chunks).toString();
    };
    assert.equal(await word("ruok"), "imok");
    assert.equal(await word("isro"), "rw");
    const srvr = await word("srvr");
    assert.match(srvr, /^Zookeeper version: 3\.8\.\d/);
    assert.match(srvr, /Mode: standalone/);
    assert.match(srvr, /Zxid: 0x[0-9a-f]+/);
    assert.match(srvr, /Node count: \d+/);
    assert.match(await word("envi"), /^Environment:\nzookeeper\.version=3\.8\.\d+-synod/);
    assert.match(await word("mntr"), /zk_znode_count\t\d+/);
    assert.match(await word("conf"), /minSessionTimeout=600/);
    assert.match(await word("wchs"), /connections watching \d+ paths\nTotal watches:\d+/);
    assert.match(await word("stat"), /Clients:/);
    assert.match(await word("cons"), /\/127\.0\.0\.1:\d+/);
    assert.match(await word("dump"), /SessionTracker dump:/);
    assert.equal(await word("wchc"), "wchc is not executed because it is not in the whitelist.\n");
    const metrics = await cluster.nodes[0].registry.metrics();
    assert.match(metrics, /synod_zookeeper_requests_total\{op="create",node="1"\} \d+/);
    assert.match(metrics, /synod_zookeeper_znodes\{node="1"\} \d+/);
    assert.match(metrics, /synod_zookeeper_sessions\{node="1"\} \d+/);
    assert.match(metrics, /synod_zookeeper_request_duration_seconds_bucket/);
    client.drop();
  });
});

test("the default whitelist serves srvr only", async (t) => {
  const cluster = await startTestCluster();
  t.after(() => cluster.close());
  const port = cluster.nodes[0].zookeeperPort;
  const word = async (w: string): Promise<string> => {
    const socket = netConnect(port, "127.0.0.1");
    await once(socket, "connect");
    socket.write(w);
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    await once(socket, "close");
    return Buffer.concat(chunks).toString();
  };
  assert.match(await word("srvr"), /^Zookeeper version:/);
  assert.equal(await word("ruok"), "ruok is not executed because it is not in the whitelist.\n");
  assert.equal(await word("envi"), "envi is not executed because it is not in the whitelist.\n");
});

/** A TCP proxy whose connections the test can cut, to make a real client lose its connection. */
async function startProxy(targetPort: number): Promise<{ port: number; cut(): void; block(blocked: boolean): void; close(): Promise<void> }> {
  const pairs = new Set<[Socket, Socket]>();
  let blocked = false;
  const server = createServer((client) => {
    if (blocked) {
      client.destroy();
      return;
    }
    const upstream = netConnect(targetPort, "127.0.0.1");
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on("error", end);
    upstream.on("error", end);
    client.on("close", end);
    upstream.on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    cut: () => {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
    },
    block: (value) => {
      blocked = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const [a, b] of pairs) {
          a.destroy();
          b.destroy();
        }
        server.close(() => resolve());
      }),
  };
}

test("node-zookeeper-client reconnects with its session id and password after a cut connection; its watch survives", async (t) => {
  const cluster = await startTestCluster();
  t.after(() => cluster.close());
  const proxy = await startProxy(cluster.nodes[0].zookeeperPort);
  t.after(() => proxy.close());
  const client = zookeeper.createClient(`127.0.0.1:${proxy.port}`, { sessionTimeout: 30_000, retries: 0 });
  const states: string[] = [];
  client.on("state", (state) => states.push(state.name));
  const connected = new Promise<void>((resolve) => client.once("connected", resolve));
  client.connect();
  await connected;
  t.after(() => client.close());
  const other = await connect(cluster);
  t.after(() => other.close());
  const sessionBefore = client.getSessionId().toString("hex");
  await call((cb) => client.create("/nzc-eph", null, ACL.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL, cb));
  await call((cb) => other.create("/nzc-watched", buf("0"), ACL.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, cb));
  const events: string[] = [];
  await getData(client, "/nzc-watched", (e) => events.push(e.name));
  proxy.cut();
  await waitFor(() => states.filter((s) => s === "SYNC_CONNECTED").length >= 2, 10_000, "the client to reconnect");
  assert.ok(states.includes("DISCONNECTED"), `states: ${states.join(",")}`);
  assert.ok(!states.includes("EXPIRED"));
  assert.equal(client.getSessionId().toString("hex"), sessionBefore, "same session after the reconnect");
  // The session's ephemeral survived the cut, and the watch was re-registered (SetWatches).
  assert.ok(await call<Stat | null>((cb) => other.exists("/nzc-eph", undefined, cb)));
  await call((cb) => other.setData("/nzc-watched", buf("1"), -1, cb));
  await waitFor(() => events.length > 0, 5000, "the re-registered watch");
  assert.deepEqual(events, ["NODE_DATA_CHANGED"]);
});

test("sessions, ephemerals and the session secret survive a node restart; a resumed session keeps its ephemeral, an abandoned one expires", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "synod-zk-restart-"));
  const settings = { nodeId: 1, dataDir: join(dir, "node"), host: "127.0.0.1", kafkaPort: 0, zookeeperPort: 0, adminPort: 0, logLevel: "warn", zookeeperSessionTimeoutMsMin: 1000 };
  let node = await startNode(settings);
  t.after(async () => {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const kept = await RawZk.connect(node.zookeeperPort, { timeoutMs: 4000 });
  const abandoned = await RawZk.connect(node.zookeeperPort, { timeoutMs: 1000 });
  assert.ok(kept && abandoned);
  assert.equal((await kept.call(OpCode.create, { path: "/kept", data: null, acl: OPEN_ACL, flags: 1 })).err, 0);
  assert.equal((await abandoned.call(OpCode.create, { path: "/abandoned", data: null, acl: OPEN_ACL, flags: 1 })).err, 0);
  kept.drop();
  abandoned.drop();
  await node.close();
  node = await startNode(settings);
  // Resume on the restarted node: the password checks out (the secret was replicated, not per process).
  const resumed = await RawZk.connect(node.zookeeperPort, { sessionId: kept.sessionId, passwd: kept.passwd });
  assert.ok(resumed);
  assert.equal(resumed.connectResponse.timeOut, 4000);
  const observer = await RawZk.connect(node.zookeeperPort);
  assert.ok(observer);
  assert.equal((await observer.call(OpCode.exists, { path: "/abandoned", watch: true })).err, 0, "the new leader gave it a fresh timeout");
  await waitFor(() => observer.notifications().length > 0, 5000, "the abandoned session's expiry");
  for (let i = 0; i < 4; i++) {
    resumed.send(OpCode.ping, null, -2);
    await new Promise((r) => setTimeout(r, 300));
  }
  assert.equal((await observer.call(OpCode.exists, { path: "/kept", watch: false })).err, 0, "the resumed session's ephemeral is still there");
  resumed.drop();
  observer.drop();
});

test("node-zookeeper-client: a session that cannot reach the server expires, its ephemeral vanishes, and the client learns it on reconnect", async (t) => {
  const cluster = await startTestCluster({ node: { zookeeperSessionTimeoutMsMin: 600 } });
  t.after(() => cluster.close());
  const proxy = await startProxy(cluster.nodes[0].zookeeperPort);
  t.after(() => proxy.close());
  const client = zookeeper.createClient(`127.0.0.1:${proxy.port}`, { sessionTimeout: 600, retries: 0 });
  const expired = new Promise<void>((resolve) => client.once("expired", resolve));
  const connected = new Promise<void>((resolve) => client.once("connected", resolve));
  client.connect();
  await connected;
  t.after(() => client.close());
  const observer = await connect(cluster);
  t.after(() => observer.close());
  await call((cb) => client.create("/nzc-expiring", null, ACL.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL, cb));
  const events: string[] = [];
  await call<Stat | null>((cb) => observer.exists("/nzc-expiring", (e) => events.push(e.name), cb));
  proxy.block(true);
  proxy.cut();
  await waitFor(() => events.length > 0, 5000, "the ephemeral's deletion by expiry");
  assert.deepEqual(events, ["NODE_DELETED"]);
  proxy.block(false);
  await expired;
});
