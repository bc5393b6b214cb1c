// Shared by the checker's tests: a compact way to write histories by hand, and a brute-force
// reference checker (STYLE.md §13) that knows nothing of the search, the cache or the models'
// step functions: it tries every order of the operations that respects real time, keeping or
// dropping each unknown-outcome operation, against a plain sequential specification.
import type { Operation } from "../../../src/sim/linearizability/mod.js";

/** A completed operation: called at `call`, returned `output` at `ret`. */
export function done<I, O>(clientId: number, call: number, ret: number, input: I, output: O): Operation<I, O> {
  return { clientId, input, call, output, return: ret };
}

/** An operation with an unknown outcome, called at `call`. */
export function unknown<I, O>(clientId: number, call: number, input: I): Operation<I, O> {
  return { clientId, input, call, output: undefined, return: Infinity };
}

/**
 * A sequential specification for the brute-force checker: from a state and an input, the next
 * state and the output the operation must have returned.
 */
export interface SequentialSpec<S, I, O> {
  init(): S;
  apply(state: S, input: I): { state: S; output: O };
}

/** Largest history the brute force accepts: 2^unknowns × n! orders get expensive fast. */
const BRUTE_FORCE_OPERATIONS_MAX = 8;

/**
 * True iff some subset of the unknown operations, together with all completed ones, has an order
 * consistent with real time (a before b whenever a returned strictly before b was called) in which
 * every completed operation's output equals the spec's. Outputs compare as JSON.
 */
export function bruteForceLinearizable<S, I, O>(spec: SequentialSpec<S, I, O>, operations: readonly Operation<I, O>[]): boolean {
  if (operations.length > BRUTE_FORCE_OPERATIONS_MAX) throw new Error("history too long for the brute force");
  const unknowns = operations.map((op, i) => (op.output === undefined ? i : -1)).filter((i) => i >= 0);
  for (let mask = 0; mask < 1 << unknowns.length; mask++) {
    const dropped = new Set(unknowns.filter((_, bit) => (mask & (1 << bit)) !== 0));
    const kept = operations.filter((_, i) => !dropped.has(i));
    for (const order of permutations(kept.length)) {
      if (respectsRealTime(kept, order) && legal(spec, kept, order)) return true;
    }
  }
  return false;
}

function respectsRealTime<I, O>(operations: readonly Operation<I, O>[], order: number[]): boolean {
  for (let i = 0; i < order.length; i++) {
    for (let j = i + 1; j < order.length; j++) {
      if (operations[order[j]].return < operations[order[i]].call) return false;
    }
  }
  return true;
}

function legal<S, I, O>(spec: SequentialSpec<S, I, O>, operations: readonly Operation<I, O>[], order: number[]): boolean {
  let state = spec.init();
  for (const index of order) {
    const next = spec.apply(state, operations[index].input);
    const observed = operations[index].output;
    if (observed !== undefined && JSON.stringify(observed) !== JSON.stringify(next.output)) return false;
    state = next.state;
  }
  return true;
}

/** Every permutation of 0..n-1 (Heap's algorithm, iterative). */
export function permutations(n: number): number[][] {
  const items = Array.from({ length: n }, (_, i) => i);
  const result = [items.slice()];
  const counters = new Array<number>(n).fill(0);
  let i = 0;
  while (i < n) {
    if (counters[i] < i) {
      const swapWith = i % 2 === 0 ? 0 : counters[i];
      [items[swapWith], items[i]] = [items[i], items[swapWith]];
      result.push(items.slice());
      counters[i]++;
      i = 0;
    } else {
      counters[i] = 0;
      i++;
    }
  }
  return result;
}
