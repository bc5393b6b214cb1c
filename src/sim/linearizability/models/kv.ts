// A key-value map with get/put/cas, checked one key at a time: keys are independent objects, so
// by locality the map is linearizable iff each key's sub-history is (Herlihy & Wing 1990), and
// the partitioned search is exponentially cheaper than one over the whole map. This is what the
// simulator's KV workload records. Absent keys read as null; cas with expected null creates.
import { ILLEGAL, describeValue, hashValue, partitionByKey, type Illegal, type Model, type Value } from "../model.js";

export type KvInput =
  | { kind: "get"; key: string }
  | { kind: "put"; key: string; value: Value }
  | { kind: "cas"; key: string; expected: Value; value: Value };
/** get → the value (null when absent); put → "ok"; cas → whether it swapped. */
export type KvOutput = Value | "ok" | boolean;

/**
 * The KV model. Its state is the value of ONE key: the checker always applies `partition`, which
 * puts each key's operations in their own partition.
 */
export function kvModel(): Model<Value, KvInput, KvOutput> {
  return {
    init: () => null,
    step: stepKv,
    equal: (a, b) => a === b,
    hash: hashValue,
    partition: (operations) => partitionByKey(operations, (input) => input.key),
    describeOperation: describeKvOperation,
    describeState: describeValue,
  };
}

/** One key's step: the same rules as casRegisterModel, without building a register input. */
function stepKv(state: Value, input: KvInput, output: KvOutput | undefined): Value | Illegal {
  switch (input.kind) {
    case "get":
      return output === undefined || output === state ? state : ILLEGAL;
    case "put":
      return input.value;
    case "cas": {
      const swaps = state === input.expected;
      if (output !== undefined && output !== swaps) return ILLEGAL;
      return swaps ? input.value : state;
    }
  }
}

function describeKvOperation(input: KvInput, output: KvOutput | undefined): string {
  const result = output === undefined ? "?" : typeof output === "boolean" ? String(output) : output === "ok" && input.kind !== "get" ? "ok" : describeValue(output);
  switch (input.kind) {
    case "get":
      return `get(${input.key}) → ${result}`;
    case "put":
      return `put(${input.key}, ${describeValue(input.value)}) → ${result}`;
    case "cas":
      return `cas(${input.key}, ${describeValue(input.expected)}→${describeValue(input.value)}) → ${result}`;
  }
}
