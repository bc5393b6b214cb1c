// Goal: the quorum arithmetic the leader uses for commit, leases and check-quorum is exactly
// right. Method: compare the optimized functions with deliberately dumb references (try every
// candidate slot / count the members) on many random configurations, as etcd-io/raft's
// quorum/quick_test.go does. fast-check with a fixed, printed seed.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { hasJointMajority, hasMajority, jointQuorumMatch, majority, quorumMatch } from "../../src/paxos/quorum.js";
import { replicaId, type ReplicaId } from "../../src/paxos/types.js";

const SEED = 20240611;
const RUNS = 5000;

/** The highest slot s such that at least a majority of voters matched >= s (try them all). */
function dumbQuorumMatch(voters: readonly ReplicaId[], match: Map<ReplicaId, number>): number {
  let best = 0;
  const candidates = new Set([0, ...voters.map((v) => match.get(v) ?? 0)]);
  for (const s of candidates) {
    const count = voters.filter((v) => (match.get(v) ?? 0) >= s).length;
    if (count * 2 > voters.length && s > best) best = s;
  }
  return best;
}

const voterSets = fc.uniqueArray(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 9 }).map((ids) => ids.map(replicaId));
const matches = fc.dictionary(fc.integer({ min: 1, max: 12 }).map(String), fc.integer({ min: 0, max: 40 }));

function toMap(record: Record<string, number>): Map<ReplicaId, number> {
  return new Map(Object.entries(record).map(([k, v]) => [replicaId(Number(k)), v]));
}

test("quorum: majority sizes make any two majorities intersect", () => {
  for (let n = 1; n <= 64; n++) {
    assert.ok(2 * majority(n) > n);
    assert.ok(2 * (majority(n) - 1) <= n, `majority(${n}) is the smallest intersecting size`);
  }
});

test("quorum: quorumMatch equals the dumb reference", () => {
  console.log(`fast-check seed ${SEED}`);
  fc.assert(
    fc.property(voterSets, matches, (voters, record) => {
      const match = toMap(record);
      assert.equal(quorumMatch(voters, (v) => match.get(v) ?? 0), dumbQuorumMatch(voters, match));
    }),
    { seed: SEED, numRuns: RUNS },
  );
});

test("quorum: the joint match is the minimum over configurations, and joint majorities need every one", () => {
  console.log(`fast-check seed ${SEED + 1}`);
  fc.assert(
    fc.property(fc.array(voterSets, { minLength: 1, maxLength: 3 }), matches, fc.uniqueArray(fc.integer({ min: 1, max: 12 })), (configs, record, set) => {
      const match = toMap(record);
      const expected = Math.min(...configs.map((c) => dumbQuorumMatch(c, match)));
      assert.equal(jointQuorumMatch(configs, (v) => match.get(v) ?? 0), expected);
      const has = (v: ReplicaId): boolean => set.includes(v);
      const dumb = configs.every((c) => c.filter(has).length * 2 > c.length);
      assert.equal(hasJointMajority(configs, has), dumb);
      assert.equal(hasMajority(configs[0], has), configs[0].filter(has).length * 2 > configs[0].length);
    }),
    { seed: SEED + 1, numRuns: RUNS },
  );
});
