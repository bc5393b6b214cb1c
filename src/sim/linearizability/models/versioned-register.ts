// A ZooKeeper-style versioned register: a znode's data and its data version (Stat.version).
// setData(value, expectedVersion) succeeds when expectedVersion is -1 or equals the current
// version, and then returns the new version (old + 1); otherwise it fails with BadVersion and
// changes nothing. getData returns (value, version). ZooKeeper promises linearizable writes and,
// for a client that issues sync() first, linearizable reads; a history from plain getData calls
// may legitimately read stale data, so record reads that follow a sync (or run against the
// leader) when checking them with this model.
import { ILLEGAL, describeValue, hashValue, mix32, partitionByKey, type Illegal, type Model, type Value } from "../model.js";

/** ZooKeeper's "any version" for setData. */
export const ANY_VERSION = -1;

export interface VersionedState {
  readonly value: Value;
  readonly version: number;
}

/** `key` names the znode (its path); operations with different keys are checked separately. */
export type VersionedRegisterInput =
  | { kind: "getData"; key?: string }
  | { kind: "setData"; key?: string; value: Value; expectedVersion: number };

export type VersionedRegisterOutput =
  | { kind: "getData"; value: Value; version: number }
  | { kind: "setData"; ok: true; version: number }
  | { kind: "setData"; ok: false; error: "BadVersion" };

export interface VersionedRegisterOptions {
  /** The znode before the history: default data null at version 0 (as right after create). */
  initial?: VersionedState;
}

export function versionedRegisterModel(
  options: VersionedRegisterOptions = {},
): Model<VersionedState, VersionedRegisterInput, VersionedRegisterOutput> {
  const initial = options.initial ?? { value: null, version: 0 };
  return {
    init: () => initial,
    step: stepVersioned,
    equal: (a, b) => a.value === b.value && a.version === b.version,
    hash: (state) => hashValue(state.value) ^ mix32(state.version + 0x3c6ef372),
    partition: (operations) => partitionByKey(operations, (input) => input.key ?? ""),
    describeOperation: describeVersionedOperation,
    describeState: (state) => `${describeValue(state.value)}@v${state.version}`,
  };
}

function stepVersioned(
  state: VersionedState,
  input: VersionedRegisterInput,
  output: VersionedRegisterOutput | undefined,
): VersionedState | Illegal {
  if (input.kind === "getData") {
    if (output === undefined) return state;
    if (output.kind !== "getData") return ILLEGAL;
    return output.value === state.value && output.version === state.version ? state : ILLEGAL;
  }
  const matches = input.expectedVersion === ANY_VERSION || input.expectedVersion === state.version;
  if (output !== undefined) {
    if (output.kind !== "setData" || output.ok !== matches) return ILLEGAL;
    if (output.ok && output.version !== state.version + 1) return ILLEGAL;
  }
  return matches ? { value: input.value, version: state.version + 1 } : state;
}

function describeVersionedOperation(input: VersionedRegisterInput, output: VersionedRegisterOutput | undefined): string {
  const where = input.key === undefined ? "" : `${input.key}, `;
  let result = "?";
  if (output !== undefined) {
    if (output.kind === "getData") result = `${describeValue(output.value)}@v${output.version}`;
    else result = output.ok ? `ok v${output.version}` : output.error;
  }
  if (input.kind === "getData") return `getData(${input.key ?? ""}) → ${result}`;
  return `setData(${where}${describeValue(input.value)}, v${input.expectedVersion}) → ${result}`;
}
