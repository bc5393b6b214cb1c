// Random histories for the checker's property tests. Each workload pairs a plain sequential
// specification (written separately from the models under test, so the differential test
// compares two independent descriptions) with a generator of inputs. generateHistory executes
// random operations against that specification with random but valid real-time intervals: each
// operation takes effect at one instant between its invoke and its completion, some never
// complete (fail: dropped; info: unknown, and may still take effect later, or never).
import { assert } from "../../../src/util/assert.js";
import type { SeededRandom } from "../../../src/util/random.js";
import {
  ANY_VERSION,
  HistoryRecorder,
  type KvInput,
  type KvOutput,
  type LogEntry,
  type LogInput,
  type LogOutput,
  type OpId,
  type Operation,
  type Value,
  type VersionedRegisterInput,
  type VersionedRegisterOutput,
} from "../../../src/sim/linearizability/mod.js";
import type { SequentialSpec } from "./helpers.js";

export interface Workload<S, I, O> {
  spec: SequentialSpec<S, I, O>;
  /** A random input; `fresh()` gives a value never used before (written values are unique). */
  nextInput(random: SeededRandom, state: S, fresh: () => number): I;
  /** A plausible but possibly wrong output for a completed operation (for differential tests). */
  perturb(random: SeededRandom, operation: Operation<I, O>): O;
}

export interface GenerateOptions {
  clients: number;
  operations: number;
  /** Probability that an operation in flight ends without a reply (fail or info). */
  crashRate: number;
}

interface Flight<I, O> {
  id: OpId;
  input: I;
  applied: boolean;
  output: O | undefined;
}

export function generateHistory<S, I, O>(workload: Workload<S, I, O>, random: SeededRandom, options: GenerateOptions): Operation<I, O>[] {
  const recorder = new HistoryRecorder<I, O>();
  const flights = new Map<number, Flight<I, O>>();
  const zombies: I[] = [];
  let state = workload.spec.init();
  let time = 0;
  let invoked = 0;
  let fresh = 0;
  const iterationsMax = options.operations * 1000;
  for (let iteration = 0; invoked < options.operations || flights.size > 0; iteration++) {
    assert(iteration < iterationsMax, "the generator makes progress");
    time += random.chance(0.25) ? 0 : 1 + random.int(4); // equal times happen too
    const action = random.int(6);
    const all = [...flights.entries()];
    const pending = all.filter(([, flight]) => !flight.applied);
    const applied = all.filter(([, flight]) => flight.applied);
    if (action === 0 && invoked < options.operations && flights.size < options.clients) {
      const idle = Array.from({ length: options.clients }, (_, client) => client).filter((client) => !flights.has(client));
      const client = idle[random.int(idle.length)];
      const input = workload.nextInput(random, state, () => ++fresh);
      flights.set(client, { id: recorder.invoke(client, input, time), input, applied: false, output: undefined });
      invoked++;
    } else if ((action === 1 || action === 2) && pending.length > 0) {
      const [, flight] = pending[random.int(pending.length)];
      const next = workload.spec.apply(state, flight.input); // the linearization point
      state = next.state;
      flight.applied = true;
      flight.output = next.output;
    } else if (action === 3 && applied.length > 0) {
      const [client, flight] = applied[random.int(applied.length)];
      if (random.chance(options.crashRate)) recorder.info(flight.id, time); // took effect, reply lost
      else recorder.ok(flight.id, flight.output!, time);
      flights.delete(client);
    } else if (action === 4 && pending.length > 0 && random.chance(options.crashRate)) {
      const [client, flight] = pending[random.int(pending.length)];
      if (random.chance(0.5)) {
        recorder.fail(flight.id, time); // definitely never takes effect
      } else {
        recorder.info(flight.id, time); // may still take effect later
        zombies.push(flight.input);
      }
      flights.delete(client);
    } else if (action === 5 && zombies.length > 0 && random.chance(0.3)) {
      const [input] = zombies.splice(random.int(zombies.length), 1);
      state = workload.spec.apply(state, input).state;
    }
  }
  return recorder.operations();
}

