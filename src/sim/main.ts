// The simulator's command line.
//   npm run sim -- --seeds 1000 [--from 1]     many seeds, each with its own fault profile
//   npm run sim -- --seed 42 --trace           one seed with a readable event trace
//   npm run sim -- --seed 42 --bug adoptLowestBallot   a planted bug (mutation check)
//   npm run sim -- --adversary flp [--seed 1] [--ms 20000]   FLP made visible (see flp.ts)
// A failing seed prints its one-line replay command. Exit status 1 if any seed failed.
import { Command } from "commander";
import type { PlantedBug } from "../paxos/config.js";
import { replayCommand, runSimulation, type SimulationResult } from "./cluster.js";
import { runFlp } from "./flp.js";
import { formatProfile } from "./profile.js";

interface Options {
  seed?: string;
  seeds?: string;
  from?: string;
  trace?: boolean;
  bug?: string;
  adversary?: string;
  ms?: string;
  quiet?: boolean;
}

function printFailure(result: SimulationResult): void {
  const v = result.violations[0];
  console.log(`seed ${result.seed} FAILED (${v.checker}) at ${v.timeMs.toFixed(1)}ms: ${v.message}`);
  console.log(`  profile: ${formatProfile(result.profile)}`);
  console.log(`  replay:  ${result.replay}`);
}

function runOne(seed: number, options: Options): number {
  const trace = options.trace === true ? (line: string) => console.log(line) : undefined;
  const result = runSimulation({ seed, trace, plantedBug: options.bug as PlantedBug | undefined });
  console.log(`seed ${seed}: ${result.violations.length === 0 ? "ok" : "FAILED"} ${JSON.stringify(result.stats)}`);
  if (result.violations.length > 0) printFailure(result);
  return result.violations.length === 0 ? 0 : 1;
}

function runMany(count: number, from: number, options: Options): number {
  const started = performance.now();
  let failed = 0;
  for (let seed = from; seed < from + count; seed++) {
    const result = runSimulation({ seed, plantedBug: options.bug as PlantedBug | undefined });
    if (result.violations.length > 0) {
      failed++;
      printFailure(result);
    } else if (options.quiet !== true && (seed - from + 1) % 100 === 0) {
      console.log(`${seed - from + 1}/${count} seeds ok (${((performance.now() - started) / 1000).toFixed(1)}s)`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`${count} seeds from ${from}: ${count - failed} ok, ${failed} failed, ${seconds.toFixed(1)}s (${(seconds / count * 1000).toFixed(0)} ms/seed)`);
  return failed === 0 ? 0 : 1;
}

function main(): void {
  const program = new Command()
    .name("sim")
    .description("synod's deterministic simulator: the real Multi-Paxos replica under seeded faults")
    .option("--seed <n>", "run one seed")
    .option("--seeds <count>", "run this many seeds")
    .option("--from <n>", "first seed for --seeds", "1")
    .option("--trace", "print a readable event trace (with --seed)")
    .option("--bug <name>", "enable a planted bug (mutation check)")
    .option("--adversary <name>", "run an adversarial scheduler instead (flp)")
    .option("--ms <n>", "virtual milliseconds for --adversary flp", "20000")
    .option("--quiet", "only print failures and the summary");
  program.parse();
  const options = program.opts<Options>();
  if (options.adversary !== undefined) {
    if (options.adversary !== "flp") throw new Error(`unknown adversary ${options.adversary} (known: flp)`);
    process.exitCode = runFlp({ seed: Number(options.seed ?? 1), durationMs: Number(options.ms), print: (l) => console.log(l) });
    return;
  }
  if (options.seed !== undefined) process.exitCode = runOne(Number(options.seed), options);
  else process.exitCode = runMany(Number(options.seeds ?? 100), Number(options.from), options);
}

main();
export { replayCommand };
