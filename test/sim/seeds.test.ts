// Goal: the Multi-Paxos core survives 1,000 seeded runs of the simulator with faults on (each
// seed draws its own fault profile: crashes with lost and torn writes, latent disk errors,
// partitions, loss, duplication, delay spikes, clock drift, membership changes, transfers) and a
// liveness phase, with zero violations of agreement, durability, convergence, linearizability,
// liveness or any assertion. Method: run seeds 1..1000 in this process, print the failing seeds'
// replay commands, and also require that the rare protocol branches were actually reached
// (coverage marks), so a quiet sweep cannot pass by exercising nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runSimulation } from "../../src/sim/cluster.js";
import { formatProfile } from "../../src/sim/profile.js";

const SEEDS = 1000;

/** Branches every sweep must reach: each is a reason some code exists. */
const REQUIRED_MARKS = [
  "election",
  "recoveredValue",
  "recoveredChosen",
  "recoveredContested",
  "reacceptStep",
  "truncateDiffering",
  "truncateStaleTail",
  "lowerMatch",
  "snapshotSent",
  "snapshotInstalled",
  "loadRequested",
  "leaseRead",
  "leaseFallback",
  "readIndexServed",
  "stickyReject",
  "checkQuorumStepDown",
  "membershipChange",
  "removedLeaderStepDown",
  "recoveringExit",
  "transfer",
  "announceCommit",
  "pipelinedReady",
  "pipelineHeld",
];

test(`simulator: ${SEEDS} seeds with faults, zero violations`, () => {
  console.log(`seeds 1..${SEEDS}; replay one with: npm run sim -- --seed N --trace`);
  const started = performance.now();
  const failures: string[] = [];
  const marks: Record<string, number> = {};
  let operations = 0;
  let chosen = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const result = runSimulation({ seed });
    operations += result.stats.operations;
    chosen += result.stats.chosenSlots;
    for (const [name, count] of Object.entries(result.stats.marks)) marks[name] = (marks[name] ?? 0) + count;
    if (result.violations.length > 0) {
      const v = result.violations[0];
      failures.push(`seed ${seed} (${v.checker}): ${v.message.split("\n")[0]}\n  profile: ${formatProfile(result.profile)}\n  replay: ${result.replay}`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`${SEEDS} seeds in ${seconds.toFixed(1)}s: ${operations} client operations, ${chosen} chosen slots`);
  console.log(`coverage marks: ${JSON.stringify(marks)}`);
  assert.deepEqual(failures, [], failures.join("\n"));
  const unreached = REQUIRED_MARKS.filter((m) => (marks[m] ?? 0) === 0);
  assert.deepEqual(unreached, [], `branches never reached: ${unreached.join(", ")}`);
});
