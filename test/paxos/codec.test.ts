// Goal: every Paxos message and persisted record survives encode → decode unchanged, and bad input
// (random bytes, mutated valid messages, truncations, lying lengths) only ever produces a typed
// PaxosDecodeError: never another exception, a hang or an unbounded allocation. Method: fast-check
// round trips over arbitrary messages, a fuzz loop over random and mutated bytes (fixed seeds,
// printed), and golden bytes for one message so the wire format cannot drift silently.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeHardState,
  decodeLogEntry,
  decodeMessage,
  decodeSnapshotMeta,
  encodeHardState,
  encodeLogEntry,
  encodeMessage,
  encodedMessageBytes,
  encodeSnapshotMeta,
} from "../../src/paxos/codec.js";
import { PaxosDecodeError } from "../../src/paxos/bytes.js";
import { BatchBuilder, decodeBatch, encodeBatch } from "../../src/paxos/command.js";
import { decodeMembership, encodeMembership, membership } from "../../src/paxos/membership.js";
import { RejectReason, type Message } from "../../src/paxos/messages.js";
import { replicaId, type Ballot, type LogEntry } from "../../src/paxos/types.js";
import { SeededRandom } from "../../src/util/random.js";

const SEED = 7_654_321;
const slot = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const smallSlot = fc.integer({ min: 0, max: 1_000_000 });
const id = fc.integer({ min: 1, max: 0xffff_ffff }).map(replicaId);
const ballotArb: fc.Arbitrary<Ballot> = fc.record({ round: slot, replicaId: fc.integer({ min: 0, max: 0xffff_ffff }) });
const kind = fc.constantFrom(0 as const, 1 as const, 2 as const);
const data = fc.uint8Array({ maxLength: 64 });
const entries = (first: number): fc.Arbitrary<LogEntry[]> =>
  fc.array(fc.record({ ballot: ballotArb, kind, data }), { maxLength: 5 }).map((list) => list.map((e, i) => ({ slot: first + i, ...e })));

const messageArb: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ type: fc.constant("preVote" as const), from: id, to: id, ballot: ballotArb, commitSlot: slot, lastSlot: slot }),
  fc.record({ type: fc.constant("preVoteReply" as const), from: id, to: id, ballot: ballotArb, granted: fc.boolean(), promisedBallot: ballotArb, commitSlot: slot }),
  fc.record({ type: fc.constant("prepare" as const), from: id, to: id, ballot: ballotArb, fromSlot: slot, force: fc.boolean() }),
  fc.tuple(smallSlot, fc.boolean()).chain(([first, truncated]) =>
    fc.record({ type: fc.constant("promise" as const), from: id, to: id, ballot: ballotArb, commitSlot: slot, truncated: fc.constant(truncated), entries: entries(first + 1) }),
  ),
  fc.record({
    type: fc.constant("accept" as const),
    from: id,
    to: id,
    ballot: ballotArb,
    prevSlot: smallSlot,
    prevBallot: ballotArb,
    leaderCommit: slot,
    leaderLastSlot: slot,
    entries: fc.array(fc.record({ kind, data }), { maxLength: 5 }),
  }),
  fc.record({ type: fc.constant("accepted" as const), from: id, to: id, ballot: ballotArb, matchedSlot: slot, commitSlot: slot }),
  fc.record({
    type: fc.constant("reject" as const),
    from: id,
    to: id,
    ballot: ballotArb,
    rejected: fc.constantFrom("prepare" as const, "accept" as const, "heartbeat" as const),
    reason: fc.constantFrom(...Object.values(RejectReason)),
    promisedBallot: ballotArb,
    commitSlot: slot,
    matchedSlot: slot,
    lastSlot: slot,
  }),
  fc.record({ type: fc.constant("heartbeat" as const), from: id, to: id, ballot: ballotArb, leaderCommit: slot, round: slot }),
  fc.record({ type: fc.constant("heartbeatAck" as const), from: id, to: id, ballot: ballotArb, round: slot, matchedSlot: slot, commitSlot: slot }),
  fc.record({ type: fc.constant("timeoutNow" as const), from: id, to: id, ballot: ballotArb }),
);

function normalize(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v)));
}

test("codec: every message round-trips", () => {
  console.log(`fast-check seed ${SEED}`);
  fc.assert(
    fc.property(messageArb, (m) => {
      const bytes = encodeMessage(m);
      assert.equal(encodedMessageBytes(m), bytes.length, "the size function is exact");
      assert.deepEqual(normalize(decodeMessage(bytes)), normalize(m));
    }),
    { seed: SEED, numRuns: 3000 },
  );
});

test("codec: persisted records and command batches round-trip", () => {
  console.log(`fast-check seed ${SEED + 1}`);
  fc.assert(
    fc.property(
      entries(1),
      fc.record({ promisedBallot: ballotArb, commitSlot: slot, recoveringThroughSlot: slot }),
      fc.array(fc.record({ data, session: fc.option(fc.record({ clientId: fc.integer({ min: 1, max: 2 ** 50 }), sequence: slot })) }), { minLength: 1, maxLength: 6 }),
      (list, hard, commands) => {
        for (const e of list) assert.deepEqual(normalize(decodeLogEntry(encodeLogEntry(e))), normalize(e));
        const state = { ...hard, steps: [{ throughSlot: 5, ballot: { round: 9, replicaId: 1 } }, { throughSlot: 9, ballot: { round: 3, replicaId: 2 } }] };
        assert.deepEqual(normalize(decodeHardState(encodeHardState(state))), normalize(state));
        const batch = commands.map((c) => (c.session === null ? { data: c.data } : { data: c.data, ...c.session }));
        assert.deepEqual(normalize(decodeBatch(encodeBatch(batch))), normalize(batch));
      },
    ),
    { seed: SEED + 1, numRuns: 1000 },
  );
  const m = membership([1, 2, 3], [7]);
  assert.deepEqual(decodeMembership(encodeMembership(m)), m);
  assert.deepEqual(decodeSnapshotMeta(encodeSnapshotMeta({ slot: 42, membership: m })), { slot: 42, membership: m });
});

