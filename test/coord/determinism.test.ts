// Goal: the coordination state machine is a deterministic function of its log, and its snapshot
// is a faithful image. Method (fast-check, fixed seed printed): (1) the same random command
// sequence applied to two fresh replicas gives equal results and byte-equal snapshots; (2) a
// replica restored from a snapshot taken mid-way and fed the rest ends byte-equal to one that ran
// straight through, with equal results for the rest; (3) a differential test against a dumb
// reference model of the tree (create/delete/setData/getChildren). The checkers are shown to
// catch a planted nondeterminism and a planted model difference.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { CoordOp, encodeCommand } from "../../src/coord/commands.js";
import { CoordError } from "../../src/coord/errors.js";
import { sequenceSuffix } from "../../src/coord/path.js";
import { CoordStateMachine, type CoordApplyResult } from "../../src/coord/state-machine.js";
import { OPEN_ACL_UNSAFE } from "../../src/coord/types.js";
import { positioned, stepsArbitrary, type Step } from "./generators.js";

const SEED = 424242;
const SUPER = { scheme: "super", id: "" };
const RUNS = 150;

/** Results without the shared ACL arrays' identity (compared by value anyway). */
function runAll(sm: CoordStateMachine, steps: readonly Step[], from = 0, to = steps.length): CoordApplyResult[] {
  return positioned(steps)
    .slice(from, to)
    .map(({ command, slot, index }) => sm.apply(encodeCommand(command), { slot, index }));
}

test("two replicas fed the same commands agree on every result and on the snapshot bytes", () => {
  console.log(`fast-check seed ${SEED}`);
  fc.assert(
    fc.property(stepsArbitrary(60), fc.boolean(), (steps, extended) => {
      const a = new CoordStateMachine({ extendedTypesEnabled: extended });
      const b = new CoordStateMachine({ extendedTypesEnabled: extended });
      assert.deepEqual(runAll(a, steps), runAll(b, steps));
      assert.deepEqual(a.snapshot(), b.snapshot());
    }),
    { seed: SEED, numRuns: RUNS },
  );
});

test("snapshot at any point, restore, continue: same bytes and results as the straight run", () => {
  fc.assert(
    fc.property(stepsArbitrary(60), fc.nat(), fc.boolean(), (steps, cutSeed, extended) => {
      const cut = 1 + (cutSeed % (steps.length - 1));
      const straight = new CoordStateMachine({ extendedTypesEnabled: extended });
      const straightResults = runAll(straight, steps);
      const first = new CoordStateMachine({ extendedTypesEnabled: extended });
      runAll(first, steps, 0, cut);
      const image = first.snapshot();
      const restored = new CoordStateMachine({ extendedTypesEnabled: !extended }); // the image carries the setting
      restored.restore(image);
      assert.deepEqual(restored.snapshot(), image, "restore then snapshot is the identity");
      const rest = runAll(restored, steps, cut);
      assert.deepEqual(rest, straightResults.slice(cut));
      assert.deepEqual(restored.snapshot(), straight.snapshot());
      assert.deepEqual(restored.sessions(), straight.sessions());
      for (const { sessionId } of straight.sessions()) assert.deepEqual(restored.ephemeralsOf(sessionId), straight.ephemeralsOf(sessionId));
      assert.deepEqual(restored.expiredNodes(1e13, { containerMaxPerBatch: 100 }), straight.expiredNodes(1e13, { containerMaxPerBatch: 100 }));
      for (const path of ["/", "/a", "/a/b", "/b", "/c", "/zookeeper"]) {
        assert.deepEqual(restored.getAllChildrenNumber(path, [SUPER]), straight.getAllChildrenNumber(path, [SUPER]), path);
      }
    }),
    { seed: SEED + 1, numRuns: RUNS },
  );
});

test("the determinism check catches a replica that depends on something outside the log", () => {
  // A planted bug: one replica sees a different wall clock for one command (as if it read its own).
  const steps: Step[] = [{ advanceMs: 5, sessionId: 0n, identities: [], body: { kind: "op", op: { type: CoordOp.create, path: "/a", data: null, acl: [...OPEN_ACL_UNSAFE], flags: 0, ttl: -1n } }, owner: 0, sameSlot: false }];
  const a = new CoordStateMachine();
  const b = new CoordStateMachine();
  runAll(a, steps);
  const [{ command, slot, index }] = positioned(steps);
  b.apply(encodeCommand({ ...command, wallTimeMs: command.wallTimeMs + 1 }), { slot, index });
  assert.notDeepEqual(a.snapshot(), b.snapshot());
});

/** The dumb reference: persistent nodes in a Map, ZooKeeper's codes for the four ops compared. */
class ReferenceTree {
  readonly nodes = new Map<string, { data: string; version: number; creates: number }>([["/", { data: "", version: 0, creates: 0 }]]);

  private parentOf(path: string): string {
    const slash = path.lastIndexOf("/");
    return slash === 0 ? "/" : path.slice(0, slash);
  }

