// Goal: the server-side watch manager delivers what ZooKeeper's does: one-shot data/exists/child
// watches removed on first fire, persistent watches that stay, recursive watches that cover the
// subtree but never see NodeChildrenChanged, one notification per connection per event, READ-ACL
// filtering, checkWatches/removeWatches by type (NoWatcher when absent), and SetWatches replay
// relative to a zxid. Method: real events from the state machine (Harness) fed to a WatchManager
// with several connections, checking the exact notification lists.
import { test } from "node:test";
import assert from "node:assert/strict";
import { aclPermits } from "../../src/coord/acl.js";
import { Perm, WatchEventType, type Identity } from "../../src/coord/types.js";
import { WatchManager, WatcherKind, type ConnectionId, type Notification } from "../../src/coord/watches.js";
import { Harness } from "./harness.js";
import type { CoordApplyResult } from "../../src/coord/state-machine.js";

const { nodeCreated: CREATED, nodeDeleted: DELETED, nodeDataChanged: CHANGED, nodeChildrenChanged: CHILDREN } = WatchEventType;
const everyone = (): boolean => true;
const fire = (w: WatchManager, result: CoordApplyResult, canRead: (c: ConnectionId, acl: never) => boolean = everyone): Array<[ConnectionId, number, string]> =>
  w.trigger(result.events, canRead as never).map((n: Notification) => [n.connection, n.type, n.path]);

test("a data watch fires once on change, then is gone", () => {
  const h = new Harness();
  const w = new WatchManager();
  h.create("/a");
  w.addDataWatch(1, "/a");
  assert.deepEqual(fire(w, h.setData("/a", "1")), [[1, CHANGED, "/a"]]);
  assert.deepEqual(fire(w, h.setData("/a", "2")), []);
  assert.equal(w.watchCount(1), 0);
});

test("an exists watch on a missing node fires NodeCreated", () => {
  const h = new Harness();
  const w = new WatchManager();
  w.addDataWatch(1, "/later");
  assert.deepEqual(fire(w, h.create("/later")), [[1, CREATED, "/later"]]);
});

test("delete: data and child watchers of the node get one NodeDeleted; parent child watchers NodeChildrenChanged", () => {
  const h = new Harness();
  const w = new WatchManager();
  h.create("/p");
  h.create("/p/c");
  w.addDataWatch(1, "/p/c");
  w.addChildWatch(1, "/p/c");
  w.addChildWatch(2, "/p/c");
  w.addChildWatch(3, "/p");
  w.addDataWatch(4, "/p");
  assert.deepEqual(fire(w, h.delete("/p/c")), [
    [1, DELETED, "/p/c"],
    [2, DELETED, "/p/c"],
    [3, CHILDREN, "/p"],
  ]);
  assert.equal(w.watchCount(1), 0, "both of connection 1's one-shot watches were consumed");
  assert.equal(w.watchCount(4), 1, "a data watch on the parent is not triggered by a child's delete");
});

test("child watches fire on child create/delete, not on the child's data", () => {
  const h = new Harness();
  const w = new WatchManager();
  h.create("/p");
  w.addChildWatch(1, "/p");
  h.create("/p/c");
  w.addChildWatch(1, "/p");
  assert.deepEqual(fire(w, h.setData("/p/c", "x")), []);
  assert.deepEqual(fire(w, h.setData("/p", "x")), [], "nor on the node's own data");
  assert.deepEqual(fire(w, h.create("/p/d")), [[1, CHILDREN, "/p"]]);
});

test("a persistent watch stays and sees the node's data and children events", () => {
  const h = new Harness();
  const w = new WatchManager();
  w.addPersistentWatch(1, "/p", false);
  assert.deepEqual(fire(w, h.create("/p")), [[1, CREATED, "/p"]]);
  assert.deepEqual(fire(w, h.create("/p/c")), [[1, CHILDREN, "/p"]]);
  assert.deepEqual(fire(w, h.setData("/p", "x")), [[1, CHANGED, "/p"]]);
  assert.deepEqual(fire(w, h.setData("/p/c", "x")), [], "not recursive");
  assert.deepEqual(fire(w, h.delete("/p/c")), [[1, CHILDREN, "/p"]]);
  assert.deepEqual(fire(w, h.delete("/p")), [[1, DELETED, "/p"]]);
  assert.equal(w.checkWatches(1, "/p", WatcherKind.persistent), true);
});

test("a recursive watch covers the subtree's node events but never NodeChildrenChanged", () => {
  const h = new Harness();
  const w = new WatchManager();
  h.create("/r");
  w.addPersistentWatch(1, "/r", true);
  assert.deepEqual(fire(w, h.create("/r/a")), [[1, CREATED, "/r/a"]]);
  assert.deepEqual(fire(w, h.create("/r/a/b")), [[1, CREATED, "/r/a/b"]]);
  assert.deepEqual(fire(w, h.setData("/r/a/b", "x")), [[1, CHANGED, "/r/a/b"]]);
  assert.deepEqual(fire(w, h.delete("/r/a/b")), [[1, DELETED, "/r/a/b"]]);
  assert.deepEqual(fire(w, h.setData("/r", "x")), [[1, CHANGED, "/r"]]);
  assert.deepEqual(fire(w, h.create("/other")), []);
  assert.deepEqual(fire(w, h.create("/rx")), [], "a sibling with a common string prefix is not in the subtree");
});

