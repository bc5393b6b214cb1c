// Goal: the Replica's contract with its driver, checked directly: ready()/advance() order is
// enforced, pipelined Readies only append and are bounded; promises and Accepted replies are only released by advance() (after the persist);
// propose() answers with typed results; a restarted candidate never reuses a ballot; and the
// rarely reached ballot-step overflow resets the tail safely (recovering flag before truncation).
// Method: replicas driven by hand with crafted messages.
import { test } from "node:test";
import assert from "node:assert/strict";
import { bootstrapState } from "../../src/paxos/index.js";
import { encodeBatch } from "../../src/paxos/command.js";
import { membership } from "../../src/paxos/membership.js";
import type { AcceptMessage, Message } from "../../src/paxos/messages.js";
import type { DurableState, Ready } from "../../src/paxos/ready.js";
import { Replica } from "../../src/paxos/replica.js";
import { EMPTY_HARD_STATE, EntryKind, replicaId, type Ballot, type LogEntry } from "../../src/paxos/types.js";
import { ProgrammerError } from "../../src/util/assert.js";
import { SeededRandom } from "../../src/util/random.js";

const group = membership([1, 2, 3]);
const make = (id: number, durable: DurableState = bootstrapState(group), extra: object = {}): Replica =>
  new Replica({ id: replicaId(id), random: new SeededRandom(id), ...extra }, durable);

/** Runs one full Ready cycle and returns [messages sent at once, messages released by advance]. */
function cycle(r: Replica): { ready: Ready | undefined; now: readonly Message[]; after: Message[] } {
  const ready = r.ready();
  if (ready === undefined) return { ready, now: [], after: [] };
  return { ready, now: ready.messages, after: r.advance(ready) };
}

const accept = (to: number, ballot: Ballot, prevSlot: number, values: string[], extra: Partial<AcceptMessage> = {}): AcceptMessage => ({
  type: "accept",
  from: replicaId(ballot.replicaId),
  to: replicaId(to),
  ballot,
  prevSlot,
  prevBallot: ballot,
  leaderCommit: 0,
  leaderLastSlot: prevSlot + values.length,
  entries: values.map((v) => ({ kind: EntryKind.commands, data: encodeBatch([{ data: new TextEncoder().encode(v) }]) })),
  ...extra,
});

test("replica: advance() out of order, twice, or of another Ready is a programmer error", () => {
  const r = make(1);
  r.campaignNow();
  const ready = r.ready();
  assert.ok(ready !== undefined);
  assert.equal(r.ready(), undefined, "nothing new to hand out while the campaign's Ready is in flight");
  assert.throws(() => r.advance({ ...ready, number: ready.number + 1 }), ProgrammerError);
  r.advance(ready);
  assert.throws(() => r.advance(ready), ProgrammerError);
});

test("replica: pipelined Readies only append, are bounded by readiesInFlightMax, and advance in order", () => {
  const r = make(2, bootstrapState(group), { readiesInFlightMax: 2 });
  const leader = { round: 1, replicaId: 1 };
  for (let i = 0; i < 10; i++) r.tick();
  r.step({ type: "prepare", from: replicaId(1), to: replicaId(2), ballot: leader, fromSlot: 1, force: false });
  cycle(r);
  r.step(accept(2, leader, 0, ["a"]));
  const first = r.ready()!;
  assert.equal(first.persist.entries.length, 1);
  // While the first is being persisted, more entries arrive: a second Ready appends them.
  r.step(accept(2, leader, 1, ["b"]));
  const second = r.ready()!;
  assert.ok(second !== undefined, "a second Ready is handed out before the first is advanced");
  assert.deepEqual(second.persist.entries.map((e) => e.slot), [2]);
  assert.equal(second.persist.hardState, undefined);
  assert.equal(second.persist.truncateFromSlot, undefined);
  assert.equal(second.messages.filter((m) => m.type === "accepted").length, 0, "its Accepted waits for its advance");
  r.step(accept(2, leader, 2, ["c"]));
  assert.equal(r.ready(), undefined, "readiesInFlightMax (2) Readies are in flight: a third waits");
  assert.throws(() => r.advance(second), ProgrammerError, "the newer Ready cannot be advanced first");
  assert.deepEqual(r.advance(first).map((m) => m.type), ["accepted"]);
  const third = r.ready()!;
  assert.deepEqual(third.persist.entries.map((e) => e.slot), [3]);
  // A higher ballot needs a durable promise: with Readies in flight, nothing more is handed out.
  r.step({ type: "prepare", from: replicaId(3), to: replicaId(2), ballot: { round: 2, replicaId: 3 }, fromSlot: 1, force: true });
  assert.equal(r.ready(), undefined, "a hard-state write waits until every earlier Ready is advanced");
  r.advance(second);
  assert.equal(r.ready(), undefined);
  r.advance(third);
  const promise = cycle(r);
  assert.ok(promise.ready?.persist.hardState !== undefined, "the promise is persisted once the pipeline drained");
  assert.ok(promise.after.some((m) => m.type === "promise"));
});

