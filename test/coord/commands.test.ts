// Goal: the command codec is lossless, compact and safe on any input: every command round-trips,
// and random or mutated bytes either decode or fail with CoordDecodeError — and applying them
// never throws and leaves every replica in the same state; the leader's re-stamping of the wall
// time changes nothing else. Method: fast-check commands (fixed seed) for the round trip and the
// re-stamping; seeded mutations of valid encodings for the decoder and for apply().
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { CoordDecodeError } from "../../src/coord/binary.js";
import { COMMAND_LIMITS, CoordOp, decodeCommand, encodeCommand, withWallTime, type Command } from "../../src/coord/commands.js";
import { CoordStateMachine } from "../../src/coord/state-machine.js";
import { SeededRandom } from "../../src/util/random.js";
import { commandBody, positioned, stepsArbitrary } from "./generators.js";

const SEED = 9090;

const anyCommand: fc.Arbitrary<Command> = fc.record({
  wallTimeMs: fc.maxSafeNat(),
  sessionId: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  owner: fc.integer({ min: 0, max: 255 }),
  identities: fc.array(fc.record({ scheme: fc.string({ unit: "grapheme", maxLength: 8 }), id: fc.string({ unit: "grapheme", maxLength: 20 }) }), { maxLength: 4 }),
  body: commandBody,
});

function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return [...value];
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

test("every command round-trips through the codec", () => {
  console.log(`fast-check seed ${SEED}`);
  fc.assert(
    fc.property(anyCommand, (command) => {
      const bytes = encodeCommand(command);
      assert.deepEqual(plain(decodeCommand(bytes)), plain(command));
      assert.deepEqual(encodeCommand(decodeCommand(bytes)), bytes, "re-encoding gives the same bytes");
    }),
    { seed: SEED, numRuns: 2000 },
  );
});

test("withWallTime re-stamps only the wall time (the leader's time on a forwarded command), in a copy", () => {
  fc.assert(
    fc.property(anyCommand, fc.maxSafeNat(), (command, wallTimeMs) => {
      const bytes = encodeCommand(command);
      const before = Uint8Array.from(bytes);
      const stamped = withWallTime(bytes, wallTimeMs);
      assert.ok(stamped);
      assert.deepEqual(plain(decodeCommand(stamped)), plain({ ...command, wallTimeMs }));
      assert.deepEqual(bytes, before, "the original is untouched");
    }),
    { seed: SEED, numRuns: 500 },
  );
  assert.equal(withWallTime(new Uint8Array([0xff, 1, 2, 3]), 1), undefined, "not a command: left to the caller");
  assert.equal(withWallTime(encodeCommand({ wallTimeMs: 1, sessionId: 0n, identities: [], body: { kind: "sync" } }), -1), undefined);
});

test("the encoding is compact: a typical create costs little beyond its path, data and ACL", () => {
  const bytes = encodeCommand({
    wallTimeMs: 1_700_000_000_000,
    sessionId: 0x0100000000000001n,
    identities: [{ scheme: "ip", id: "127.0.0.1" }],
    body: { kind: "op", op: { type: CoordOp.create, path: "/app/locks/lock-", data: new Uint8Array(10), acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }], flags: 3, ttl: -1n } },
  });
  // 22 header (with the owner) + 23 identity + 1 type + 20 path + 14 data + 27 ACL + 4 flags = 111.
  assert.equal(bytes.length, 111);
});

test("random and mutated command bytes: decoded or CoordDecodeError; apply never throws and stays deterministic", () => {
  const random = new SeededRandom(SEED);
  const samples = fc.sample(stepsArbitrary(20), { seed: SEED, numRuns: 40 });
  const a = new CoordStateMachine({ extendedTypesEnabled: true });
  const b = new CoordStateMachine({ extendedTypesEnabled: true });
  let slot = 1;
  let decoded = 0;
  let rejected = 0;
  for (let round = 0; round < 20_000; round++) {
    const steps = samples[round % samples.length];
    const { command } = positioned(steps)[random.int(steps.length)];
    let bytes = encodeCommand(command);
    const mutations = 1 + random.int(3);
    for (let m = 0; m < mutations && bytes.length > 0; m++) {
      const at = random.int(bytes.length);
      const kind = random.int(4);
      if (kind === 0) bytes[at] ^= 1 << random.int(8);
      else if (kind === 1) bytes = bytes.slice(0, at);
      else if (kind === 2) bytes[at] = [0, 0xff, 0x7f, 0x80][random.int(4)];
      else bytes = Uint8Array.from([...bytes.slice(0, at), random.int(256), ...bytes.slice(at)]);
    }
    try {
      decodeCommand(bytes);
      decoded++;
    } catch (error) {
      assert.ok(error instanceof CoordDecodeError, `untyped ${(error as Error).name}: ${(error as Error).message}`);
      rejected++;
    }
    const position = { slot: slot++, index: 0 };
    assert.deepEqual(a.apply(bytes, position), b.apply(bytes, position));
  }
  assert.ok(decoded > 1000 && rejected > 1000, `decoded ${decoded}, rejected ${rejected}`);
  assert.deepEqual(a.snapshot(), b.snapshot());
});

test("hostile counts are refused before allocating", () => {
  const base = encodeCommand({ wallTimeMs: 0, sessionId: 0n, identities: [], body: { kind: "sync" } });
  // identity count claims 2^32-1 entries in a 27-byte command
  const bytes = Uint8Array.from(base);
  new DataView(bytes.buffer).setUint32(22, 0xffffffff);
  assert.throws(() => decodeCommand(bytes), (e: unknown) => e instanceof CoordDecodeError && /count/.test(e.message));
  assert.ok(COMMAND_LIMITS.identitiesMax < 0xffffffff);
});
