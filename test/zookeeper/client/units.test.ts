// Goal: the client's and the recipes' pure pieces are right on their own — path validation as
// ZooKeeper's PathUtils, connect strings and chroot mapping, which listeners a server event wakes
// (one-shot vs persistent vs recursive), the FIFO deque, and the ordering of sequential names
// (a regression: a GUID's trailing dash once made every sequence negative and reversed the lock
// queue). Method: table tests, plus fast-check properties with a fixed, printed seed.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { BadArgumentsError } from "../../../src/zookeeper/client/errors.js";
import { parseConnectString, toClientPath, toServerPath, validatePath } from "../../../src/zookeeper/client/paths.js";
import { WatchRegistry, type Watcher } from "../../../src/zookeeper/client/watches.js";
import { Deque } from "../../../src/util/deque.js";
import { sequenceOf, sortBySequence } from "../../../src/recipes/common.js";

const SEED = 20261124;

test("validatePath accepts what ZooKeeper accepts and rejects the rest with BadArguments", () => {
  for (const good of ["/", "/a", "/a/b-c_d.e", "/zookeeper/quota", "/ünïcode", "/a/..b", "/a/.b"]) validatePath(good);
  validatePath("/seq/", true);
  for (const bad of ["", "a", "/a/", "//", "/a//b", "/a/.", "/a/..", "/./a", "/a\u0000b", "/a\u001fb", "/a\u007fb", "/a\ud800b", "/a\ufff5b"]) {
    assert.throws(() => validatePath(bad), BadArgumentsError, JSON.stringify(bad));
  }
});

test("parseConnectString: hosts, default port, IPv6, chroot", () => {
  assert.deepEqual(parseConnectString("h1:1,h2:2/app/x"), { servers: [{ host: "h1", port: 1 }, { host: "h2", port: 2 }], chroot: "/app/x" });
  assert.deepEqual(parseConnectString("h1"), { servers: [{ host: "h1", port: 2181 }], chroot: "" });
  assert.deepEqual(parseConnectString("[::1]:2182,127.0.0.1:2183/"), { servers: [{ host: "::1", port: 2182 }, { host: "127.0.0.1", port: 2183 }], chroot: "" });
  for (const bad of ["", "/chroot", "h:0", "h:70000", "h:x", "[::1"]) assert.throws(() => parseConnectString(bad), (e: unknown) => e instanceof Error, bad);
  assert.throws(() => parseConnectString("h:1/bad/"), BadArgumentsError);
});

test("chroot mapping round-trips client paths", () => {
  fc.assert(
    fc.property(fc.array(fc.stringMatching(/^[a-z0-9]{1,6}$/), { maxLength: 4 }), fc.array(fc.stringMatching(/^[a-z0-9]{1,6}$/), { maxLength: 4 }), (root, rest) => {
      const chroot = root.length === 0 ? "" : `/${root.join("/")}`;
      const path = `/${rest.join("/")}`;
      assert.equal(toClientPath(chroot, toServerPath(chroot, path)), path);
    }),
    { seed: SEED, numRuns: 200 },
  );
});

test("WatchRegistry: one-shot watches fire once, persistent stay, recursive see descendants but no ChildrenChanged", () => {
  const registry = new WatchRegistry();
  const calls: string[] = [];
  const w = (name: string): Watcher => () => calls.push(name);
  const data = w("data");
  const child = w("child");
  const persistent = w("persistent");
  const recursive = w("recursive");
  registry.add("data", "/a", data);
  registry.add("data", "/a", data);
  registry.add("child", "/a", child);
  registry.add("persistent", "/a", persistent);
  registry.add("persistentRecursive", "/", recursive);
  assert.deepEqual([...registry.materialize("nodeDataChanged", "/a")].length, 3);
  assert.deepEqual([...registry.materialize("nodeDataChanged", "/a")].length, 2, "the data watch was one-shot");
  assert.equal([...registry.materialize("nodeChildrenChanged", "/a")].includes(recursive), false);
  assert.equal([...registry.materialize("nodeCreated", "/a/b/c")].includes(recursive), true, "recursive watches see descendants");
  assert.deepEqual(registry.paths("child"), [], "the child watch fired on ChildrenChanged and is gone");
  assert.equal(registry.all(true).size, 2);
  assert.ok(registry.isEmpty);
});

test("Deque: FIFO order across compaction, remove and drain", () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.constant("shift"), fc.integer({ min: 0, max: 1000 })), { maxLength: 3000 }), (script) => {
      const deque = new Deque<number>();
      const model: number[] = [];
      for (const step of script) {
        if (step === "shift") assert.equal(deque.shift(), model.shift());
        else {
          deque.push(step);
          model.push(step);
        }
        assert.equal(deque.length, model.length);
      }
      assert.deepEqual(deque.drain(), model);
    }),
    { seed: SEED, numRuns: 50 },
  );
});

test("sequential names sort by their 10-character suffix, whatever the prefix (GUIDs end in a dash)", (t) => {
  t.diagnostic(`fast-check seed ${SEED}`);
  assert.equal(sequenceOf("lock-6f1c2e0a-1b2c-4d3e-8f90-0123456789ab-0000000012"), 12);
  assert.equal(sequenceOf("x-2147483647"), 2147483647);
  assert.equal(sequenceOf("x--000000005"), -5);
  assert.ok(Number.isNaN(sequenceOf("short")));
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.uuid(), fc.integer({ min: 0, max: 2_000_000_000 })), { minLength: 1, maxLength: 30 }), (entries) => {
      const names = entries.map(([guid, seq]) => `lock-${guid}-${String(seq).padStart(10, "0")}`);
      const sorted = sortBySequence(names).map(sequenceOf);
      assert.deepEqual(sorted, entries.map(([, seq]) => seq).sort((a, b) => a - b));
    }),
    { seed: SEED, numRuns: 200 },
  );
});