// ---- KV (and, with one key, the CAS register) ------------------------------------------------

export function kvWorkload(keyCount: number): Workload<ReadonlyMap<string, Value>, KvInput, KvOutput> {
  const keys = Array.from({ length: keyCount }, (_, i) => `k${i}`);
  return {
    spec: {
      init: () => new Map(),
      apply(state, input) {
        const current = state.get(input.key) ?? null;
        if (input.kind === "get") return { state, output: current };
        if (input.kind === "cas" && current !== input.expected) return { state, output: false };
        const next = new Map(state);
        next.set(input.key, input.value);
        return { state: next, output: input.kind === "put" ? "ok" : true };
      },
    },
    nextInput(random, state, fresh) {
      const key = keys[random.int(keys.length)];
      const roll = random.int(10);
      if (roll < 4) return { kind: "get", key };
      if (roll < 7) return { kind: "put", key, value: fresh() };
      const current = state.get(key) ?? null;
      return { kind: "cas", key, expected: random.chance(0.6) ? current : random.chance(0.5) ? null : fresh(), value: fresh() };
    },
    perturb(random, operation) {
      const output = operation.output;
      if (typeof output === "boolean") return !output;
      if (output === "ok") return "ok";
      return random.chance(0.3) ? null : random.int(6);
    },
  };
}

// ---- ZooKeeper versioned register ----------------------------------------------------------------

export function versionedWorkload(): Workload<{ value: Value; version: number }, VersionedRegisterInput, VersionedRegisterOutput> {
  return {
    spec: {
      init: () => ({ value: null, version: 0 }),
      apply(state, input) {
        if (input.kind === "getData") return { state, output: { kind: "getData", value: state.value, version: state.version } };
        if (input.expectedVersion !== ANY_VERSION && input.expectedVersion !== state.version) {
          return { state, output: { kind: "setData", ok: false, error: "BadVersion" } };
        }
        const next = { value: input.value, version: state.version + 1 };
        return { state: next, output: { kind: "setData", ok: true, version: next.version } };
      },
    },
    nextInput(random, state, fresh) {
      if (random.chance(0.4)) return { kind: "getData" };
      const expectedVersion = random.chance(0.3) ? ANY_VERSION : random.chance(0.6) ? state.version : random.int(state.version + 2);
      return { kind: "setData", value: `d${fresh()}`, expectedVersion };
    },
    perturb(random, operation) {
      const output = operation.output!;
      if (output.kind === "getData") {
        return random.chance(0.5)
          ? { ...output, version: Math.max(0, output.version + (random.chance(0.5) ? 1 : -1)) }
          : { ...output, value: random.chance(0.5) ? null : `d${random.int(5)}` };
      }
      if (!output.ok) return { kind: "setData", ok: true, version: 1 + random.int(3) };
      return random.chance(0.5) ? { kind: "setData", ok: false, error: "BadVersion" } : { ...output, version: output.version + 1 };
    },
  };
}

// ---- Append-only log -----------------------------------------------------------------------------

export function logWorkload(): Workload<readonly Value[], LogInput, LogOutput> {
  return {
    spec: {
      init: () => [],
      apply(state, input) {
        if (input.kind === "append") return { state: [...state, input.value], output: state.length };
        const entries: LogEntry[] = state.slice(input.from).map((value, i) => [input.from + i, value]);
        return { state, output: entries };
      },
    },
    nextInput(random, state, fresh) {
      if (random.chance(0.5)) return { kind: "append", value: `e${fresh()}` };
      return { kind: "read", from: random.int(state.length + 2) };
    },
    perturb(random, operation) {
      const output = operation.output!;
      if (typeof output === "number") return Math.max(0, output + (random.chance(0.5) ? 1 : -1));
      if (output.length > 0 && random.chance(0.5)) return output.slice(0, -1);
      if (output.length > 1 && random.chance(0.5)) return [output[0], [output[0][0] + 1, output[output.length - 1][1]]];
      return [...output, [output.length === 0 ? 0 : output[output.length - 1][0] + 1, `e${random.int(5)}`]];
    },
  };
}
