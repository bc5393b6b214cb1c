// The simulator's state machine: a string key-value map with get, put and compare-and-set, the
// operations the linearizability checker's kvModel understands. Deterministic; the snapshot is
// the entries in key order, so two replicas with the same state have byte-equal snapshots.
import { assert } from "../util/assert.js";
import type { LogPosition, StateMachine } from "../util/state-machine.js";

export type KvOp =
  | { readonly kind: "get"; readonly key: string }
  | { readonly kind: "put"; readonly key: string; readonly value: string }
  | { readonly kind: "cas"; readonly key: string; readonly expected: string | null; readonly value: string };

/** get → the value (null when absent); put → "ok"; cas → whether it swapped. */
export type KvResult = string | null | boolean;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeKvOp(op: KvOp): Uint8Array {
  return encoder.encode(JSON.stringify(op));
}

export function decodeKvOp(bytes: Uint8Array): KvOp {
  const op = JSON.parse(decoder.decode(bytes)) as KvOp;
  assert(typeof op.key === "string", "kv op has a key");
  return op;
}

export function encodeKvResult(result: KvResult): Uint8Array {
  return encoder.encode(JSON.stringify(result));
}

export function decodeKvResult(bytes: Uint8Array): KvResult {
  return JSON.parse(decoder.decode(bytes)) as KvResult;
}

export class KvStateMachine implements StateMachine<Uint8Array> {
  private map = new Map<string, string>();
  private lastPosition: LogPosition = { slot: 0, index: 0 };

  get(key: string): string | null {
    return this.map.get(key) ?? null;
  }

  get size(): number {
    return this.map.size;
  }

  apply(command: Uint8Array, position: LogPosition): Uint8Array {
    assert(
      position.slot > this.lastPosition.slot || (position.slot === this.lastPosition.slot && position.index > this.lastPosition.index),
      "positions strictly increase",
    );
    this.lastPosition = position;
    return encodeKvResult(this.execute(decodeKvOp(command)));
  }

  execute(op: KvOp): KvResult {
    switch (op.kind) {
      case "get":
        return this.get(op.key);
      case "put":
        this.map.set(op.key, op.value);
        return "ok";
      case "cas": {
        if (this.get(op.key) !== op.expected) return false;
        this.map.set(op.key, op.value);
        return true;
      }
    }
  }

  snapshot(): Uint8Array {
    const entries = [...this.map.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return encoder.encode(JSON.stringify(entries));
  }

  restore(snapshot: Uint8Array): void {
    const entries = JSON.parse(decoder.decode(snapshot)) as Array<[string, string]>;
    this.map = new Map(entries);
    this.lastPosition = { slot: 0, index: 0 };
  }
}
