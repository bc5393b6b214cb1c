// Goal: every write op returns exactly the error code ZooKeeper 3.8 returns, with its checks in
// PrepRequestProcessor's order, and successful ops change the tree and the Stat as DataTree does.
// Method: a table of (setup, op, expected code) cases run on fresh state machines through the
// command codec, then focused tests for Stat bookkeeping, sequential names (including the int32
// wrap), the initial tree, zxids and malformed commands.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CoordOp } from "../../src/coord/commands.js";
import { CoordError } from "../../src/coord/errors.js";
import { DataTree } from "../../src/coord/tree.js";
import { writeSnapshot } from "../../src/coord/snapshot.js";
import { CoordStateMachine } from "../../src/coord/state-machine.js";
import { Perm, type Acl } from "../../src/coord/types.js";
import { Harness, IP_LOCAL, WORLD, nextZxid } from "./harness.js";

const E = CoordError;
const READ_ONLY: Acl[] = [{ perms: Perm.read, id: { scheme: "world", id: "anyone" } }];
const ALL_BUT = (perm: number): Acl[] => [{ perms: Perm.all & ~perm, id: { scheme: "world", id: "anyone" } }];
const S1 = 0x0100000000000001n;

interface Case {
  name: string;
  extended?: boolean;
  setup?: (h: Harness) => void;
  run: (h: Harness) => { err: number };
  err: number;
}

