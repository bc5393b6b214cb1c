// Quorum arithmetic, kept tiny and pure so it can be checked against a deliberately dumb reference
// (test/paxos/quorum.test.ts, after etcd-io/raft quorum/quick_test.go). Majority quorums: Q1 and
// Q2 are both majorities of the voters, so every phase-1 quorum meets every phase-2 quorum.
import { assert } from "../util/assert.js";
import type { ReplicaId, Slot } from "./types.js";

export function majority(voterCount: number): number {
  assert(Number.isSafeInteger(voterCount) && voterCount >= 1, `voter count must be >= 1: ${voterCount}`);
  const size = Math.floor(voterCount / 2) + 1;
  assert(size * 2 > voterCount, "two majorities always intersect");
  return size;
}

/**
 * The highest slot that a majority of `voters` has matched: sort the match slots in descending
 * order and take the majority-th. `matchOf` returns 0 for a voter with no known match.
 */
export function quorumMatch(voters: readonly ReplicaId[], matchOf: (voter: ReplicaId) => Slot): Slot {
  assert(voters.length >= 1, "a configuration has at least one voter");
  const matches = new Array<number>(voters.length);
  for (let i = 0; i < voters.length; i++) {
    const match = matchOf(voters[i]);
    assert(Number.isSafeInteger(match) && match >= 0, `bad match slot ${match}`);
    matches[i] = match;
  }
  matches.sort((a, b) => b - a);
  return matches[majority(voters.length) - 1];
}

/** The highest slot matched by a majority of EVERY configuration (joint rule during a change). */
export function jointQuorumMatch(configs: ReadonlyArray<readonly ReplicaId[]>, matchOf: (voter: ReplicaId) => Slot): Slot {
  assert(configs.length >= 1, "at least one configuration");
  let result = Number.MAX_SAFE_INTEGER;
  for (const voters of configs) result = Math.min(result, quorumMatch(voters, matchOf));
  assert(result < Number.MAX_SAFE_INTEGER, "joint match computed");
  return result;
}

/** True when the members for which `has` holds form a majority of `voters`. */
export function hasMajority(voters: readonly ReplicaId[], has: (voter: ReplicaId) => boolean): boolean {
  assert(voters.length >= 1, "a configuration has at least one voter");
  let count = 0;
  for (const voter of voters) if (has(voter)) count++;
  return count >= majority(voters.length);
}

/** True when `has` holds for a majority of every configuration. */
export function hasJointMajority(configs: ReadonlyArray<readonly ReplicaId[]>, has: (voter: ReplicaId) => boolean): boolean {
  assert(configs.length >= 1, "at least one configuration");
  for (const voters of configs) if (!hasMajority(voters, has)) return false;
  return true;
}
