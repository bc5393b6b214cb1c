// fast-check generators of coordination commands for the property tests: a small universe of
// paths and identities so that random sequences collide often (creates on existing nodes,
// deletes of parents, multis that half-succeed, sessions closing under their ephemerals).
import fc from "fast-check";
import { CoordOp, type Command, type CommandBody, type MultiWriteOp, type WriteOp } from "../../src/coord/commands.js";
import { Perm, type Acl, type Identity } from "../../src/coord/types.js";

export const PATHS = ["/a", "/a/b", "/a/b/c", "/a/d", "/b", "/b/x", "/c", "/a/", "bad", "/zookeeper", "/"];
export const SESSIONS = [0n, 1n, 2n, 0x0300000000000003n];
const BOB: Identity = { scheme: "digest", id: "bob:hash" };
export const IDENTITY_SETS: Identity[][] = [[{ scheme: "ip", id: "127.0.0.1" }], [{ scheme: "ip", id: "10.0.0.1" }, BOB], [{ scheme: "super", id: "" }]];
const ACLS: Acl[][] = [
  [{ perms: Perm.all, id: { scheme: "world", id: "anyone" } }],
  [{ perms: Perm.read | Perm.create, id: { scheme: "world", id: "anyone" } }],
  [{ perms: Perm.all, id: { scheme: "auth", id: "" } }],
  [{ perms: Perm.all, id: { scheme: "ip", id: "10.0.0.0/8" } }],
  [],
];

/** Mostly well-formed values, with enough invalid ones to exercise every error path. */
const path = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("/a", "/b", "/c") },
  { weight: 4, arbitrary: fc.constantFrom("/a/b", "/a/b/c", "/a/d", "/b/x") },
  { weight: 1, arbitrary: fc.constantFrom(...PATHS.slice(7)) },
);
const data = fc.option(fc.uint8Array({ maxLength: 6 }), { nil: null, freq: 8 });
const version = fc.constantFrom(-1, -1, -1, 0, 1, 2);
const acl = fc.oneof({ weight: 8, arbitrary: fc.constant(ACLS[0]) }, { weight: 1, arbitrary: fc.constantFrom(...ACLS.slice(1)) });

const createOp: fc.Arbitrary<MultiWriteOp> = fc
  .oneof(
    { weight: 8, arbitrary: fc.record({ type: fc.constantFrom(CoordOp.create, CoordOp.create2), flags: fc.integer({ min: 0, max: 3 }), ttl: fc.constant(-1n) }) },
    { weight: 1, arbitrary: fc.record({ type: fc.constant(CoordOp.createContainer), flags: fc.constant(4), ttl: fc.constant(-1n) }) },
    { weight: 1, arbitrary: fc.record({ type: fc.constant(CoordOp.createTTL), flags: fc.constantFrom(5, 6), ttl: fc.constantFrom(1n, 500n) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        type: fc.constantFrom(CoordOp.create, CoordOp.create2, CoordOp.createContainer, CoordOp.createTTL),
        flags: fc.integer({ min: -1, max: 7 }),
        ttl: fc.constantFrom(-1n, 0n, 1n, 1n << 41n),
      }),
    },
  )
  // Only createTTL carries a ttl (the codec asserts it); the others keep -1.
  .chain((shape) => fc.record({ path, data, acl }).map((rest) => ({ ...shape, ...rest, ttl: shape.type === CoordOp.createTTL ? shape.ttl : -1n }) as MultiWriteOp));
const multiOp: fc.Arbitrary<MultiWriteOp> = fc.oneof(
  { weight: 3, arbitrary: createOp },
  fc.record({ type: fc.constant(CoordOp.delete), path, version }),
  fc.record({ type: fc.constant(CoordOp.setData), path, data, version }),
  fc.record({ type: fc.constant(CoordOp.check), path, version }),
);
const writeOp: fc.Arbitrary<WriteOp> = fc.oneof({ weight: 6, arbitrary: multiOp }, { weight: 1, arbitrary: fc.record({ type: fc.constant(CoordOp.setACL), path, acl, version }) });

export const commandBody: fc.Arbitrary<CommandBody> = fc.oneof(
  { weight: 8, arbitrary: writeOp.map((op): CommandBody => ({ kind: "op", op })) },
  { weight: 3, arbitrary: fc.array(multiOp, { maxLength: 4 }).map((ops): CommandBody => ({ kind: "multi", ops })) },
  { weight: 2, arbitrary: fc.constantFrom(0, 10_000, 30_000).map((timeoutMs): CommandBody => ({ kind: "createSession", timeoutMs })) },
  { weight: 1, arbitrary: fc.constant<CommandBody>({ kind: "closeSession" }) },
  { weight: 1, arbitrary: fc.record({ paths: fc.array(path, { maxLength: 3 }), neverUsed: fc.constantFrom(0, 1) }).map((x): CommandBody => ({ kind: "expire", paths: x.paths, containerNeverUsedMsMax: x.neverUsed })) },
  { weight: 1, arbitrary: fc.constant<CommandBody>({ kind: "sync" }) },
  { weight: 1, arbitrary: fc.constant<CommandBody>({ kind: "moveSession" }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 32 }).map((secret): CommandBody => ({ kind: "setSecret", secret })) },
);

/** A command with a small time step, a session and an identity set drawn from the universe. */
export const stepArbitrary = fc.record({
  advanceMs: fc.integer({ min: 0, max: 400 }),
  sessionId: fc.oneof({ weight: 3, arbitrary: fc.constant(0n) }, { weight: 4, arbitrary: fc.constantFrom(1n, 2n) }, { weight: 1, arbitrary: fc.constant(SESSIONS[3]) }),
  identities: fc.oneof({ weight: 4, arbitrary: fc.constant(IDENTITY_SETS[0]) }, { weight: 1, arbitrary: fc.constantFrom(...IDENTITY_SETS.slice(1)) }),
  body: commandBody,
  /** The node serving the connection: mostly node 1, sometimes 2 (a moved session), 0 for none. */
  owner: fc.oneof({ weight: 6, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constantFrom(0, 2) }),
  /** Whether this command shares the previous one's slot (a batch), as index+1. */
  sameSlot: fc.boolean(),
});
export type Step = typeof stepArbitrary extends fc.Arbitrary<infer T> ? T : never;

/** Turns steps into commands with increasing positions (batches of several commands per slot). */
export function positioned(steps: readonly Step[]): Array<{ command: Command; slot: number; index: number }> {
  let slot = 1;
  let index = 0;
  let nowMs = 1_000_000;
  return steps.map((step, i) => {
    if (i > 0) {
      if (step.sameSlot) index++;
      else {
        slot++;
        index = 0;
      }
    }
    nowMs += step.advanceMs;
    return { command: { wallTimeMs: nowMs, sessionId: step.sessionId, owner: step.owner, identities: step.identities, body: step.body }, slot, index };
  });
}

/** Sessions 1 and 2 exist at the start, so session-bound ops mostly reach the tree. */
const OPENING: Step[] = [1n, 2n].map((sessionId) => ({ advanceMs: 0, sessionId, identities: IDENTITY_SETS[0], body: { kind: "createSession", timeoutMs: 30_000 }, owner: 1, sameSlot: false }));

export function stepsArbitrary(maxLength: number): fc.Arbitrary<Step[]> {
  return fc.array(stepArbitrary, { minLength: 1, maxLength, size: "max" }).map((steps) => [...OPENING, ...steps]);
}