const CASES: Case[] = [
  // create: order of checks as in pRequest2TxnCreate
  { name: "create ok", run: (h) => h.create("/a"), err: 0 },
  { name: "create: flags outside 0..6", run: (h) => h.create("/a", { flags: 7 }), err: E.badArguments },
  { name: "create: negative flags", run: (h) => h.create("/a", { flags: -1 }), err: E.badArguments },
  { name: "create: TTL flags while extended types are off", run: (h) => h.create("/a", { flags: 5 }), err: E.unimplemented },
  { name: "createTTL while extended types are off", run: (h) => h.create("/a", { type: 21, flags: 5, ttl: 1000n }), err: E.unimplemented },
  { name: "createTTL: ttl 0", extended: true, run: (h) => h.create("/a", { type: 21, flags: 5, ttl: 0n }), err: E.badArguments },
  { name: "createTTL: ttl 2^40", extended: true, run: (h) => h.create("/a", { type: 21, flags: 5, ttl: 1n << 40n }), err: E.badArguments },
  { name: "createTTL: ttl 2^40-1", extended: true, run: (h) => h.create("/a", { type: 21, flags: 5, ttl: (1n << 40n) - 1n }), err: 0 },
  { name: "create with TTL flags carries no ttl", extended: true, run: (h) => h.create("/a", { flags: 6 }), err: E.badArguments },
  { name: "createTTL with non-TTL flags", extended: true, run: (h) => h.create("/a", { type: 21, flags: 0, ttl: 5n }), err: E.badArguments },
  { name: "createContainer with non-container flags", run: (h) => h.create("/a", { type: 19, flags: 0 }), err: E.badArguments },
  { name: "createContainer ok (no extended types needed)", run: (h) => h.create("/a", { type: 19, flags: 4 }), err: 0 },
  { name: "create by a closed session", run: (h) => h.create("/a", { sessionId: S1 }), err: E.sessionExpired },
  { name: "ephemeral without a session", run: (h) => h.create("/a", { flags: 1 }), err: E.badArguments },
  { name: "create: relative path", run: (h) => h.create("a"), err: E.badArguments },
  { name: "create: empty path", run: (h) => h.create(""), err: E.badArguments },
  { name: "create: null character", run: (h) => h.create("/a\u0000b"), err: E.badArguments },
  { name: "create: empty ACL", run: (h) => h.create("/a", { acl: [] }), err: E.invalidACL },
  { name: "create: world:someone", run: (h) => h.create("/a", { acl: [{ perms: 31, id: { scheme: "world", id: "someone" } }] }), err: E.invalidACL },
  { name: "create: unknown scheme", run: (h) => h.create("/a", { acl: [{ perms: 31, id: { scheme: "sasl", id: "x" } }] }), err: E.invalidACL },
  { name: "create: digest id without a colon", run: (h) => h.create("/a", { acl: [{ perms: 31, id: { scheme: "digest", id: "bob" } }] }), err: E.invalidACL },
  { name: "create: ip id not an address", run: (h) => h.create("/a", { acl: [{ perms: 31, id: { scheme: "ip", id: "300.1.1.1" } }] }), err: E.invalidACL },
  { name: "create: ip prefix beyond 32 bits", run: (h) => h.create("/a", { acl: [{ perms: 31, id: { scheme: "ip", id: "10.0.0.0/33" } }] }), err: E.invalidACL },
  { name: "create: IPv6 ip ACL (3.8 supports IPv4 only)", run: (h) => h.create("/a", { acl: [{ perms: 31, id: { scheme: "ip", id: "::1" } }] }), err: E.invalidACL },
  { name: "create: auth ACL without digest identities", run: (h) => h.create("/a", { acl: [{ perms: 31, id: { scheme: "auth", id: "" } }] }), err: E.invalidACL },
  { name: "create: parent missing", run: (h) => h.create("/a/b"), err: E.noNode },
  { name: "create: trailing slash, parent missing", run: (h) => h.create("/a/"), err: E.noNode },
  { name: "create: trailing slash, parent present", setup: (h) => h.create("/a"), run: (h) => h.create("/a/"), err: E.badArguments },
  { name: "create: empty segment after the root", run: (h) => h.create("//a"), err: E.badArguments },
  { name: "create: empty segment deeper (parent lookup fails first)", setup: (h) => h.create("/a"), run: (h) => h.create("/a//b"), err: E.noNode },
  { name: "create: '.' segment", setup: (h) => h.create("/a"), run: (h) => h.create("/a/."), err: E.badArguments },
  { name: "create: '..' segment", setup: (h) => h.create("/a"), run: (h) => h.create("/a/.."), err: E.badArguments },
  { name: "create: no CREATE on the parent", setup: (h) => h.create("/p", { acl: ALL_BUT(Perm.create) }), run: (h) => h.create("/p/c"), err: E.noAuth },
  { name: "create: the root", run: (h) => h.create("/"), err: E.nodeExists },
  { name: "create: exists", setup: (h) => h.create("/a"), run: (h) => h.create("/a"), err: E.nodeExists },
  {
    name: "create: under an ephemeral",
    setup: (h) => {
      h.session(S1);
      h.create("/e", { flags: 1, sessionId: S1 });
    },
    run: (h) => h.create("/e/c", { sessionId: S1 }),
    err: E.noChildrenForEphemerals,
  },
  { name: "create: under a container (allowed)", setup: (h) => h.create("/c", { type: 19, flags: 4 }), run: (h) => h.create("/c/x"), err: 0 },
  { name: "create under /zookeeper (not protected, as in ZooKeeper)", run: (h) => h.create("/zookeeper/x"), err: 0 },
  { name: "create under /zookeeper/config (read-only ACL)", run: (h) => h.create("/zookeeper/config/x"), err: E.noAuth },
  // delete: order of checks as in pRequest2Txn(delete)
  { name: "delete ok", setup: (h) => h.create("/a"), run: (h) => h.delete("/a"), err: 0 },
  { name: "delete by a closed session", setup: (h) => h.create("/a"), run: (h) => h.delete("/a", -1, { sessionId: S1 }), err: E.sessionExpired },
  { name: "delete: relative path", run: (h) => h.delete("a"), err: E.badArguments },
  { name: "delete: the root", run: (h) => h.delete("/"), err: E.badArguments },
  { name: "delete: /zookeeper", run: (h) => h.delete("/zookeeper"), err: E.badArguments },
  { name: "delete: /zookeeper/quota", run: (h) => h.delete("/zookeeper/quota"), err: E.badArguments },
  { name: "delete: /zookeeper/config", run: (h) => h.delete("/zookeeper/config"), err: E.badArguments },
  { name: "delete: null character", run: (h) => h.delete("/a\u0000"), err: E.badArguments },
  { name: "delete: parent missing", run: (h) => h.delete("/x/y"), err: E.noNode },
  { name: "delete: no DELETE on the parent", setup: (h) => (h.create("/p", { acl: ALL_BUT(Perm.delete) }), h.create("/p/c")), run: (h) => h.delete("/p/c"), err: E.noAuth },
  { name: "delete: node missing", run: (h) => h.delete("/a"), err: E.noNode },
  { name: "delete: version mismatch", setup: (h) => h.create("/a"), run: (h) => h.delete("/a", 3), err: E.badVersion },
  { name: "delete: matching version", setup: (h) => (h.create("/a"), h.setData("/a", "x")), run: (h) => h.delete("/a", 1), err: 0 },
  { name: "delete: has children", setup: (h) => (h.create("/a"), h.create("/a/b")), run: (h) => h.delete("/a"), err: E.notEmpty },
  // setData
  { name: "setData ok", setup: (h) => h.create("/a"), run: (h) => h.setData("/a", "x"), err: 0 },
  { name: "setData by a closed session", setup: (h) => h.create("/a"), run: (h) => h.setData("/a", "x", -1, { sessionId: S1 }), err: E.sessionExpired },
  { name: "setData: invalid path", run: (h) => h.setData("/a/", "x"), err: E.badArguments },
  { name: "setData: node missing", run: (h) => h.setData("/a", "x"), err: E.noNode },
  { name: "setData: no WRITE", setup: (h) => h.create("/a", { acl: READ_ONLY }), run: (h) => h.setData("/a", "x"), err: E.noAuth },
  { name: "setData: version mismatch", setup: (h) => h.create("/a"), run: (h) => h.setData("/a", "x", 1), err: E.badVersion },
  { name: "setData: /zookeeper/config is read-only", run: (h) => h.setData("/zookeeper/config", "x"), err: E.noAuth },
  // setACL
  { name: "setACL ok", setup: (h) => h.create("/a"), run: (h) => h.op({ type: CoordOp.setACL, path: "/a", acl: READ_ONLY, version: 0 }), err: 0 },
  { name: "setACL: invalid path", run: (h) => h.op({ type: CoordOp.setACL, path: "a", acl: WORLD, version: -1 }), err: E.badArguments },
  { name: "setACL: invalid ACL", setup: (h) => h.create("/a"), run: (h) => h.op({ type: CoordOp.setACL, path: "/a", acl: [], version: -1 }), err: E.invalidACL },
  { name: "setACL: invalid ACL on a missing node (ACL checked first)", run: (h) => h.op({ type: CoordOp.setACL, path: "/a", acl: [], version: -1 }), err: E.invalidACL },
  { name: "setACL: node missing", run: (h) => h.op({ type: CoordOp.setACL, path: "/a", acl: WORLD, version: -1 }), err: E.noNode },
  { name: "setACL: no ADMIN", setup: (h) => h.create("/a", { acl: ALL_BUT(Perm.admin) }), run: (h) => h.op({ type: CoordOp.setACL, path: "/a", acl: WORLD, version: -1 }), err: E.noAuth },
  { name: "setACL: aversion mismatch", setup: (h) => h.create("/a"), run: (h) => h.op({ type: CoordOp.setACL, path: "/a", acl: WORLD, version: 1 }), err: E.badVersion },
  // check (stand-alone; inside multi in multi.test.ts)
  { name: "check ok", setup: (h) => h.create("/a"), run: (h) => h.op({ type: CoordOp.check, path: "/a", version: 0 }), err: 0 },
  { name: "check: invalid path", run: (h) => h.op({ type: CoordOp.check, path: "/a/", version: 0 }), err: E.badArguments },
  { name: "check: node missing", run: (h) => h.op({ type: CoordOp.check, path: "/a", version: 0 }), err: E.noNode },
  { name: "check: no READ", setup: (h) => h.create("/a", { acl: ALL_BUT(Perm.read) }), run: (h) => h.op({ type: CoordOp.check, path: "/a", version: 0 }), err: E.noAuth },
  { name: "check: version mismatch", setup: (h) => h.create("/a"), run: (h) => h.op({ type: CoordOp.check, path: "/a", version: 2 }), err: E.badVersion },
];

