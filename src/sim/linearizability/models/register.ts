// Single registers: read/write, and read/write/compare-and-set. A register's state is its value,
// so hashing and equality are those of the value, and a step allocates nothing.
import { ILLEGAL, describeValue, hashValue, type Illegal, type Model, type Value } from "../model.js";

export type RegisterInput = { kind: "read" } | { kind: "write"; value: Value };
/** read → the value read; write → "ok". */
export type RegisterOutput = Value | "ok";

export type CasRegisterInput = RegisterInput | { kind: "cas"; expected: Value; value: Value };
/** read → the value read; write → "ok"; cas → whether it swapped. */
export type CasRegisterOutput = Value | "ok" | boolean;

export interface RegisterOptions {
  /** The value before any write; default null. */
  initial?: Value;
}

/** A read/write register. */
export function registerModel(options: RegisterOptions = {}): Model<Value, RegisterInput, RegisterOutput> {
  const initial = options.initial ?? null;
  return {
    init: () => initial,
    step: (state, input, output) => stepRegister(state, input, output),
    equal: (a, b) => a === b,
    hash: hashValue,
    describeOperation: describeRegisterOperation,
    describeState: describeValue,
  };
}

/** A read/write/compare-and-set register. */
export function casRegisterModel(options: RegisterOptions = {}): Model<Value, CasRegisterInput, CasRegisterOutput> {
  const initial = options.initial ?? null;
  return {
    init: () => initial,
    step: (state, input, output) => stepCasRegister(state, input, output),
    equal: (a, b) => a === b,
    hash: hashValue,
    describeOperation: describeRegisterOperation,
    describeState: describeValue,
  };
}

/** The step of one register; shared with the per-key KV model. */
export function stepCasRegister(state: Value, input: CasRegisterInput, output: CasRegisterOutput | undefined): Value | Illegal {
  if (input.kind !== "cas") return stepRegister(state, input, output);
  const swaps = state === input.expected;
  // Unknown outcome: it took effect now, so it swapped exactly when the value matched.
  if (output === undefined) return swaps ? input.value : state;
  if (output !== swaps) return ILLEGAL;
  return swaps ? input.value : state;
}

function stepRegister(state: Value, input: RegisterInput, output: CasRegisterOutput | undefined): Value | Illegal {
  if (input.kind === "write") return input.value;
  // A read changes nothing; with an unknown outcome any value is acceptable.
  if (output === undefined || output === state) return state;
  return ILLEGAL;
}

export function describeRegisterOperation(input: CasRegisterInput, output: CasRegisterOutput | undefined): string {
  const result = output === undefined ? "?" : typeof output === "boolean" ? String(output) : output === "ok" && input.kind !== "read" ? "ok" : describeValue(output);
  switch (input.kind) {
    case "read":
      return `read() → ${result}`;
    case "write":
      return `write(${describeValue(input.value)}) → ${result}`;
    case "cas":
      return `cas(${describeValue(input.expected)}→${describeValue(input.value)}) → ${result}`;
  }
}
