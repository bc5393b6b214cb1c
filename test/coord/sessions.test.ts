// Goal: sessions as the leader and the front-end need them: creation with a proposer-chosen id,
// the live set with timeouts, ephemerals tied to their session, and closeSession removing all of
// a session's ephemerals atomically in one zxid with their watch events; the session's owner
// (the node serving its connection) and SessionMoved for writes through a node it left. Method: direct commands
// on a state machine, checking results, events, Stats and the session queries.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CoordError } from "../../src/coord/errors.js";
import { decodeCommand, encodeCommand, peekCommand } from "../../src/coord/commands.js";
import { CoordStateMachine } from "../../src/coord/state-machine.js";
import { WatchEventType } from "../../src/coord/types.js";
import { Harness, IP_LOCAL, nextZxid } from "./harness.js";

const A = 0x0100000000000001n;
const B = 0x0200000000000002n;

test("createSession registers the id and timeout; bad or duplicate ids are BadArguments", () => {
  const h = new Harness();
  assert.equal(h.session(A, 10_000).err, 0);
  assert.equal(h.session(B, 40_000).err, 0);
  assert.equal(h.session(A).err, CoordError.badArguments, "duplicate");
  assert.equal(h.session(0n).err, CoordError.badArguments, "0 means no session");
  assert.equal(h.session(-(1n << 63n)).err, CoordError.badArguments, "the container marker");
  assert.equal(h.session(BigInt.asIntN(64, 0xff00000000000001n)).err, CoordError.badArguments, "the TTL range");
  assert.equal(h.session(0x0300000000000000n, 0).err, CoordError.badArguments, "timeout must be positive");
  assert.equal(h.session(BigInt.asIntN(64, 0x8100000000000001n)).err, 0, "node ids ≥ 128 give negative ids, which are fine");
  assert.deepEqual(h.sm.sessions(), [
    { sessionId: BigInt.asIntN(64, 0x8100000000000001n), timeoutMs: 30_000 },
    { sessionId: A, timeoutMs: 10_000 },
    { sessionId: B, timeoutMs: 40_000 },
  ]);
  assert.equal(h.sm.sessionTimeoutMs(B), 40_000);
  assert.equal(h.sm.hasSession(0x0300000000000000n), false);
});

test("ephemerals show their owner in the Stat and are listed per session", () => {
  const h = new Harness();
  h.session(A);
  h.create("/app");
  h.create("/app/lock-", { flags: 3, sessionId: A });
  h.create("/app/member", { flags: 1, sessionId: A });
  h.create("/other", { flags: 1, sessionId: A });
  assert.equal(h.sm.peekStat("/app/member")!.ephemeralOwner, A);
  assert.deepEqual(h.sm.ephemeralsOf(A), ["/app/lock-0000000000", "/app/member", "/other"]);
  assert.deepEqual(h.sm.getEphemerals(A, "/app"), ["/app/lock-0000000000", "/app/member"]);
  assert.deepEqual(h.sm.getEphemerals(A, "/app/m"), ["/app/member"], "a plain string prefix, as ZooKeeper");
  assert.deepEqual(h.sm.getEphemerals(A, "/"), h.sm.ephemeralsOf(A));
  assert.deepEqual(h.sm.getEphemerals(A, null), h.sm.ephemeralsOf(A));
  assert.deepEqual(h.sm.getEphemerals(B, "/"), []);
  h.delete("/other");
  assert.deepEqual(h.sm.ephemeralsOf(A), ["/app/lock-0000000000", "/app/member"]);
});

test("closeSession removes every ephemeral in one zxid, with NodeDeleted and NodeChildrenChanged for each", () => {
  const h = new Harness();
  h.session(A);
  h.session(B);
  h.create("/app");
  h.create("/app/a", { flags: 1, sessionId: A });
  h.create("/app/b", { flags: 1, sessionId: B });
  h.create("/z", { flags: 1, sessionId: A });
  const zxid = nextZxid(h);
  const closed = h.closeSession(A);
  assert.equal(closed.err, 0);
  assert.deepEqual(
    closed.events.map((e) => [e.type, e.path, e.zxid]),
    [
      [WatchEventType.nodeDeleted, "/app/a", zxid],
      [WatchEventType.nodeChildrenChanged, "/app", zxid],
      [WatchEventType.nodeDeleted, "/z", zxid],
      [WatchEventType.nodeChildrenChanged, "/", zxid],
    ],
  );
  assert.deepEqual(h.children("/app"), ["b"]);
  assert.equal(h.sm.peekStat("/app")!.pzxid, zxid);
  assert.equal(h.sm.hasSession(A), false);
  assert.deepEqual(h.sm.ephemeralsOf(A), []);
  assert.equal(h.closeSession(A).err, CoordError.sessionExpired, "closing twice");
});