test("write ops: error codes and check order (table)", () => {
  for (const c of CASES) {
    const h = new Harness({ extendedTypesEnabled: c.extended ?? false });
    c.setup?.(h);
    assert.equal(c.run(h).err, c.err, c.name);
  }
});

const BAD_CHARACTERS = ["\u0001", "\u001f", "\u007f", "\u0080", "\u009f", "\ud800", "\udfff", "\ue000", "\uf8ff", "\ufff0", "\uffff"];

test("path validation: every banned character range is BadArguments; neighbours are fine", () => {
  for (const c of BAD_CHARACTERS) {
    const h = new Harness();
    assert.equal(h.create(`/a${c}b`).err, E.badArguments, `U+${c.charCodeAt(0).toString(16)}`);
    assert.equal(h.setData(`/a${c}`, "x").err, E.badArguments);
  }
  for (const c of [" ", "~", "\u00a0", "\u00ff", "\u4e2d", "\uf900", "\uffef"]) {
    assert.equal(new Harness().create(`/a${c}b`).err, 0, `U+${c.charCodeAt(0).toString(16)}`);
  }
});

test("the initial tree: /zookeeper, /zookeeper/quota, /zookeeper/config (read-only, aversion -1)", () => {
  const h = new Harness();
  assert.deepEqual(h.children("/"), ["zookeeper"]);
  assert.deepEqual(h.children("/zookeeper"), ["config", "quota"]);
  const config = h.sm.getACL("/zookeeper/config", [IP_LOCAL]);
  assert.ok(config.ok);
  assert.deepEqual(config.value.acl, READ_ONLY);
  assert.equal(config.value.stat.aversion, -1);
  assert.equal(h.sm.peekStat("/")!.numChildren, 1);
  assert.equal(h.sm.lastZxid, 0n);
});

