// How fast the linearizability checker decides a realistic simulator history: `clients` clients
// each issue `ops` get/put/cas operations on a KV store with `keys` keys (P-compositionality
// splits it per key), each taking effect at a random instant inside its interval; a fraction
// `crash` of the operations end with an unknown outcome. Figures: operations checked per second
// for the valid history ("ok") and for the same history with one read corrupted ("illegal").
//
//   npm run bench -- lincheck [--clients 10] [--ops 1000] [--keys 10] [--crash 0.01] [--seed 1] [--repeat 10]
import { parseArgs, percentile, report, note, type BenchFigures } from "./harness.js";
import { SeededRandom } from "../src/util/random.js";
import { checkLinearizability, HistoryRecorder, kvModel, type KvInput, type KvOutput, type OpId, type Operation, type Value } from "../src/sim/linearizability/mod.js";

interface Flight {
  id: OpId;
  input: KvInput;
  output: KvOutput | undefined;
}

/** A linearizable history: each operation takes effect at one instant between call and return. */
function generate(random: SeededRandom, clients: number, opsPerClient: number, keys: number, crash: number): Operation<KvInput, KvOutput>[] {
  const recorder = new HistoryRecorder<KvInput, KvOutput>();
  const store = new Map<string, Value>();
  const remaining = new Array<number>(clients).fill(opsPerClient);
  const flights: Array<Flight | undefined> = new Array(clients).fill(undefined);
  let fresh = 0;
  for (let time = 0; remaining.some((n) => n > 0) || flights.some((f) => f !== undefined); time++) {
    const client = random.int(clients);
    const flight = flights[client];
    if (flight === undefined) {
      if (remaining[client] === 0) continue;
      remaining[client]--;
      const key = `k${random.int(keys)}`;
      const roll = random.int(10);
      const input: KvInput =
        roll < 5 ? { kind: "get", key } : roll < 8 ? { kind: "put", key, value: ++fresh } : { kind: "cas", key, expected: store.get(key) ?? null, value: ++fresh };
      flights[client] = { id: recorder.invoke(client, input, time), input, output: undefined };
    } else if (flight.output === undefined) {
      flight.output = apply(store, flight.input); // the linearization point
    } else {
      if (random.chance(crash)) recorder.info(flight.id, time);
      else recorder.ok(flight.id, flight.output, time);
      flights[client] = undefined;
    }
  }
  return recorder.operations();
}

function apply(store: Map<string, Value>, input: KvInput): KvOutput {
  const current = store.get(input.key) ?? null;
  if (input.kind === "get") return current;
  if (input.kind === "cas" && current !== input.expected) return false;
  store.set(input.key, input.value);
  return input.kind === "put" ? "ok" : true;
}

function main(): void {
  const args = parseArgs();
  const clients = Number(args.get("clients") ?? 10);
  const ops = Number(args.get("ops") ?? 1000);
  const keys = Number(args.get("keys") ?? 10);
  const crash = Number(args.get("crash") ?? 0.01);
  const seed = Number(args.get("seed") ?? 1);
  const repeat = Number(args.get("repeat") ?? 10);
  const history = generate(new SeededRandom(seed), clients, ops, keys, crash);
  note(`seed ${seed}: ${history.length} operations, ${history.filter((op) => op.output === undefined).length} unknown`);
  const reads = history.flatMap((op, i) => (op.input.kind === "get" && op.output !== undefined ? [i] : []));
  const corrupted = history.slice();
  const victim = reads[Math.floor(reads.length / 2)];
  corrupted[victim] = { ...history[victim], output: -1 };
  // Warm the JIT up on both histories first, so neither measurement pays for compilation.
  for (let i = 0; i < WARMUP_RUNS; i++) for (const h of [history, corrupted]) checkLinearizability(kvModel(), h);
  report("lincheck", {
    clients,
    opsPerClient: ops,
    keys,
    crash,
    seed,
    repeat,
    operations: history.length,
    ok: measure(history, repeat),
    illegal: measure(corrupted, repeat),
  });
}

const WARMUP_RUNS = 2;

/** Checks `repeat` times and reports the median. */
function measure(history: Operation<KvInput, KvOutput>[], repeat: number): BenchFigures {
  const runs = Array.from({ length: repeat }, () => checkLinearizability(kvModel(), history));
  const ms = percentile(runs.map((run) => run.elapsedMs), 50);
  const last = runs[runs.length - 1];
  return { verdict: last.verdict, steps: last.steps, msMedian: round(ms), opsPerSec: Math.round(history.length / (ms / 1000)) };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

main();
