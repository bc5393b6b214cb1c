// Goal: the simulator's checkers are not decorative: each planted bug (a test-only flag that
// breaks one safety rule of the core) must be caught within a bounded number of seeds, and the
// test prints which checker caught it. Method: run seeds in order under a "leader churn" fault
// profile (frequent leader-focused crashes and partitions; the swarm still draws every other
// knob) until a violation appears; assert one appears within BOUND seeds. The same seeds without
// the bug pass (the sweep in seeds.test.ts and the control below), so the violation is the bug's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PLANTED_BUGS, type PlantedBug } from "../../src/paxos/config.js";
import { runSimulation } from "../../src/sim/cluster.js";
import type { FaultProfile } from "../../src/sim/profile.js";

const BOUND = 200;
const CHURN: Partial<FaultProfile> = { leaderFocus: 1, faultIntervalMs: 100, partitions: true, crashes: true, crashAfterCommitRate: 0.05 };

function firstCatch(bug: PlantedBug | undefined, seeds: number): { seed: number; checker: string; message: string } | undefined {
  for (let seed = 1; seed <= seeds; seed++) {
    const result = runSimulation({ seed, plantedBug: bug, profile: CHURN });
    if (result.violations.length > 0) {
      const v = result.violations[0];
      return { seed, checker: v.checker, message: v.message.split("\n")[0] };
    }
  }
  return undefined;
}

for (const bug of PLANTED_BUGS) {
  test(`mutation: planted bug "${bug}" is caught within ${BOUND} seeds`, () => {
    const caught = firstCatch(bug, BOUND);
    assert.ok(caught !== undefined, `planted bug ${bug} survived ${BOUND} seeds: the checkers missed it`);
    console.log(`${bug}: caught by the ${caught.checker} checker at seed ${caught.seed} (npm run sim -- --seed ${caught.seed} --bug ${bug}): ${caught.message.slice(0, 200)}`);
  });
}

test("mutation control: the same churn profile without a planted bug passes", () => {
  const caught = firstCatch(undefined, 60);
  assert.equal(caught, undefined, `a violation without any planted bug: ${JSON.stringify(caught)}`);
});