test("create sets the Stat from the zxid and the stamped time, and bumps the parent's cversion and pzxid", () => {
  const h = new Harness();
  h.create("/p");
  const zxid = nextZxid(h);
  const created = h.create("/p/c", { type: CoordOp.create2, data: "hello" });
  assert.equal(created.err, 0);
  assert.equal(created.zxid, zxid);
  assert.deepEqual(created.op, {
    type: CoordOp.create2,
    path: "/p/c",
    stat: { czxid: zxid, mzxid: zxid, pzxid: zxid, ctime: BigInt(h.nowMs), mtime: BigInt(h.nowMs), version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, dataLength: 5, numChildren: 0 },
  });
  const parent = h.sm.peekStat("/p")!;
  assert.equal(parent.cversion, 1);
  assert.equal(parent.pzxid, zxid);
  assert.equal(parent.numChildren, 1);
  assert.equal(h.create("/q").op?.type, CoordOp.create, "plain create answers with the path only");
});

test("delete sets the parent's pzxid only, yet the visible cversion moves (cversion·2 − numChildren, as DataNode.copyStat)", () => {
  const h = new Harness();
  h.create("/p");
  h.create("/p/a");
  assert.equal(h.sm.peekStat("/p")!.cversion, 1);
  const zxid = nextZxid(h);
  h.delete("/p/a");
  const parent = h.sm.peekStat("/p")!;
  assert.equal(parent.pzxid, zxid);
  assert.equal(parent.numChildren, 0);
  assert.equal(parent.cversion, 2, "one create and one delete: two changes");
  h.create("/p/b");
  assert.equal(h.sm.peekStat("/p")!.cversion, 3);
});

