// An append-only log (one Kafka topic-partition): append(v) returns the offset v landed at, and
// read(from) returns the entries from that offset on. The state is the whole log, so it is kept
// as an immutable chain of nodes that share their prefix: an append is one new node (O(1), no
// copy), the hash is a rolling hash of the values carried in each node, and two states compare
// by walking back only until the chains meet.
import { ILLEGAL, describeValue, hashValue, mix32, partitionByKey, type Illegal, type Model, type Value } from "../model.js";

/** One node per entry; `previous` is the log without this entry. */
export interface LogState {
  /** Entries in the log; this node's entry is at offset length - 1. */
  readonly length: number;
  /** Rolling hash of all values, oldest first. */
  readonly hash: number;
  readonly value: Value;
  readonly previous: LogState | null;
}

/** `key` names the log (e.g. "topic-0"); different keys are checked separately. */
export type LogInput = { kind: "append"; key?: string; value: Value } | { kind: "read"; key?: string; from: number };
export type LogEntry = readonly [offset: number, value: Value];
/** append → the offset it was given; read → the entries, offsets contiguous from `from`. */
export type LogOutput = number | readonly LogEntry[];

export interface LogModelOptions {
  /**
   * "complete" (default): read(from) returns every entry from `from` to the end of the log, as a
   * linearizable read must. "prefix": it may return any prefix of them, possibly none, like a
   * Kafka fetch bounded by maxBytes; offsets and values must still match. Reading from beyond the
   * end returns no entries in both modes.
   */
  reads?: "complete" | "prefix";
}

const EMPTY: LogState = { length: 0, hash: 0x2545f491, value: null, previous: null };

export function logModel(options: LogModelOptions = {}): Model<LogState, LogInput, LogOutput> {
  const complete = (options.reads ?? "complete") === "complete";
  return {
    init: () => EMPTY,
    step: (state, input, output) => stepLog(state, input, output, complete),
    equal: equalLogs,
    hash: (state) => state.hash,
    partition: (operations) => partitionByKey(operations, (input) => input.key ?? ""),
    describeOperation: describeLogOperation,
    describeState: describeLog,
  };
}

function stepLog(state: LogState, input: LogInput, output: LogOutput | undefined, complete: boolean): LogState | Illegal {
  if (input.kind === "append") {
    if (output !== undefined && output !== state.length) return ILLEGAL;
    return { length: state.length + 1, hash: mix32(Math.imul(state.hash, 0x01000193) ^ hashValue(input.value)), value: input.value, previous: state };
  }
  if (output === undefined) return state;
  if (typeof output === "number") return ILLEGAL;
  return readMatches(state, input.from, output, complete) ? state : ILLEGAL;
}

/** Whether `entries` are the log's entries from `from` on (all of them, or a prefix). */
function readMatches(state: LogState, from: number, entries: readonly LogEntry[], complete: boolean): boolean {
  const available = Math.max(0, state.length - from);
  if (complete ? entries.length !== available : entries.length > available) return false;
  // Walk back from the newest entry past those the read did not return, then compare.
  let node: LogState = state;
  for (let skip = available - entries.length; skip > 0; skip--) node = node.previous!;
  for (let i = entries.length - 1; i >= 0; i--) {
    const [offset, value] = entries[i];
    if (offset !== node.length - 1 || value !== node.value) return false;
    node = node.previous!;
  }
  return true;
}

function equalLogs(a: LogState, b: LogState): boolean {
  if (a.length !== b.length || a.hash !== b.hash) return false;
  let x: LogState | null = a;
  let y: LogState | null = b;
  while (x !== y) {
    if (x === null || y === null || x.value !== y.value) return false;
    x = x.previous;
    y = y.previous;
  }
  return true;
}

/** Reports show at most this many entries of a log or a read: the newest ones. */
const DESCRIBE_ENTRIES_MAX = 8;

function describeEntries(entries: readonly LogEntry[], total: number): string {
  const shown = entries.slice(-DESCRIBE_ENTRIES_MAX).map(([offset, value]) => `${offset}:${describeValue(value)}`);
  return `[${total > shown.length ? "…, " : ""}${shown.join(", ")}]`;
}

function describeLog(state: LogState): string {
  const entries: LogEntry[] = [];
  for (let node: LogState | null = state; node !== null && node.length > 0 && entries.length < DESCRIBE_ENTRIES_MAX; node = node.previous) {
    entries.push([node.length - 1, node.value]);
  }
  entries.reverse();
  return `${describeEntries(entries, state.length)} (length ${state.length})`;
}

function describeLogOperation(input: LogInput, output: LogOutput | undefined): string {
  const where = input.key === undefined ? "" : `${input.key}, `;
  if (input.kind === "append") return `append(${where}${describeValue(input.value)}) → ${output === undefined ? "?" : String(output)}`;
  const result = output === undefined ? "?" : typeof output === "number" ? String(output) : describeEntries(output, output.length);
  return `read(${where}from ${input.from}) → ${result}`;
}
