// Goal: snapshots are compact, deterministic, streamable images that restore exactly, and a
// damaged image is refused with a typed error instead of producing a wrong tree. Method: a
// populated tree (sessions, ephemerals, containers, TTL nodes, shared and distinct ACLs, null and
// binary data) round-tripped; every truncation and a sample of byte flips of its image; chunked
// output of a larger tree compared with the one-shot image.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CoordDecodeError } from "../../src/coord/binary.js";
import { CoordOp } from "../../src/coord/commands.js";
import { CoordStateMachine } from "../../src/coord/state-machine.js";
import { Perm } from "../../src/coord/types.js";
import { SeededRandom } from "../../src/util/random.js";
import { Harness } from "./harness.js";

function populated(): Harness {
  const h = new Harness({ extendedTypesEnabled: true });
  h.session(11n, 12_000);
  h.session(22n, 30_000);
  h.create("/app", { data: "config" });
  h.create("/app/lock-", { flags: 3, sessionId: 11n });
  h.create("/app/member", { flags: 1, sessionId: 22n, data: null });
  h.create("/box", { type: CoordOp.createContainer, flags: 4 });
  h.create("/box/item", { acl: [{ perms: Perm.read, id: { scheme: "ip", id: "10.0.0.0/8" } }] });
  h.create("/ttl", { type: CoordOp.createTTL, flags: 5, ttl: 60_000n });
  h.create("/\u00e9t\u00e9", { data: "\u2603" });
  h.setData("/app", "v2");
  h.op({ type: CoordOp.setACL, path: "/app", acl: [{ perms: Perm.all, id: { scheme: "digest", id: "bob:x" } }], version: 0 });
  return h;
}

test("restore reproduces the tree, sessions and indexes; the image is byte-stable", () => {
  const h = populated();
  const image = h.sm.snapshot();
  const copy = new CoordStateMachine();
  copy.restore(image);
  assert.deepEqual(copy.snapshot(), image);
  assert.equal(copy.lastZxid, h.sm.lastZxid);
  assert.equal(copy.settings.extendedTypesEnabled, true);
  for (const path of ["/", "/app", "/app/lock-0000000000", "/app/member", "/box", "/box/item", "/ttl", "/\u00e9t\u00e9", "/zookeeper/config"]) {
    assert.deepEqual(copy.peekStat(path), h.sm.peekStat(path), path);
    assert.deepEqual(copy.getData(path, [{ scheme: "super", id: "" }]), h.sm.getData(path, [{ scheme: "super", id: "" }]), path);
    assert.deepEqual(copy.getACL(path, [{ scheme: "super", id: "" }]), h.sm.getACL(path, [{ scheme: "super", id: "" }]), path);
  }
  assert.deepEqual(copy.sessions(), h.sm.sessions());
  assert.deepEqual(copy.ephemeralsOf(11n), ["/app/lock-0000000000"]);
  assert.deepEqual(copy.getAllChildrenNumber("/", []), h.sm.getAllChildrenNumber("/", []));
  assert.deepEqual(copy.expiredNodes(h.nowMs + 120_000, { containerMaxPerBatch: 9 }), h.sm.expiredNodes(h.nowMs + 120_000, { containerMaxPerBatch: 9 }));
});

test("every truncation and a sample of byte flips are refused with CoordDecodeError or restore a consistent tree", () => {
  const image = populated().sm.snapshot();
  for (let cut = 0; cut < image.length; cut++) {
    assert.throws(() => new CoordStateMachine().restore(image.subarray(0, cut)), CoordDecodeError, `cut at ${cut}`);
  }
  const random = new SeededRandom(5);
  for (let i = 0; i < 3000; i++) {
    const damaged = Uint8Array.from(image);
    damaged[random.int(damaged.length)] ^= 1 << random.int(8);
    const sm = new CoordStateMachine();
    try {
      sm.restore(damaged);
    } catch (error) {
      assert.ok(error instanceof CoordDecodeError, `flip ${i}: ${(error as Error).name} ${(error as Error).message}`);
      continue;
    }
    // A flip in a value field (data, a zxid) can still be a well-formed image: it must be self-consistent.
    const again = new CoordStateMachine();
    again.restore(sm.snapshot());
    assert.deepEqual(again.snapshot(), sm.snapshot());
  }
});

test("images that break tree invariants are refused", () => {
  const h = new Harness();
  h.session(5n);
  h.create("/e", { flags: 1, sessionId: 5n });
  const image = h.sm.snapshot();
  // Sessions come first (header 14 bytes, the secret's length -1: 4 bytes, then the count):
  // renaming session 5 orphans the ephemeral.
  const orphaned = Uint8Array.from(image);
  assert.equal(new DataView(orphaned.buffer).getBigInt64(22), 5n);
  new DataView(orphaned.buffer).setBigInt64(22, 6n);
  assert.throws(() => new CoordStateMachine().restore(orphaned), /unknown session/);
  assert.throws(() => new CoordStateMachine().restore(Uint8Array.of(1, 2, 3, 4, 5)), /not a coordination snapshot/);
  assert.throws(() => new CoordStateMachine().restore(Uint8Array.from([...image, 0])), /trailing/);
});

test("a large tree streams in ~64 KiB chunks that concatenate to the one-shot image; size tracks content", () => {
  const sm = new CoordStateMachine();
  let slot = 1;
  const create = (path: string): void => {
    const result = sm.applyCommand(
      { wallTimeMs: 1, sessionId: 0n, identities: [], body: { kind: "op", op: { type: CoordOp.create, path, data: new Uint8Array(16), acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }], flags: 0, ttl: -1n } } },
      { slot: slot++, index: 0 },
    );
    assert.equal(result.err, 0);
  };
  for (let i = 0; i < 40; i++) {
    create(`/d${i}`);
    for (let j = 0; j < 100; j++) create(`/d${i}/n${j}`);
  }
  const chunks = [...sm.snapshotChunks()];
  assert.ok(chunks.length > 3, `${chunks.length} chunks`);
  assert.ok(chunks.slice(0, -1).every((c) => c.length >= 64 * 1024 && c.length < 70 * 1024));
  const joined = Buffer.concat(chunks);
  assert.deepEqual(Uint8Array.from(joined), sm.snapshot());
  // 4,044 nodes, one shared ACL: about 80 bytes of fixed fields + name + 16 data bytes per node.
  const perNode = joined.length / sm.nodeCount;
  assert.ok(perNode > 90 && perNode < 110, `${perNode.toFixed(1)} bytes per node`);
});