test("codec: the incremental batch builder writes exactly what encodeBatch writes", () => {
  console.log(`fast-check seed ${SEED + 2}`);
  const builder = new BatchBuilder(32);
  fc.assert(
    fc.property(
      fc.array(fc.record({ data: fc.uint8Array({ maxLength: 300 }), session: fc.option(fc.record({ clientId: fc.integer({ min: 1, max: 2 ** 52 }), sequence: slot })) }), { minLength: 1, maxLength: 40 }),
      (commands) => {
        const batch = commands.map((c) => (c.session === null ? { data: c.data } : { data: c.data, ...c.session }));
        for (const c of batch) builder.add(c);
        assert.deepEqual(Array.from(builder.seal()), Array.from(encodeBatch(batch)));
      },
    ),
    { seed: SEED + 2, numRuns: 500 },
  );
});

test("codec: golden bytes of an Accept (the wire format is versioned; changing it is deliberate)", () => {
  const accept: Message = {
    type: "accept",
    from: replicaId(1),
    to: replicaId(2),
    ballot: { round: 3, replicaId: 1 },
    prevSlot: 9,
    prevBallot: { round: 3, replicaId: 1 },
    leaderCommit: 8,
    leaderLastSlot: 10,
    entries: [{ kind: 1, data: new Uint8Array([0xca, 0xfe]) }],
  };
  const hex = Buffer.from(encodeMessage(accept)).toString("hex");
  assert.equal(
    hex,
    "0105" + "00000001" + "00000002" + "0000000000000003" + "00000001" + // version, type, from, to, ballot
      "0000000000000009" + "0000000000000003" + "00000001" + // prevSlot, prevBallot
      "0000000000000008" + "000000000000000a" + // leaderCommit, leaderLastSlot
      "00000001" + "01" + "00000002" + "cafe", // one entry: kind 1, 2 bytes
  );
});

function expectOnlyDecodeErrors(bytes: Uint8Array, decoders: Array<(b: Uint8Array) => unknown>): number {
  let accepted = 0;
  for (const decode of decoders) {
    try {
      decode(bytes);
      accepted++;
    } catch (error) {
      if (!(error instanceof PaxosDecodeError)) throw new Error(`non-typed error ${String(error)} for ${Buffer.from(bytes).toString("hex")}`, { cause: error });
    }
  }
  return accepted;
}

test("codec: fuzz — random and mutated bytes give PaxosDecodeError only", () => {
  const fuzzSeed = 99_173;
  console.log(`fuzz seed ${fuzzSeed}`);
  const random = new SeededRandom(fuzzSeed);
  const decoders = [
    (b: Uint8Array) => decodeMessage(b),
    (b: Uint8Array) => decodeLogEntry(b),
    (b: Uint8Array) => decodeHardState(b),
    (b: Uint8Array) => decodeSnapshotMeta(b),
    (b: Uint8Array) => decodeBatch(b),
    (b: Uint8Array) => decodeMembership(b),
  ];
  const samples = fc.sample(messageArb, { seed: fuzzSeed, numRuns: 200 }).map(encodeMessage);
  let decodedMutants = 0;
  for (let i = 0; i < 20_000; i++) {
    let bytes: Uint8Array;
    if (i % 4 === 0) {
      bytes = new Uint8Array(random.int(80));
      for (let j = 0; j < bytes.length; j++) bytes[j] = random.int(256);
    } else {
      bytes = samples[random.int(samples.length)].slice();
      const edits = 1 + random.int(4);
      for (let e = 0; e < edits; e++) {
        const roll = random.int(3);
        if (roll === 0 && bytes.length > 0) bytes[random.int(bytes.length)] = random.int(256);
        else if (roll === 1) bytes = bytes.subarray(0, random.int(bytes.length + 1));
        else if (bytes.length >= 4) bytes.set([0xff, 0xff, 0xff, random.int(256)], random.int(bytes.length - 3));
      }
    }
    decodedMutants += expectOnlyDecodeErrors(bytes, decoders);
  }
  assert.ok(decodedMutants > 0, "some mutants still decode (the fuzzer is not trivially rejecting everything)");
  // A length that lies about a huge payload is rejected before any allocation.
  const lying = encodeMessage({ type: "accept", from: replicaId(1), to: replicaId(2), ballot: { round: 1, replicaId: 1 }, prevSlot: 0, prevBallot: { round: 0, replicaId: 0 }, leaderCommit: 0, leaderLastSlot: 0, entries: [] });
  const view = new DataView(lying.buffer, lying.byteOffset);
  view.setUint32(lying.length - 4, 0xffff_fff0);
  assert.throws(() => decodeMessage(lying), PaxosDecodeError);
  assert.throws(() => decodeMessage(new Uint8Array(65 * 1024 * 1024)), PaxosDecodeError);
});