  children(path: string): string[] | undefined {
    if (!this.nodes.has(path)) return undefined;
    const prefix = path === "/" ? "/" : `${path}/`;
    return [...this.nodes.keys()].filter((p) => p !== "/" && this.parentOf(p) === path && p.startsWith(prefix)).map((p) => p.slice(prefix.length)).sort();
  }

  create(path: string, data: string, sequential: boolean): number | string {
    const parent = this.nodes.get(this.parentOf(path));
    if (!parent) return CoordError.noNode;
    const name = sequential ? path + sequenceSuffix(parent.creates) : path;
    if (this.nodes.has(name)) return CoordError.nodeExists;
    parent.creates++;
    this.nodes.set(name, { data, version: 0, creates: 0 });
    return name;
  }

  delete(path: string, version: number): number {
    const node = this.nodes.get(path);
    if (!node) return CoordError.noNode;
    if (version !== -1 && version !== node.version) return CoordError.badVersion;
    if (this.children(path)!.length > 0) return CoordError.notEmpty;
    this.nodes.delete(path);
    return 0;
  }

  setData(path: string, data: string, version: number): number {
    const node = this.nodes.get(path);
    if (!node) return CoordError.noNode;
    if (version !== -1 && version !== node.version) return CoordError.badVersion;
    node.data = data;
    node.version++;
    return 0;
  }
}

type ModelOp = { kind: "create"; path: string; data: string; sequential: boolean } | { kind: "delete"; path: string; version: number } | { kind: "setData"; path: string; data: string; version: number };

const modelPath = fc.constantFrom("/x", "/x/y", "/x/y/z", "/x/w", "/v", "/v/q");
const modelOp: fc.Arbitrary<ModelOp> = fc.oneof(
  fc.record({ kind: fc.constant("create" as const), path: modelPath, data: fc.string({ maxLength: 3 }), sequential: fc.boolean() }),
  fc.record({ kind: fc.constant("delete" as const), path: modelPath, version: fc.constantFrom(-1, 0, 1) }),
  fc.record({ kind: fc.constant("setData" as const), path: modelPath, data: fc.string({ maxLength: 3 }), version: fc.constantFrom(-1, 0, 1) }),
);

function applyBoth(sm: CoordStateMachine, model: ReferenceTree, op: ModelOp, slot: number, plantedBug: boolean): void {
  const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
  const envelope = { wallTimeMs: slot, sessionId: 0n, identities: [] };
  if (op.kind === "create") {
    const result = sm.applyCommand({ ...envelope, body: { kind: "op", op: { type: CoordOp.create, path: op.path, data: encode(op.data), acl: [...OPEN_ACL_UNSAFE], flags: op.sequential ? 2 : 0, ttl: -1n } } }, { slot, index: 0 });
    const expected = model.create(op.path, op.data, op.sequential);
    if (typeof expected === "string") assert.deepEqual(result.op, { type: CoordOp.create, path: expected });
    else assert.equal(result.err, expected);
  } else if (op.kind === "delete") {
    const result = sm.applyCommand({ ...envelope, body: { kind: "op", op: { type: CoordOp.delete, path: op.path, version: op.version } } }, { slot, index: 0 });
    assert.equal(result.err, model.delete(op.path, plantedBug ? -1 : op.version));
  } else {
    const result = sm.applyCommand({ ...envelope, body: { kind: "op", op: { type: CoordOp.setData, path: op.path, data: encode(op.data), version: op.version } } }, { slot, index: 0 });
    assert.equal(result.err, model.setData(op.path, op.data, op.version));
  }
  for (const path of [...model.nodes.keys()]) {
    const children = sm.getChildren(path, []);
    assert.ok(children.ok, `model has ${path}, the state machine does not`);
    assert.deepEqual([...children.value.children].filter((name) => path !== "/" || name !== "zookeeper"), model.children(path));
    const got = sm.getData(path, []);
    assert.ok(got.ok);
    assert.equal(new TextDecoder().decode(got.value.data ?? new Uint8Array()), model.nodes.get(path)!.data);
    assert.equal(got.value.stat.version, model.nodes.get(path)!.version);
  }
}

test("differential: the state machine agrees with a dumb reference tree on create/delete/setData/getChildren", () => {
  fc.assert(
    fc.property(fc.array(modelOp, { minLength: 1, maxLength: 80 }), (ops) => {
      const sm = new CoordStateMachine();
      const model = new ReferenceTree();
      ops.forEach((op, i) => applyBoth(sm, model, op, i + 1, false));
    }),
    { seed: SEED + 2, numRuns: RUNS * 2 },
  );
});

test("the differential check catches a planted difference (a delete that ignores its version)", () => {
  assert.throws(() =>
    fc.assert(
      fc.property(fc.array(modelOp, { minLength: 1, maxLength: 80 }), (ops) => {
        const sm = new CoordStateMachine();
        const model = new ReferenceTree();
        ops.forEach((op, i) => applyBoth(sm, model, op, i + 1, true));
      }),
      { seed: SEED + 3, numRuns: RUNS * 2 },
    ),
  );
});
