// Goal: ACLs behave as ZooKeeper's providers: world, auth (expanded to the creator's digest
// ids), digest (string comparison of "user:base64(sha1)"), ip with prefix lengths (IPv4 only),
// and the super identity that bypasses everything. Method: the matcher on an address table, then
// the state machine with callers carrying different identities.
import { test } from "node:test";
import assert from "node:assert/strict";
import { aclPermits, fixupAcl, ipMatches, isValidAclId } from "../../src/coord/acl.js";
import { CoordOp } from "../../src/coord/commands.js";
import { CoordError } from "../../src/coord/errors.js";
import { Perm, type Acl, type Identity } from "../../src/coord/types.js";
import { Harness } from "./harness.js";

const ip = (address: string): Identity => ({ scheme: "ip", id: address });
const BOB: Identity = { scheme: "digest", id: "bob:Xk1MWaYFMrkOG0Z0tWsXCr8ULyA=" };
const EVE: Identity = { scheme: "digest", id: "eve:w7u5mWvGpNdxJhy1UBZXF9mHwRw=" };
const SUPER: Identity = { scheme: "super", id: "" };

test("ip ACLs: address with optional prefix length, matched on the masked bits", () => {
  const table: Array<[string, string, boolean]> = [
    ["10.1.2.3", "10.0.0.0/8", true],
    ["11.1.2.3", "10.0.0.0/8", false],
    ["10.1.2.3", "10.1.2.3", true],
    ["10.1.2.4", "10.1.2.3", false],
    ["10.1.2.4", "10.1.2.3/29", true],
    ["10.1.2.4", "10.1.2.3/30", false],
    ["10.1.2.8", "10.1.2.3/29", false],
    ["192.168.77.1", "192.168.64.0/19", true],
    ["192.168.96.1", "192.168.64.0/19", false],
    ["8.8.8.8", "0.0.0.0/0", true],
    ["::ffff:10.1.2.3", "10.0.0.0/8", true],
    ["::1", "10.0.0.0/8", false],
    ["10.1.2.3", "10.0.0.0/40", false],
    ["10.1.2.3", "bogus", false],
    ["not-an-ip", "0.0.0.0/0", false],
  ];
  for (const [client, expression, expected] of table) assert.equal(ipMatches(client, expression), expected, `${client} ~ ${expression}`);
  assert.equal(isValidAclId({ scheme: "ip", id: "10.0.0.0/8" }), true);
  assert.equal(isValidAclId({ scheme: "ip", id: "10.0.0/8" }), false);
});

test("checkACL: any entry with one of the permission bits and a matching identity; super bypasses; an empty ACL allows", () => {
  const acl: Acl[] = [
    { perms: Perm.read, id: { scheme: "world", id: "anyone" } },
    { perms: Perm.write | Perm.delete, id: BOB },
    { perms: Perm.admin, id: { scheme: "ip", id: "10.0.0.0/8" } },
  ];
  assert.equal(aclPermits(acl, Perm.read, []), true);
  assert.equal(aclPermits(acl, Perm.write, [ip("127.0.0.1")]), false);
  assert.equal(aclPermits(acl, Perm.write, [ip("127.0.0.1"), BOB]), true);
  assert.equal(aclPermits(acl, Perm.write, [EVE]), false);
  assert.equal(aclPermits(acl, Perm.admin, [ip("10.9.9.9")]), true);
  assert.equal(aclPermits(acl, Perm.create, [ip("10.9.9.9"), BOB]), false);
  assert.equal(aclPermits(acl, Perm.create, [SUPER]), true);
  assert.equal(aclPermits([], Perm.admin, []), true);
  assert.equal(aclPermits(acl, Perm.read | Perm.admin, [ip("1.1.1.1")]), true, "either bit of READ|ADMIN suffices");
});

