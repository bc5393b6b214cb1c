// Goal: multi is all-or-nothing in one zxid with ZooKeeper's per-op results. Method: successful
// multis (result shapes, one zxid, ops seeing earlier ops' effects, sequential numbering), failing
// multis (results 0 / code / -2, no events), and the strongest rollback check available: a
// replica that applied a failed multi has a byte-identical snapshot to one that applied a no-op
// at the same position.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CoordOp, type MultiWriteOp } from "../../src/coord/commands.js";
import { CoordError } from "../../src/coord/errors.js";
import { WatchEventType } from "../../src/coord/types.js";
import { Harness, WORLD, nextZxid } from "./harness.js";

const create = (path: string, flags = 0, type: 1 | 15 = CoordOp.create): MultiWriteOp => ({ type, path, data: null, acl: WORLD, flags, ttl: -1n });
const setData = (path: string, version: number, data = "x"): MultiWriteOp => ({ type: CoordOp.setData, path, data: new TextEncoder().encode(data), version });
const check = (path: string, version: number): MultiWriteOp => ({ type: CoordOp.check, path, version });
const del = (path: string, version = -1): MultiWriteOp => ({ type: CoordOp.delete, path, version });

test("a successful multi: per-op results, one zxid for everything, later ops see earlier ones", () => {
  const h = new Harness();
  h.create("/q");
  const zxid = nextZxid(h);
  const result = h.multi([create("/a"), create("/a/b", 0, CoordOp.create2), setData("/a", 0), check("/a", 1), create("/q/s-", 2), create("/q/s-", 2), del("/a/b")]);
  assert.equal(result.err, 0);
  assert.equal(result.zxid, zxid);
  assert.deepEqual(
    result.multi!.map((r) => r.type),
    [CoordOp.create, CoordOp.create2, CoordOp.setData, CoordOp.check, CoordOp.create, CoordOp.create, CoordOp.delete],
  );
  assert.deepEqual(result.multi![4], { type: CoordOp.create, path: "/q/s-0000000000" });
  assert.deepEqual(result.multi![5], { type: CoordOp.create, path: "/q/s-0000000001" });
  const a = h.sm.peekStat("/a")!;
  assert.equal(a.czxid, zxid);
  assert.equal(a.mzxid, zxid);
  assert.equal(a.version, 1);
  assert.equal(h.sm.peekStat("/a/b"), undefined);
  // Events in op order, all with the multi's zxid.
  assert.deepEqual(
    result.events.map((e) => [e.type, e.path]),
    [
      [WatchEventType.nodeCreated, "/a"],
      [WatchEventType.nodeChildrenChanged, "/"],
      [WatchEventType.nodeCreated, "/a/b"],
      [WatchEventType.nodeChildrenChanged, "/a"],
      [WatchEventType.nodeDataChanged, "/a"],
      [WatchEventType.nodeCreated, "/q/s-0000000000"],
      [WatchEventType.nodeChildrenChanged, "/q"],
      [WatchEventType.nodeCreated, "/q/s-0000000001"],
      [WatchEventType.nodeChildrenChanged, "/q"],
      [WatchEventType.nodeDeleted, "/a/b"],
      [WatchEventType.nodeChildrenChanged, "/a"],
    ],
  );
  assert.ok(result.events.every((e) => e.zxid === zxid));
});

test("a failing multi: earlier ops -1/0, the failing op its code, later ops -1/RuntimeInconsistency; nothing applied", () => {
  const h = new Harness();
  h.create("/a");
  const before = h.sm.peekStat("/")!;
  const result = h.multi([create("/b"), setData("/a", 0), check("/a", 0), create("/c"), del("/nope")]);
  assert.equal(result.err, CoordError.badVersion);
  assert.deepEqual(result.multi, [
    { type: -1, err: 0 },
    { type: -1, err: 0 },
    { type: -1, err: CoordError.badVersion },
    { type: -1, err: CoordError.runtimeInconsistency },
    { type: -1, err: CoordError.runtimeInconsistency },
  ]);
  assert.deepEqual(result.events, []);
  assert.equal(h.sm.peekStat("/b"), undefined);
  assert.equal(h.sm.peekStat("/a")!.version, 0);
  assert.deepEqual(h.sm.peekStat("/"), before, "the parent's cversion and pzxid are restored");
});

