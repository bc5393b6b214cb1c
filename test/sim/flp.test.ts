// Goal: make the FLP impossibility result visible and check the simulator's claim about it: an
// adversarial scheduler that delays exactly the messages which would let a value be chosen keeps
// competing proposers from EVER deciding (no slot chosen, leadership changes again and again),
// while every safety check keeps passing; the same setup without the adversary decides at once.
// Method: runFlpExperiment with and without the adversary on a few seeds (10 virtual seconds).
import { test } from "node:test";
import assert from "node:assert/strict";
import { runFlpExperiment } from "../../src/sim/flp.js";

for (const seed of [1, 2, 3]) {
  test(`flp: seed ${seed}: the adversary prevents any decision, safety holds; without it the group decides`, () => {
    const held = runFlpExperiment({ seed, durationMs: 10_000, adversary: true });
    const free = runFlpExperiment({ seed, durationMs: 10_000, adversary: false });
    console.log(`seed ${seed}: with adversary ${JSON.stringify({ ...held, violations: held.violations.length })}`);
    console.log(`seed ${seed}: without       ${JSON.stringify({ ...free, violations: free.violations.length })}`);
    assert.equal(held.chosenSlots, 0, "no slot is chosen while the adversary runs");
    assert.equal(held.acceptableAcceptsDelivered, 0, "no acceptor ever received an Accept it could take");
    assert.ok(held.leaderships >= 10, `proposers keep competing (${held.leaderships} leaderships)`);
    assert.deepEqual(held.violations, []);
    assert.ok(free.chosenSlots > 0 && free.firstChosenMs !== undefined && free.firstChosenMs < 1000, "without the adversary the group decides quickly");
    assert.deepEqual(free.violations, []);
  });
}