test("a standard and a persistent watch on one path coexist (ZooKeeper 3.9 semantics)", () => {
  const h = new Harness();
  const w = new WatchManager();
  h.create("/a");
  w.addPersistentWatch(1, "/a", false);
  w.addDataWatch(1, "/a");
  assert.deepEqual(fire(w, h.setData("/a", "1")), [[1, CHANGED, "/a"]], "one notification, not two");
  assert.equal(w.checkWatches(1, "/a", WatcherKind.data), false, "the one-shot part was consumed");
  assert.equal(w.checkWatches(1, "/a", WatcherKind.persistent), true);
  assert.deepEqual(fire(w, h.setData("/a", "2")), [[1, CHANGED, "/a"]]);
});

test("notifications are filtered by READ on the event's ACL, and the watch is consumed anyway", () => {
  const h = new Harness();
  const w = new WatchManager();
  h.create("/s", { acl: [{ perms: Perm.admin | Perm.write, id: { scheme: "world", id: "anyone" } }] });
  const identities = new Map<ConnectionId, Identity[]>([
    [1, [{ scheme: "ip", id: "127.0.0.1" }]],
    [2, [{ scheme: "super", id: "" }]],
  ]);
  w.addDataWatch(1, "/s");
  w.addDataWatch(2, "/s");
  const canRead = (c: ConnectionId, acl: never): boolean => aclPermits(acl, Perm.read, identities.get(c)!);
  assert.deepEqual(fire(w, h.setData("/s", "x"), canRead), [[2, CHANGED, "/s"]]);
  assert.equal(w.watchCount(1), 0);
});

test("checkWatches and removeWatches by type; false (NoWatcher) when nothing matches", () => {
  const w = new WatchManager();
  w.addDataWatch(1, "/a");
  w.addChildWatch(1, "/a");
  w.addPersistentWatch(1, "/p", false);
  w.addPersistentWatch(1, "/r", true);
  assert.equal(w.checkWatches(1, "/a", WatcherKind.data), true);
  assert.equal(w.checkWatches(1, "/a", WatcherKind.children), true);
  assert.equal(w.checkWatches(2, "/a", WatcherKind.any), false);
  assert.equal(w.checkWatches(1, "/p", WatcherKind.data), false, "a persistent watch is not a data watch");
  assert.equal(w.removeWatches(1, "/p", WatcherKind.data), false, "…and cannot be removed as one (ZOOKEEPER-4471)");
  assert.equal(w.removeWatches(1, "/a", WatcherKind.children), true);
  assert.equal(w.checkWatches(1, "/a", WatcherKind.children), false);
  assert.equal(w.checkWatches(1, "/a", WatcherKind.any), true);
  assert.equal(w.removeWatches(1, "/a", WatcherKind.any), true);
  assert.equal(w.removeWatches(1, "/a", WatcherKind.any), false);
  assert.equal(w.removeWatches(1, "/r", WatcherKind.persistentRecursive), true);
  assert.equal(w.removeWatches(1, "/p", WatcherKind.persistent), true);
  assert.equal(w.checkWatches(1, "/p", 9), false, "unknown types never match");
  assert.equal(w.watchCount(1), 0);
  assert.deepEqual(w.summary(), { connections: 0, paths: 0, watches: 0 });
});

test("SetWatches replay: fire what changed since relativeZxid, re-arm the rest", () => {
  const h = new Harness();
  const w = new WatchManager();
  h.create("/same");
  h.create("/changed");
  h.create("/gone");
  h.create("/kids");
  const relative = h.sm.lastZxid;
  h.setData("/changed", "x");
  h.delete("/gone");
  h.create("/kids/k");
  h.create("/born");
  const lookup = (path: string) => h.sm.peekStat(path);
  const replay = w.setWatches(
    1,
    relative,
    {
      dataWatches: ["/same", "/changed", "/gone"],
      existWatches: ["/born", "/unborn"],
      childWatches: ["/same", "/kids", "/gone"],
      persistentWatches: ["/pp"],
      persistentRecursiveWatches: ["/rr"],
    },
    lookup,
  );
  assert.deepEqual(
    replay.map((n) => [n.type, n.path, n.zxid]),
    [
      [CHANGED, "/changed", -1n],
      [DELETED, "/gone", -1n],
      [CREATED, "/born", -1n],
      [CHILDREN, "/kids", -1n],
      [DELETED, "/gone", -1n],
    ],
  );
  assert.deepEqual(w.watchesOf(1), { data: ["/pp", "/rr", "/same", "/unborn"], child: ["/pp", "/same"] });
  assert.deepEqual(fire(w, h.create("/unborn")), [[1, CREATED, "/unborn"]]);
});

test("closing a connection drops its watches; the per-connection limit refuses more", () => {
  const h = new Harness();
  const w = new WatchManager({ watchesPerConnectionMax: 2 });
  assert.equal(w.addDataWatch(1, "/a"), true);
  assert.equal(w.addChildWatch(1, "/a"), true);
  assert.equal(w.addDataWatch(1, "/b"), false);
  assert.equal(w.addPersistentWatch(1, "/c", false), false);
  assert.equal(w.addDataWatch(1, "/a"), false, "full even for a watch it already has");
  w.addDataWatch(2, "/a");
  w.removeConnection(1);
  assert.deepEqual(fire(w, h.create("/a")), [[2, CREATED, "/a"]]);
  assert.equal(w.addDataWatch(1, "/b"), true);
});

test("several connections: notifications follow event order", () => {
  const h = new Harness();
  const w = new WatchManager();
  h.session(5n);
  h.create("/x");
  w.addDataWatch(1, "/x/e");
  w.addChildWatch(2, "/x");
  w.addPersistentWatch(3, "/", true);
  h.create("/x/e", { flags: 1, sessionId: 5n });
  w.addDataWatch(1, "/x/e");
  w.addChildWatch(2, "/x");
  assert.deepEqual(fire(w, h.closeSession(5n)), [
    [1, DELETED, "/x/e"],
    [3, DELETED, "/x/e"],
    [2, CHILDREN, "/x"],
  ]);
});
