// Goal: every operation of synod's TypeScript ZooKeeper client behaves as ZooKeeper specifies —
// results, Stats, typed errors, watches (one-shot and persistent), transactions, auth/ACLs,
// chroot, pipelining — against every server in zooKeeperTargets() (real Apache ZooKeeper 3.8,
// and synod once its ZooKeeper front-end serves). Method: one server per target over real TCP;
// each test works under its own chroot so tests share the server without interfering.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  AuthFailedError,
  BadArgumentsError,
  BadVersionError,
  MultiError,
  NoAuthError,
  NoChildrenForEphemeralsError,
  NoNodeError,
  NoWatcherError,
  NodeExistsError,
  NotEmptyError,
  ZooKeeperClient,
  OPEN_ACL_UNSAFE,
} from "../../../src/zookeeper/client/index.js";
import { zooKeeperTargets, type ZooKeeperTarget } from "../../helpers/zookeeper-server.js";
import { EventLog, client, eventually, freshChroot } from "./helpers.js";

for (const target of zooKeeperTargets()) {
  describe(`ZooKeeper client ops against ${target.kind}`, () => {
    let server: ZooKeeperTarget;
    before(async () => {
      server = await target.start();
    });
    after(() => server?.close());

    test("create, getData, setData, exists, delete with versions and typed errors", async (t) => {
      const zk = await client(t, await freshChroot(server, "crud"));
      assert.ok(zk.sessionId !== 0n);
      assert.ok(zk.negotiatedTimeoutMs >= 1000);
      const created = await zk.create("/node", "v0");
      assert.equal(created.path, "/node");
      assert.equal(created.stat.version, 0);
      assert.equal(created.stat.ephemeralOwner, 0n);
      assert.equal(created.stat.czxid, created.stat.mzxid);
      const read = await zk.getData("/node");
      assert.equal(read.data.toString(), "v0");
      assert.deepEqual(read.stat, created.stat);

      const updated = await zk.setData("/node", "v1", { version: 0 });
      assert.equal(updated.version, 1);
      assert.ok(updated.mzxid > created.stat.mzxid);
      await assert.rejects(zk.setData("/node", "v2", { version: 0 }), BadVersionError);
      await assert.rejects(zk.create("/node", "again"), NodeExistsError);
      await assert.rejects(zk.getData("/missing"), (e: unknown) => e instanceof NoNodeError && e.path === "/missing" && e.code === -101);
      assert.equal(await zk.exists("/missing"), null);
      assert.equal((await zk.exists("/node"))!.version, 1);

      await zk.create("/node/child");
      await assert.rejects(zk.delete("/node"), NotEmptyError);
      await assert.rejects(zk.delete("/node/child", { version: 5 }), BadVersionError);
      await zk.delete("/node/child", { version: 0 });
      await zk.delete("/node");
      assert.equal(await zk.exists("/node"), null);
      await assert.rejects(zk.delete("/node"), NoNodeError);
      // Bad paths fail before anything is sent.
      await assert.rejects(async () => zk.getData("relative"), BadArgumentsError);
      await assert.rejects(async () => zk.create("/a//b"), BadArgumentsError);
      await assert.rejects(async () => zk.create("/trailing/"), BadArgumentsError);
    });

    test("create modes: ephemeral, sequential, container, TTL; no children under ephemerals", async (t) => {
      const connectString = await freshChroot(server, "modes");
      const zk = await client(t, connectString);
      const ephemeral = await zk.create("/eph", "", { mode: "ephemeral" });
      assert.equal(ephemeral.stat.ephemeralOwner, zk.sessionId);
      await assert.rejects(zk.create("/eph/child"), NoChildrenForEphemeralsError);

      await zk.create("/seq");
      const a = await zk.create("/seq/item-", "a", { mode: "persistentSequential" });
      const b = await zk.create("/seq/item-", "b", { mode: "ephemeralSequential" });
      assert.match(a.path, /^\/seq\/item-\d{10}$/);
      assert.ok(b.path > a.path, "sequence numbers increase");
      assert.equal(Number(b.path.slice(-10)), Number(a.path.slice(-10)) + 1);
      assert.equal(b.stat.ephemeralOwner, zk.sessionId);
      // A sequential node may be created directly under a prefix ending in "/".
      const bare = await zk.create("/seq/", "", { mode: "persistentSequential" });
      assert.match(bare.path, /^\/seq\/\d{10}$/);

      const container = await zk.create("/container", "", { mode: "container" });
      assert.equal(container.path, "/container");
      // Clients see ephemeralOwner 0 for containers and TTL nodes (DataNode.getClientEphemeralOwner).
      assert.equal((await zk.exists("/container"))!.ephemeralOwner, 0n);
      const ttl = await zk.create("/ttl", "", { mode: "persistentWithTtl", ttlMs: 60_000 });
      assert.equal(ttl.stat.ephemeralOwner, 0n);
      const ttlSeq = await zk.create("/ttl-", "", { mode: "persistentSequentialWithTtl", ttlMs: 60_000 });
      assert.match(ttlSeq.path, /^\/ttl-\d{10}$/);
      await assert.rejects(async () => zk.create("/ttl-bad", "", { mode: "persistentWithTtl" }), TypeError);

      // Ephemerals die with the session: another client sees them go when this one closes.
      const observer = await client(t, connectString);
      await zk.close();
      assert.equal(await observer.exists("/eph"), null);
      assert.equal(await observer.exists(b.path), null);
      assert.ok(await observer.exists(a.path));
    });

    test("getChildren returns names and the parent's Stat; sync; getACL/setACL", async (t) => {
      const zk = await client(t, await freshChroot(server, "children"));
      await zk.create("/p");
      for (const name of ["c", "a", "b"]) await zk.create(`/p/${name}`);
      const { children, stat } = await zk.getChildren("/p");
      assert.deepEqual([...children].sort(), ["a", "b", "c"]);
      assert.equal(stat.numChildren, 3);
      assert.equal(stat.cversion, 3);
      assert.equal(await zk.sync("/p"), "/p");
      assert.equal(await zk.getAllChildrenNumber("/p"), 3);
      await zk.create("/p/a/e1", "", { mode: "ephemeral" });
      await zk.create("/p/b/e2", "", { mode: "ephemeral" });
      assert.deepEqual((await zk.getEphemerals("/p")).sort(), ["/p/a/e1", "/p/b/e2"]);
      assert.deepEqual(await zk.getEphemerals("/p/b"), ["/p/b/e2"]);
      assert.equal(await zk.getAllChildrenNumber("/p"), 5);
      const acl = await zk.getACL("/p");
      assert.deepEqual(acl.acl, OPEN_ACL_UNSAFE);
      const readOnly = [{ perms: 1, id: { scheme: "world", id: "anyone" } }];
      const aclStat = await zk.setACL("/p/a", readOnly, { version: 0 });
      assert.equal(aclStat.aversion, 1);
      await assert.rejects(zk.setData("/p/a", "x"), NoAuthError);
      await assert.rejects(zk.setACL("/p/b", readOnly, { version: 7 }), BadVersionError);
    });

    test("multi applies all ops in one zxid or none, with the failing op's typed error", async (t) => {
      const zk = await client(t, await freshChroot(server, "multi"));
      await zk.create("/m");
      const results = await zk.multi([
        { op: "create", path: "/m/a", data: "1" },
        { op: "create", path: "/m/s-", mode: "persistentSequential" },
        { op: "setData", path: "/m", data: "top" },
        { op: "check", path: "/m", version: 1 },
        { op: "delete", path: "/m/a" },
      ]);
      assert.deepEqual(
        results.map((r) => r.op),
        ["create", "create", "setData", "check", "delete"],
      );
      const first = results[0] as { op: "create"; path: string; stat: { czxid: bigint } | undefined };
      const second = results[1] as { op: "create"; path: string; stat: { czxid: bigint } | undefined };
      assert.equal(first.path, "/m/a");
      assert.match(second.path, /^\/m\/s-\d{10}$/);
      assert.equal(first.stat?.czxid, second.stat?.czxid, "one zxid for the whole transaction");
      assert.equal(await zk.exists("/m/a"), null);

      await assert.rejects(
        zk.multi([
          { op: "create", path: "/m/b" },
          { op: "check", path: "/m", version: 99 },
          { op: "create", path: "/m/c" },
        ]),
        (e: unknown) => e instanceof MultiError && e.failedIndex === 1 && e.failure instanceof BadVersionError && e.code === -103,
      );
      assert.equal(await zk.exists("/m/b"), null, "a failed multi applies nothing");
      assert.deepEqual(await zk.multi([]), []);
    });

    test("one-shot watches fire once, in order, before the change is visible to later reads", async (t) => {
      const connectString = await freshChroot(server, "watches");
      const zk = await client(t, connectString);
      const writer = await client(t, connectString);
      const existLog = new EventLog();
      assert.equal(await zk.exists("/w", { watch: existLog.watcher }), null);
      await writer.create("/w", "0");
      assert.deepEqual(await existLog.next((e) => e.type === "nodeCreated"), { type: "nodeCreated", state: "syncConnected", path: "/w" });

      const dataLog = new EventLog();
      await zk.getData("/w", { watch: dataLog.watcher });
      await writer.setData("/w", "1");
      await writer.setData("/w", "2");
      await dataLog.next((e) => e.type === "nodeDataChanged");
      const childLog = new EventLog();
      await zk.getChildren("/w", { watch: childLog.watcher });
      await writer.create("/w/c");
      await childLog.next((e) => e.type === "nodeChildrenChanged");
      // Sync through the watching client: every notification it will get has arrived by now.
      await zk.sync("/w");
      assert.equal(dataLog.nodeEvents.length, 1, "a one-shot watch fires once");
      assert.equal(childLog.nodeEvents.length, 1);

      // Deleting fires data and child watches with NodeDeleted.
      const deleteLog = new EventLog();
      await zk.getData("/w/c", { watch: deleteLog.watcher });
      await zk.getChildren("/w/c", { watch: deleteLog.watcher });
      await writer.delete("/w/c");
      await deleteLog.next((e) => e.type === "nodeDeleted" && e.path === "/w/c");
      await zk.sync("/w");
      assert.equal(deleteLog.nodeEvents.length, 1, "the same function registered twice on one path fires once");
    });

    test("persistent and recursive watches stay until removed; removeWatches", async (t) => {
      const connectString = await freshChroot(server, "persistent");
      const zk = await client(t, connectString);
      // ZooKeeper keeps one watch mode per connection and path, so the recursive watch is on its own client.
      const zkDeep = await client(t, connectString);
      const writer = await client(t, connectString);
      await writer.create("/p");
      const flat = new EventLog();
      const deep = new EventLog();
      await zk.addWatch("/p", "persistent", flat.watcher);
      await zkDeep.addWatch("/p", "persistentRecursive", deep.watcher);
      await writer.setData("/p", "1");
      await writer.setData("/p", "2");
      await writer.create("/p/c");
      await writer.setData("/p/c", "x");
      await eventually("recursive watch saw the child's change", 5000, () => deep.nodeEvents.some((e) => e.path === "/p/c" && e.type === "nodeDataChanged"));
      await zk.sync("/p");
      await zkDeep.sync("/p");
      assert.deepEqual(
        flat.nodeEvents.map((e) => `${e.type} ${e.path}`),
        ["nodeDataChanged /p", "nodeDataChanged /p", "nodeChildrenChanged /p"],
      );
      assert.deepEqual(
        deep.nodeEvents.map((e) => `${e.type} ${e.path}`),
        ["nodeDataChanged /p", "nodeDataChanged /p", "nodeCreated /p/c", "nodeDataChanged /p/c"],
      );

      await zk.removeWatches("/p", "any");
      assert.ok(flat.events.some((e) => e.type === "persistentWatchRemoved"));
      await writer.setData("/p", "3");
      await zk.sync("/p");
      assert.equal(flat.nodeEvents.filter((e) => e.type === "nodeDataChanged").length, 2, "no events after removal");
      await assert.rejects(zk.removeWatches("/p", "data"), NoWatcherError);

      const one = new EventLog();
      await zk.getData("/p", { watch: one.watcher });
      await zk.removeWatches("/p", "data", one.watcher);
      assert.deepEqual(one.events, [{ type: "dataWatchRemoved", state: "syncConnected", path: "/p" }]);
      await writer.setData("/p", "4");
      await zk.sync("/p");
      assert.equal(one.nodeEvents.filter((e) => e.type === "nodeDataChanged").length, 0);
    });

    test("digest auth and ACLs: only the authenticated creator may write", async (t) => {
      const connectString = await freshChroot(server, "auth");
      const owner = await client(t, connectString);
      await owner.addAuth("digest", "alice:secret");
      await owner.addAuth("digest", "alice:secret");
      const digest = createHash("sha1").update("alice:secret").digest("base64");
      await owner.create("/private", "x", { acl: [{ perms: 31, id: { scheme: "digest", id: `alice:${digest}` } }] });
      await owner.setData("/private", "y");
      assert.ok((await owner.whoAmI()).some((id) => id.scheme === "digest" && id.user === "alice"));
      const stranger = await client(t, connectString);
      await assert.rejects(stranger.getData("/private"), NoAuthError);
      const friend = await client(t, connectString, { auth: [{ scheme: "digest", auth: "alice:secret" }] });
      assert.equal((await friend.getData("/private")).data.toString(), "y");
      await owner.create("/mine", "", { acl: [{ perms: 31, id: { scheme: "auth", id: "" } }] });
      await assert.rejects(stranger.setData("/mine", "z"), NoAuthError);
      // An unknown scheme: the server answers AuthFailed and closes; the session is unusable.
      const failing = await client(t, connectString);
      await assert.rejects(failing.addAuth("no-such-scheme", "x"), AuthFailedError);
      assert.equal(failing.state, "authFailed");
      await assert.rejects(failing.getData("/"), AuthFailedError);
    });

    test("chroot: paths, created names and watch events are relative to it", async (t) => {
      const rooted = await freshChroot(server, "chroot");
      const chroot = rooted.slice(rooted.indexOf("/"));
      const zk = await client(t, rooted);
      const plain = await client(t, server.connectString);
      const log = new EventLog();
      await zk.exists("/x", { watch: log.watcher });
      const created = await zk.create("/x-", "", { mode: "persistentSequential" });
      assert.match(created.path, /^\/x-\d{10}$/);
      assert.ok(await plain.exists(`${chroot}${created.path}`));
      await plain.create(`${chroot}/x`);
      assert.deepEqual(await log.next((e) => e.type === "nodeCreated"), { type: "nodeCreated", state: "syncConnected", path: "/x" });
      assert.deepEqual((await zk.getChildren("/")).children.sort(), ["x", created.path.slice(1)].sort());
    });

    test("pipelining: 2,000 requests in flight complete, each with its own reply", async (t) => {
      const zk = await client(t, await freshChroot(server, "pipeline"));
      await zk.create("/p");
      const creates = Array.from({ length: 1000 }, (_, i) => zk.create(`/p/n${i}`, String(i)));
      const reads = Array.from({ length: 1000 }, (_, i) => creates[i].then(() => zk.getData(`/p/n${i}`)));
      const created = await Promise.all(creates);
      const got = await Promise.all(reads);
      for (let i = 0; i < 1000; i++) {
        assert.equal(created[i].path, `/p/n${i}`);
        assert.equal(got[i].data.toString(), String(i));
      }
      for (let i = 1; i < 1000; i++) assert.ok(created[i].stat.czxid > created[i - 1].stat.czxid, "creates apply in submission order");
      assert.equal((await zk.getChildren("/p")).children.length, 1000);
    });

    test("large values up to the packet limit; a larger request fails before it is sent", async (t) => {
      const zk = await client(t, await freshChroot(server, "large"));
      const value = Buffer.alloc(1_000_000, 7);
      await zk.create("/big", value);
      assert.ok((await zk.getData("/big")).data.equals(value));
      await assert.rejects(zk.setData("/big", Buffer.alloc(1_100_000)), (e: unknown) => e instanceof BadArgumentsError && /requestBytesMax/.test((e as Error).message));
      assert.equal(zk.state, "connected", "the connection was not sacrificed");
      assert.equal(zk.pendingRequestBytes, 0);
    });

    test("state changes and the session signal on close", async (t) => {
      const zk = new ZooKeeperClient({ connectString: server.connectString, sessionTimeoutMs: 5000 });
      const states: string[] = [];
      zk.onStateChange((change) => states.push(change.state));
      zk.start();
      await zk.waitConnected(10_000);
      const log = new EventLog();
      await zk.exists("/never", { watch: log.watcher });
      await zk.close();
      await zk.close();
      assert.deepEqual(states, ["connected", "closed"]);
      assert.ok(zk.sessionSignal.aborted);
      assert.deepEqual(log.events, [{ type: "none", state: "closed", path: "" }]);
      await assert.rejects(zk.getData("/"), (e: unknown) => (e as Error).name === "ClientClosedError");
      t.diagnostic(`session 0x${zk.sessionId.toString(16)} closed`);
    });
  });
}