test("setData bumps version, mzxid and mtime; setACL bumps aversion only", () => {
  const h = new Harness();
  h.create("/a");
  h.nowMs += 5000;
  const zxid = nextZxid(h);
  const set = h.setData("/a", "xyz", 0);
  assert.ok(set.op && set.op.type === CoordOp.setData);
  assert.equal(set.op.stat.version, 1);
  assert.equal(set.op.stat.mzxid, zxid);
  assert.equal(set.op.stat.mtime, BigInt(h.nowMs));
  assert.equal(set.op.stat.dataLength, 3);
  const acl = h.op({ type: CoordOp.setACL, path: "/a", acl: READ_ONLY, version: 0 });
  assert.ok(acl.op && acl.op.type === CoordOp.setACL);
  assert.equal(acl.op.stat.aversion, 1);
  assert.equal(acl.op.stat.version, 1);
  assert.equal(acl.op.stat.mzxid, zxid);
});

test("null data is kept as null (dataLength 0), distinct from empty data", () => {
  const h = new Harness();
  h.create("/n", { data: null });
  h.create("/e", { data: "" });
  assert.equal(h.data("/n"), null);
  assert.equal(h.data("/e"), "");
  assert.equal(h.sm.peekStat("/n")!.dataLength, 0);
});

test("sequential names: %010d of the parent's create count; non-sequential creates advance it too", () => {
  const h = new Harness();
  h.create("/q");
  assert.deepEqual(h.create("/q/n-", { flags: 2 }).op, { type: CoordOp.create, path: "/q/n-0000000000" });
  assert.deepEqual(h.children("/q"), ["n-0000000000"]);
  h.create("/q/plain");
  h.delete("/q/plain");
  const third = h.create("/q/n-", { flags: 2 });
  assert.deepEqual(third.op, { type: CoordOp.create, path: "/q/n-0000000002" });
  assert.deepEqual(h.create("/q/", { flags: 2 }).op, { type: CoordOp.create, path: "/q/0000000003" }, "a trailing slash plus a sequence is a valid name");
});

function withRootCversion(cversion: number): CoordStateMachine {
  const tree = DataTree.initial();
  tree.nodes.get("/")!.cversion = cversion;
  const bytes = Buffer.concat([...writeSnapshot(tree, { lastZxid: 0n, extendedTypesEnabled: false, sessionSecret: null })]);
  const sm = new CoordStateMachine();
  sm.restore(bytes);
  return sm;
}

test("sequential names wrap with the int32 counter: 2147483647, then -2147483648, -2147483647", () => {
  const sm = withRootCversion(2147483647);
  const names: string[] = [];
  for (let i = 0; i < 3; i++) {
    const result = sm.applyCommand(
      { wallTimeMs: 1, sessionId: 0n, identities: [], body: { kind: "op", op: { type: CoordOp.create, path: "/s", data: null, acl: WORLD, flags: 2, ttl: -1n } } },
      { slot: i + 1, index: 0 },
    );
    assert.ok(result.op && result.op.type === CoordOp.create, `create ${i}: err ${result.err}`);
    names.push(result.op.path);
  }
  assert.deepEqual(names, ["/s2147483647", "/s-2147483648", "/s-2147483647"]);
  // Negative names keep %010d's width with the sign: -5 would be "-000000005".
  const five = withRootCversion(-5).applyCommand(
    { wallTimeMs: 1, sessionId: 0n, identities: [], body: { kind: "op", op: { type: CoordOp.create, path: "/s", data: null, acl: WORLD, flags: 2, ttl: -1n } } },
    { slot: 1, index: 0 },
  );
  assert.deepEqual(five.op, { type: CoordOp.create, path: "/s-000000005" });
});