test("an empty multi succeeds with no results", () => {
  const result = new Harness().multi([]);
  assert.equal(result.err, 0);
  assert.deepEqual(result.multi, []);
});

function twin(): [Harness, Harness] {
  const a = new Harness({ extendedTypesEnabled: true });
  const b = new Harness({ extendedTypesEnabled: true });
  for (const h of [a, b]) {
    h.session(7n);
    h.create("/p");
    h.create("/p/x", { data: "old" });
    h.create("/p/e", { flags: 1, sessionId: 7n });
    h.create("/c", { type: 19, flags: 4 });
    h.create("/c/kid");
    h.create("/q");
  }
  return [a, b];
}

test("rollback is exact: a failed multi leaves a snapshot byte-identical to a no-op at the same position", () => {
  const failing: MultiWriteOp[][] = [
    [del("/p/x"), del("/p/e"), del("/c/kid"), del("/c"), create("/q/s-", 2), setData("/p", -1), create("/p/x"), check("/p", 5)],
    [create("/n"), create("/n/m"), setData("/n/m", 0), del("/n/m"), del("/n"), check("/n", 0)],
    [create("/q/s-", 3), create("/q/t-", 2), setData("/q", 0), del("/p/e", 0), del("/p", -1)],
  ];
  for (const ops of failing) {
    const [withMulti, withNoop] = twin();
    const result = withMulti.multi(ops, { sessionId: 7n });
    assert.notEqual(result.err, 0, "the multi must fail for this test to mean anything");
    withNoop.apply({ kind: "sync" });
    assert.deepEqual(withMulti.sm.snapshot(), withNoop.sm.snapshot());
    // And both keep working identically afterwards, including the indexes a snapshot does not
    // show directly (a session's ephemerals, the container list, descendant counts).
    for (const h of [withMulti, withNoop]) {
      h.create("/q/s-", { flags: 2 });
      h.delete("/c/kid");
      h.closeSession(7n);
    }
    assert.deepEqual(withMulti.sm.snapshot(), withNoop.sm.snapshot());
    assert.deepEqual(withMulti.sm.expiredNodes(withMulti.nowMs, { containerMaxPerBatch: 10 }), ["/c"]);
    assert.deepEqual(withNoop.sm.expiredNodes(withNoop.nowMs, { containerMaxPerBatch: 10 }), ["/c"]);
    assert.deepEqual(withMulti.sm.getAllChildrenNumber("/", []), withNoop.sm.getAllChildrenNumber("/", []));
  }
});

test("the rollback check itself catches a multi that leaks one change", () => {
  const [withMulti, withNoop] = twin();
  withMulti.multi([setData("/p/x", 0), check("/p/x", 99)]);
  withNoop.apply({ kind: "sync" });
  assert.deepEqual(withMulti.sm.snapshot(), withNoop.sm.snapshot());
  // Planting the leak by hand: the same comparison must now fail.
  withMulti.sm.applyCommand(withMulti.command({ kind: "op", op: setData("/p/x", -1, "leak") as Extract<MultiWriteOp, { type: 5 }> }), { slot: 1000, index: 0 });
  withNoop.sm.applyCommand(withNoop.command({ kind: "sync" }), { slot: 1000, index: 0 });
  assert.notDeepEqual(withMulti.sm.snapshot(), withNoop.sm.snapshot());
});

test("a multi by a closed session fails at its first op with SessionExpired", () => {
  const h = new Harness();
  const result = h.multi([create("/a"), create("/b")], { sessionId: 99n });
  assert.deepEqual(result.multi, [
    { type: -1, err: CoordError.sessionExpired },
    { type: -1, err: CoordError.runtimeInconsistency },
  ]);
});