test("a closed session can no longer write: an ephemeral proposed before the close cannot outlive it", () => {
  const h = new Harness();
  h.session(A);
  h.closeSession(A);
  assert.equal(h.create("/late", { flags: 1, sessionId: A }).err, CoordError.sessionExpired);
  assert.equal(h.create("/late", { sessionId: A }).err, CoordError.sessionExpired);
  assert.equal(h.sm.peekStat("/late"), undefined);
  assert.equal(h.sm.getData("/zookeeper", [IP_LOCAL]).ok, true, "reads do not depend on sessions");
});

test("sync applies nothing but takes its zxid", () => {
  const h = new Harness();
  const before = h.sm.snapshot();
  const zxid = nextZxid(h);
  const result = h.apply({ kind: "sync" });
  assert.deepEqual([result.err, result.zxid, result.events], [0, zxid, []]);
  assert.equal(h.sm.lastZxid, zxid);
  assert.equal(h.sm.nodeCount, 4);
  assert.notDeepEqual(h.sm.snapshot(), before, "the snapshot records the new lastZxid");
});

test("SessionMoved: once a session moves to another node, writes through its old node fail; closeSession and ownerless commands do not", () => {
  const h = new Harness();
  assert.equal(h.apply({ kind: "createSession", timeoutMs: 30_000 }, { sessionId: A, owner: 1 }).err, 0);
  assert.equal(h.sm.sessionOwner(A), 1);
  assert.equal(h.create("/a", { sessionId: A, owner: 1 }).err, 0);
  // The client reconnects to node 2, which records the move.
  assert.equal(h.apply({ kind: "moveSession" }, { sessionId: A, owner: 2 }).err, 0);
  assert.equal(h.sm.sessionOwner(A), 2);
  assert.equal(h.setData("/a", "stale", -1, { sessionId: A, owner: 1 }).err, CoordError.sessionMoved, "the old node's connection");
  assert.equal(h.multi([{ type: 13, path: "/a", version: -1 }], { sessionId: A, owner: 1 }).err, CoordError.sessionMoved, "a multi too");
  assert.equal(h.setData("/a", "moved", -1, { sessionId: A, owner: 2 }).err, 0, "the new node's connection");
  assert.equal(h.setData("/a", "system", -1, { sessionId: A, owner: 0 }).err, 0, "a command of no connection is never refused as moved");
  assert.equal(h.apply({ kind: "moveSession" }, { sessionId: B, owner: 2 }).err, CoordError.sessionExpired, "no such session");
  assert.equal(h.apply({ kind: "moveSession" }, { sessionId: A, owner: 0 }).err, CoordError.badArguments, "a move names its node");
  // As in ZooKeeper, closing is not checked against the owner (the leader's expiry closes sessions too).
  assert.equal(h.apply({ kind: "closeSession" }, { sessionId: A, owner: 1 }).err, 0);
  assert.equal(h.sm.sessionOwner(A), undefined);
});

test("SessionMoved: the owner survives a snapshot; commands and images from before owners existed still apply and restore", () => {
  const h = new Harness();
  h.apply({ kind: "createSession", timeoutMs: 30_000 }, { sessionId: A, owner: 3 });
  const restored = new CoordStateMachine();
  restored.restore(h.sm.snapshot());
  assert.equal(restored.sessionOwner(A), 3);
  // A format-1 command (no owner field) decodes with owner 0: never refused as moved.
  const v2 = encodeCommand({ wallTimeMs: 1, sessionId: A, owner: 7, identities: [], body: { kind: "closeSession" } });
  const v1 = Uint8Array.from([1, ...v2.subarray(1, 18), ...v2.subarray(22)]);
  assert.deepEqual(decodeCommand(v1), { wallTimeMs: 1, sessionId: A, owner: 0, identities: [], body: { kind: "closeSession" } });
  assert.deepEqual(peekCommand(v1), { kind: "closeSession", sessionId: A, owner: 0 });
  // A format-2 image (sessions without an owner byte) restores with owner 0.
  const image = h.sm.snapshot();
  const v2Image = Uint8Array.from([...image.subarray(0, 4), 2, ...image.subarray(5)]);
  const view = new DataView(v2Image.buffer);
  // Header: magic 4, format 1, lastZxid 8, extended 1, secret (i32 length, -1 when none).
  let at = 14;
  const secretLength = view.getInt32(at);
  at += 4 + Math.max(0, secretLength);
  const sessionsAt = at + 4;
  const withoutOwner = Uint8Array.from([...v2Image.subarray(0, sessionsAt + 12), ...v2Image.subarray(sessionsAt + 13)]);
  const old = new CoordStateMachine();
  old.restore(withoutOwner);
  assert.equal(old.sessionOwner(A), 0);
  assert.equal(old.nodeCount, h.sm.nodeCount);
});