test("zxid = slot·2^20 + index; every command takes one, failures included; positions must increase", () => {
  const h = new Harness();
  const sm = h.sm;
  const cmd = h.command({ kind: "op", op: { type: CoordOp.create, path: "/a", data: null, acl: WORLD, flags: 0, ttl: -1n } });
  const first = sm.applyCommand(cmd, { slot: 5, index: 3 });
  assert.equal(first.zxid, 5n * 2n ** 20n + 3n);
  const failed = sm.applyCommand(cmd, { slot: 5, index: 4 });
  assert.equal(failed.err, E.nodeExists);
  assert.equal(sm.lastZxid, 5n * 2n ** 20n + 4n);
  assert.throws(() => sm.applyCommand(cmd, { slot: 5, index: 4 }), /log positions must increase/);
  assert.throws(() => sm.applyCommand(cmd, { slot: 6, index: 2 ** 20 }), /index/);
  assert.throws(() => sm.applyCommand(cmd, { slot: 2 ** 43, index: 0 }), /slot/);
  const big = sm.applyCommand(h.command({ kind: "sync" }), { slot: 2 ** 43 - 1, index: 2 ** 20 - 1 });
  assert.equal(big.zxid, 2n ** 63n - 1n, "the largest zxid is the largest positive int64");
});

test("a malformed command fails with MarshallingError on every replica, consuming its zxid", () => {
  const h = new Harness();
  const result = h.sm.apply(Uint8Array.of(1, 99, 0, 0), { slot: 1, index: 0 });
  assert.equal(result.err, E.marshallingError);
  assert.equal(h.sm.lastZxid, 1n << 20n);
  assert.equal(h.sm.nodeCount, 4);
});

test("reads: NoNode and NoAuth as FinalRequestProcessor, exists rejects a null character", () => {
  const h = new Harness();
  h.create("/secret", { acl: [{ perms: Perm.admin, id: { scheme: "world", id: "anyone" } }] });
  h.create("/open", { data: "v" });
  assert.deepEqual(h.sm.getData("/missing", [IP_LOCAL]), { ok: false, err: E.noNode });
  assert.deepEqual(h.sm.getData("/secret", [IP_LOCAL]), { ok: false, err: E.noAuth });
  assert.deepEqual(h.sm.exists("/secret", [IP_LOCAL]), { ok: false, err: E.noAuth });
  assert.deepEqual(h.sm.exists("/a\u0000", [IP_LOCAL]), { ok: false, err: E.badArguments });
  assert.deepEqual(h.sm.exists("/open/", [IP_LOCAL]), { ok: false, err: E.noNode }, "invalid read paths are simply absent");
  assert.deepEqual(h.sm.getChildren("/secret", [IP_LOCAL]), { ok: false, err: E.noAuth });
  assert.equal(h.sm.getACL("/secret", [IP_LOCAL]).ok, true, "getACL needs READ or ADMIN");
  assert.deepEqual(h.sm.getAllChildrenNumber("/secret", [IP_LOCAL]), { ok: false, err: E.noAuth });
});

test("getChildren is sorted by UTF-16 code unit; getAllChildrenNumber counts all descendants", () => {
  const h = new Harness();
  h.create("/d");
  for (const name of ["b", "a", "C", "\u00e9", "a0", "A"]) h.create(`/d/${name}`);
  h.create("/d/a/x");
  h.create("/d/a/x/y");
  assert.deepEqual(h.children("/d"), ["A", "C", "a", "a0", "b", "\u00e9"]);
  assert.deepEqual(h.sm.getAllChildrenNumber("/d", [IP_LOCAL]), { ok: true, value: 8 });
  assert.deepEqual(h.sm.getAllChildrenNumber("/", [IP_LOCAL]), { ok: true, value: 3 + 9 }, "root: every node but itself");
  h.delete("/d/a/x/y");
  assert.deepEqual(h.sm.getAllChildrenNumber("/d", [IP_LOCAL]), { ok: true, value: 7 });
});

test("multiRead answers each op on its own", () => {
  const h = new Harness();
  h.create("/a", { data: "1" });
  const results = h.sm.multiRead(
    [
      { type: 4, path: "/a" },
      { type: 8, path: "/" },
      { type: 4, path: "/missing" },
    ],
    [IP_LOCAL],
  );
  assert.equal(results[0].type, 4);
  assert.deepEqual(results[1], { type: 8, children: ["a", "zookeeper"] });
  assert.deepEqual(results[2], { type: -1, err: E.noNode });
});