test("replica: promises and Accepted replies leave only through advance(), after the persist", () => {
  const r = make(2);
  for (let i = 0; i < 10; i++) r.tick(); // not sticky: a fresh replica never followed anyone
  r.step({ type: "prepare", from: replicaId(1), to: replicaId(2), ballot: { round: 1, replicaId: 1 }, fromSlot: 1, force: false });
  let c = cycle(r);
  assert.ok(c.ready?.persist.hardState !== undefined && c.ready.persist.syncRequired, "the promise is persisted and synced");
  assert.equal(c.now.filter((m) => m.type === "promise").length, 0, "no promise before the fsync");
  assert.equal(c.after.filter((m) => m.type === "promise").length, 1);
  r.step(accept(2, { round: 1, replicaId: 1 }, 0, ["a", "b"]));
  c = cycle(r);
  assert.equal(c.ready?.persist.entries.length, 2);
  assert.equal(c.now.filter((m) => m.type === "accepted").length, 0, "no Accepted before the fsync");
  assert.deepEqual(c.after.map((m) => m.type), ["accepted"]);
});

test("replica: propose answers notLeader, tooLarge and backpressure as typed results", () => {
  const follower = make(2);
  assert.equal(follower.propose({ data: new Uint8Array(1) }).kind, "notLeader");
  const solo = make(1, bootstrapState(membership([1])), { batchBytesMax: 1024, uncommittedBytesMax: 4096 });
  solo.campaignNow();
  for (let i = 0; i < 3; i++) cycle(solo);
  assert.equal(solo.status().role, "leader");
  assert.deepEqual(solo.propose({ data: new Uint8Array(2000) }), { kind: "tooLarge", bytesMax: 1020 });
  let result;
  for (let i = 0; i < 100; i++) {
    result = solo.propose({ data: new Uint8Array(500) });
    if (result.kind !== "ok") break;
  }
  assert.deepEqual(result, { kind: "backpressure", reason: "uncommittedBytes" });
  cycle(solo);
  cycle(solo);
  assert.equal(solo.propose({ data: new Uint8Array(500) }).kind, "ok", "committing frees the budget");
});

test("replica: a candidate restarted from its durable state never reuses a ballot", () => {
  const r = make(1);
  r.campaignNow(); // pre-vote: no ballot yet
  const prevote = cycle(r);
  assert.equal(prevote.ready?.persist.hardState, undefined, "pre-vote changes no durable state");
  for (const reply of [2, 3]) {
    r.step({ type: "preVoteReply", from: replicaId(reply), to: replicaId(1), ballot: { round: 1, replicaId: 1 }, granted: true, promisedBallot: { round: 0, replicaId: 0 }, commitSlot: 0 });
  }
  const ready = r.ready()!;
  const promised = ready.persist.hardState!.promisedBallot;
  assert.deepEqual(promised, { round: 1, replicaId: 1 });
  assert.equal(ready.messages.filter((m) => m.type === "prepare").length, 0, "Prepares wait for the promise's fsync");
  const restarted = make(1, { ...bootstrapState(group), hardState: ready.persist.hardState! });
  for (let i = 0; i < 40; i++) restarted.tick();
  restarted.campaignNow();
  restarted.step({ type: "preVoteReply", from: replicaId(2), to: replicaId(1), ballot: { round: 2, replicaId: 1 }, granted: true, promisedBallot: { round: 0, replicaId: 0 }, commitSlot: 0 });
  assert.ok(restarted.status().promisedBallot.round > promised.round, "the next campaign uses a higher round");
});

test("replica: too many partial re-acceptances reset the tail: recovering flag first, then truncation", () => {
  const tail: LogEntry[] = Array.from({ length: 10 }, (_, i) => ({
    slot: i + 1,
    ballot: { round: 1, replicaId: 1 },
    kind: EntryKind.commands,
    data: encodeBatch([{ data: new TextEncoder().encode(`v${i + 1}`) }]),
  }));
  const durable: DurableState = { ...bootstrapState(group), hardState: { ...EMPTY_HARD_STATE, promisedBallot: { round: 1, replicaId: 1 } }, tail, lastSlot: 10 };
  const r = make(2, durable, { ballotStepsMax: 2 });
  // Three new leaders in turn each re-accept a shorter prefix of the unchanged tail: three steps.
  for (const [round, through] of [[2, 6], [3, 4], [4, 2]] as const) {
    const values = Array.from({ length: through }, (_, i) => `v${i + 1}`);
    r.step(accept(2, { round, replicaId: 3 }, 0, values, { leaderLastSlot: 10 }));
    const c = cycle(r);
    if (round < 4) assert.equal(c.ready!.persist.hardState!.steps.length, round - 1);
    else {
      const persist = c.ready!.persist;
      assert.equal(persist.hardState!.recoveringThroughSlot, 10, "the flag is persisted (before the truncation)");
      assert.equal(persist.truncateFromSlot, 1, "the uncommitted tail is forgotten");
      assert.deepEqual(persist.hardState!.steps, []);
      assert.deepEqual(c.after.map((m) => m.type), ["reject"], "the range is refused; the leader resends from the commit slot");
      assert.equal(r.marks.resetTail, 1);
    }
  }
  r.step({ type: "prepare", from: replicaId(3), to: replicaId(2), ballot: { round: 9, replicaId: 3 }, fromSlot: 1, force: true });
  const refused = cycle(r).after;
  assert.equal(refused[0].type === "reject" && refused[0].reason, 3, "a recovering replica refuses to promise");
});