test("fixupACL: auth expands to the caller's digest ids (not ip, not super); duplicates dropped", () => {
  const auth: Acl = { perms: Perm.all, id: { scheme: "auth", id: "" } };
  assert.deepEqual(fixupAcl([auth], [ip("1.2.3.4"), BOB, SUPER, EVE]), [
    { perms: Perm.all, id: BOB },
    { perms: Perm.all, id: EVE },
  ]);
  assert.equal(fixupAcl([auth], [ip("1.2.3.4"), SUPER]), CoordError.invalidACL);
  const world: Acl = { perms: Perm.all, id: { scheme: "world", id: "anyone" } };
  assert.deepEqual(fixupAcl([world, world], []), [world]);
  assert.equal(fixupAcl([{ perms: 1, id: { scheme: "super", id: "" } }], [SUPER]), CoordError.invalidACL, "super is not an ACL scheme");
  // Digest ids are split as Java's String.split(":") does (trailing empty parts dropped).
  assert.equal(isValidAclId({ scheme: "digest", id: "a:b:" }), true);
  assert.equal(isValidAclId({ scheme: "digest", id: ":b" }), true);
  assert.equal(isValidAclId({ scheme: "digest", id: "a::b" }), false);
  assert.equal(isValidAclId({ scheme: "digest", id: ":" }), false);
});

test("ACLs in the state machine: the creator's auth ACL protects the node; super does anything", () => {
  const h = new Harness();
  const bob = { identities: [ip("127.0.0.1"), BOB] };
  const eve = { identities: [ip("127.0.0.1"), EVE] };
  const root = { identities: [ip("127.0.0.1"), SUPER] };
  assert.equal(h.create("/bob", { acl: [{ perms: Perm.all, id: { scheme: "auth", id: "" } }], ...bob }).err, 0);
  const acl = h.sm.getACL("/bob", bob.identities);
  assert.ok(acl.ok);
  assert.deepEqual(acl.value.acl, [{ perms: Perm.all, id: BOB }]);
  assert.equal(h.setData("/bob", "x", -1, eve).err, CoordError.noAuth);
  assert.equal(h.create("/bob/kid", eve).err, CoordError.noAuth);
  assert.equal(h.setData("/bob", "x", -1, bob).err, 0);
  assert.equal(h.setData("/bob", "y", -1, root).err, 0);
  assert.equal(h.create("/bob/kid", root).err, 0);
  assert.equal(h.delete("/bob/kid", -1, root).err, 0);
  assert.deepEqual(h.sm.getData("/bob", eve.identities), { ok: false, err: CoordError.noAuth });
  assert.equal(h.sm.getData("/bob", root.identities).ok, true);
  assert.equal(h.op({ type: CoordOp.setACL, path: "/bob", acl: [{ perms: Perm.read, id: { scheme: "world", id: "anyone" } }], version: 0 }, eve).err, CoordError.noAuth);
  assert.equal(h.op({ type: CoordOp.setACL, path: "/bob", acl: [{ perms: Perm.read, id: { scheme: "world", id: "anyone" } }], version: 0 }, root).err, 0);
  assert.equal(h.sm.getData("/bob", eve.identities).ok, true);
});

test("getACL without ADMIN masks digest ids to user:x; with ADMIN shows them", () => {
  const h = new Harness();
  h.create("/n", {
    acl: [
      { perms: Perm.read, id: { scheme: "world", id: "anyone" } },
      { perms: Perm.admin, id: BOB },
    ],
  });
  const anon = h.sm.getACL("/n", [ip("127.0.0.1")]);
  assert.ok(anon.ok);
  assert.deepEqual(anon.value.acl[1], { perms: Perm.admin, id: { scheme: "digest", id: "bob:x" } });
  const admin = h.sm.getACL("/n", [BOB]);
  assert.ok(admin.ok);
  assert.deepEqual(admin.value.acl[1], { perms: Perm.admin, id: BOB });
});

test("ip ACLs use the address in the command: the same request from another address is refused", () => {
  const h = new Harness();
  h.create("/lan", { acl: [{ perms: Perm.all, id: { scheme: "ip", id: "192.168.0.0/16" } }] });
  assert.equal(h.setData("/lan", "x", -1, { identities: [ip("192.168.3.4")] }).err, 0);
  assert.equal(h.setData("/lan", "x", -1, { identities: [ip("10.0.0.1")] }).err, CoordError.noAuth);
});
