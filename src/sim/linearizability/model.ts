// The vocabulary of the linearizability checker: a sequential specification (Model) and the
// observed history it is checked against (Operation). The shape follows Porcupine's model.go
// (anishathalye/porcupine) with one change: an illegal step returns a unique symbol instead of a
// boolean pair, so states may be any value, including undefined, null or false.

/** Returned by Model.step when the operation cannot take effect with that output in that state. */
export const ILLEGAL: unique symbol = Symbol("linearizability.illegal");
export type Illegal = typeof ILLEGAL;

/**
 * One operation as a client observed it. Times are in any one unit (virtual ms in the simulator,
 * monotonic ms in a real test) shared by all clients of the history.
 *
 * An operation whose outcome is unknown (a timeout, a crashed client, a connection cut while the
 * request was in flight) has `output: undefined` and `return: Infinity`: it may have taken effect
 * at any point after its call, or never. `undefined` is reserved for that meaning, so models use
 * a defined value (e.g. "ok") for operations that return nothing.
 */
export interface Operation<I, O> {
  /** Who issued it; used only in diagnostics (the checker orders operations by time alone). */
  clientId: number;
  input: I;
  /** When the request was sent. */
  call: number;
  /** The observed result; undefined exactly when the outcome is unknown. */
  output: O | undefined;
  /** When the result arrived; Infinity exactly when the outcome is unknown. */
  return: number;
}

/**
 * A sequential specification. `step` must be pure: it must not mutate `state`, because the search
 * keeps earlier states on its backtracking stack and in its cache.
 */
export interface Model<State, Input, Output> {
  /** The state before any operation. */
  init(): State;
  /**
   * The state after `input` took effect in `state` and produced `output`, or ILLEGAL when the
   * specification forbids that output there. With `output === undefined` (unknown outcome) it
   * must accept: return the state the operation would leave behind if it took effect now.
   */
  step(state: State, input: Input, output: Output | undefined): State | Illegal;
  /** Structural equality of states (a cache hit needs equal states, not just equal hashes). */
  equal(a: State, b: State): boolean;
  /** A 32-bit hash consistent with `equal`: equal states must hash equally. */
  hash(state: State): number;
  /**
   * Optional P-compositionality split (Horn & Kroening 2015): independent sub-histories, e.g. one
   * per key, each checked on its own. Every operation must land in exactly one part.
   */
  partition?(operations: readonly Operation<Input, Output>[]): Operation<Input, Output>[][];
  /** A short human-readable rendering for reports, e.g. `cas(1→2) → true`. */
  describeOperation?(input: Input, output: Output | undefined): string;
  /** A short human-readable rendering of a state for reports. */
  describeState?(state: State): string;
}

/** Splits operations by a key, keeping each part in the original order (a `partition` helper). */
export function partitionByKey<I, O>(
  operations: readonly Operation<I, O>[],
  keyOf: (input: I) => string,
): Operation<I, O>[][] {
  const parts = new Map<string, Operation<I, O>[]>();
  for (const operation of operations) {
    const key = keyOf(operation.input);
    let part = parts.get(key);
    if (part === undefined) {
      part = [];
      parts.set(key, part);
    }
    part.push(operation);
  }
  return [...parts.values()];
}

/** Scalar values the bundled models store: strings, numbers, and null for "absent". */
export type Value = string | number | null;

/** Mixes a 32-bit integer (murmur3's finalizer): small input changes flip about half the bits. */
export function mix32(value: number): number {
  let h = value | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/** FNV-1a over UTF-16 code units, finalized with mix32. */
export function hashString(text: string): number {
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return mix32(h);
}

/** A hash of a Value; strings and numbers with the same spelling hash apart. */
export function hashValue(value: Value): number {
  if (value === null) return 0x5bd1e995;
  if (typeof value === "number") {
    return Number.isInteger(value) && Math.abs(value) < 2 ** 31 ? mix32(value ^ 0x27d4eb2f) : hashString(`#${value}`);
  }
  return hashString(value);
}

/** Renders a Value for reports: strings quoted, null as "nil". */
export function describeValue(value: Value): string {
  if (value === null) return "nil";
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}
