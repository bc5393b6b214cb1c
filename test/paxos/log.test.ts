// Goal: the in-memory log reports, for every uncommitted slot, exactly the ballot under which the
// replica last accepted that slot's value, although re-acceptances are stored as compact "ballot
// steps" instead of rewritten entries. Method: random sequences of append / re-accept (step) /
// truncate / commit-prune / evict against a dumb reference that keeps one accepted ballot per slot
// (STYLE.md §13). Ballots only rise over a sequence, as a replica's promise does.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ReplicaLog } from "../../src/paxos/log.js";
import { membership } from "../../src/paxos/membership.js";
import { EntryKind, compareBallots, type Ballot } from "../../src/paxos/types.js";

const SEED = 4242;

type Op =
  | { kind: "append"; count: number }
  | { kind: "step"; back: number }
  | { kind: "truncate"; back: number }
  | { kind: "commit"; forward: number }
  | { kind: "raise" };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("append" as const), count: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant("step" as const), back: fc.integer({ min: 0, max: 6 }) }),
  fc.record({ kind: fc.constant("truncate" as const), back: fc.integer({ min: 0, max: 6 }) }),
  fc.record({ kind: fc.constant("commit" as const), forward: fc.integer({ min: 0, max: 3 }) }),
  fc.constant({ kind: "raise" as const }),
);

test("log: effective ballots with steps equal a per-slot reference", () => {
  console.log(`fast-check seed ${SEED}`);
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
      const log = new ReplicaLog({ snapshotSlot: 0, snapshotMembership: membership([1]), diskFirstSlot: 1 });
      const reference: Ballot[] = [];
      let ballot: Ballot = { round: 1, replicaId: 1 };
      let commit = 0;
      const max = (a: Ballot, b: Ballot): Ballot => (compareBallots(a, b) >= 0 ? a : b);
      for (const op of ops) {
        const last = log.lastSlot;
        if (op.kind === "raise") ballot = { round: ballot.round + 1, replicaId: 1 + (ballot.round % 3) };
        if (op.kind === "append") {
          for (let i = 0; i < op.count; i++) {
            log.append({ slot: log.lastSlot + 1, ballot, kind: EntryKind.noop, data: new Uint8Array(0) });
            reference.push(ballot);
          }
        }
        if (op.kind === "step" && last > commit) {
          const through = Math.max(commit + 1, last - op.back);
          log.recordStep(through, ballot);
          for (let s = 1; s <= through; s++) reference[s - 1] = max(reference[s - 1], ballot);
        }
        if (op.kind === "truncate" && last > commit) {
          const from = Math.max(commit + 1, last - op.back);
          log.truncateFrom(from);
          reference.length = from - 1;
        }
        if (op.kind === "commit") {
          commit = Math.min(last, commit + op.forward);
          log.pruneSteps(commit);
        }
        for (let s = commit + 1; s <= log.lastSlot; s++) {
          assert.deepEqual(log.effectiveBallot(s), reference[s - 1], `slot ${s} after ${JSON.stringify(op)}`);
        }
        for (let i = 1; i < log.steps.length; i++) {
          assert.ok(log.steps[i - 1].throughSlot < log.steps[i].throughSlot, "steps ascend by slot");
          assert.ok(compareBallots(log.steps[i - 1].ballot, log.steps[i].ballot) > 0, "steps descend by ballot");
        }
      }
    }),
    { seed: SEED, numRuns: 2000 },
  );
});

test("log: byte ranges, eviction and snapshot install keep the window consistent", () => {
  const log = new ReplicaLog({ snapshotSlot: 0, snapshotMembership: membership([1]), diskFirstSlot: 1 });
  const b = { round: 1, replicaId: 1 };
  for (let s = 1; s <= 10; s++) log.append({ slot: s, ballot: b, kind: EntryKind.commands, data: new Uint8Array(s) });
  assert.equal(log.bytesBetween(3, 5), 3 + 4 + 5 + 3 * 32);
  log.evictThrough(4);
  assert.equal(log.memFirstSlot, 5);
  assert.equal(log.entry(4), undefined);
  assert.equal(log.bytesBetween(5, 5), 5 + 32);
  log.installSnapshot(7, membership([1, 2]));
  assert.equal(log.memFirstSlot, 8);
  assert.equal(log.lastSlot, 10);
  assert.deepEqual(log.membershipAt(8).voters, [1, 2]);
  log.installSnapshot(20, membership([1, 2, 3]));
  assert.equal(log.lastSlot, 20, "a snapshot beyond the log becomes its end");
  assert.equal(log.memEntryCount, 0);
});
