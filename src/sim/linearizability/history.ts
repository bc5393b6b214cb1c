// Records what clients observe, in the order they observe it, as Operations for the checker.
// The recorder knows nothing of the system under test: it sees only invocations and completions
// (STYLE.md §15), so the same recorder serves the simulator, the ZooKeeper and the Kafka tests.
//
// Completion kinds, as in Knossos/Jepsen:
//   ok   - the client saw the result: the operation took effect between invoke and ok;
//   fail - the operation definitely did NOT take effect (e.g. rejected before it was proposed):
//          it is dropped from the history;
//   info - unknown (timeout, crash, cut connection): it may take effect at any time after its
//          invoke, or never; it is checked with `return: Infinity` and `output: undefined`.
// An operation never completed when operations() is called is treated like info.
//
// Concurrency per client: a client has at most ONE operation in flight; its next invoke must come
// after the previous operation completed (ok, fail or info). This matches a client's sequential
// program. A client that pipelines requests records each pipeline slot as its own clientId (the
// checker uses clientId only for diagnostics). After info, the same clientId may invoke again: the
// unknown operation stays concurrent with everything after it, which is what the checker assumes.
import { assert } from "../../util/assert.js";
import type { Operation } from "./model.js";

/** Identifies one recorded invocation. */
export type OpId = number & { readonly __brand: "linearizability.OpId" };

/** The default limit on recorded invocations; a history beyond it is a runaway workload. */
export const RECORDER_OPERATIONS_MAX_DEFAULT = 10_000_000;

export interface HistoryRecorderOptions {
  /** Most invocations one recorder accepts (default 10,000,000); beyond it invoke() throws. */
  operationsMax?: number;
}

const PENDING = 0;
const DONE_OK = 1;
const DONE_FAIL = 2;
const DONE_INFO = 3;

interface Slot<I, O> {
  clientId: number;
  input: I;
  call: number;
  output: O | undefined;
  return: number;
  status: number;
}

export class HistoryRecorder<I, O> {
  private readonly slots: Slot<I, O>[] = [];
  /** Per client: the operation in flight, or -1. */
  private readonly inflight = new Map<number, number>();
  /** Per client: the time of its latest event, to check that its times never go backwards. */
  private readonly lastTime = new Map<number, number>();
  private readonly operationsMax: number;

  constructor(options: HistoryRecorderOptions = {}) {
    this.operationsMax = options.operationsMax ?? RECORDER_OPERATIONS_MAX_DEFAULT;
    assert(Number.isSafeInteger(this.operationsMax) && this.operationsMax > 0, "operationsMax must be a positive integer");
  }

  /** Records that `clientId` sent `input` at `time`; returns the id to complete it with. */
  invoke(clientId: number, input: I, time: number): OpId {
    assert(Number.isSafeInteger(clientId), `clientId must be an integer: ${clientId}`);
    assert(this.slots.length < this.operationsMax, `history holds operationsMax=${this.operationsMax} operations`);
    const inflight = this.inflight.get(clientId) ?? -1;
    assert(inflight === -1, `client ${clientId} invoked while operation ${inflight} is in flight`);
    this.advanceClock(clientId, time);
    const id = this.slots.length;
    this.slots.push({ clientId, input, call: time, output: undefined, return: Infinity, status: PENDING });
    this.inflight.set(clientId, id);
    return id as OpId;
  }

  /** The operation completed with `output` at `time`. */
  ok(id: OpId, output: O, time: number): void {
    assert(output !== undefined, "ok() needs a defined output (undefined means unknown: use info())");
    const slot = this.complete(id, time, DONE_OK);
    slot.output = output;
    slot.return = time;
  }

  /** The operation definitely did not take effect; it is left out of the history. */
  fail(id: OpId, time: number): void {
    this.complete(id, time, DONE_FAIL);
  }

  /** The outcome is unknown: the operation may or may not have taken effect, now or later. */
  info(id: OpId, time: number): void {
    this.complete(id, time, DONE_INFO);
  }

  /** Number of invocations recorded (of every status). */
  get size(): number {
    return this.slots.length;
  }

  /** The history for the checker: ok and unknown operations (info and still pending), no fails. */
  operations(): Operation<I, O>[] {
    const operations: Operation<I, O>[] = [];
    for (const slot of this.slots) {
      if (slot.status === DONE_FAIL) continue;
      const known = slot.status === DONE_OK;
      operations.push({
        clientId: slot.clientId,
        input: slot.input,
        call: slot.call,
        output: known ? slot.output : undefined,
        return: known ? slot.return : Infinity,
      });
    }
    return operations;
  }

  private complete(id: OpId, time: number, status: number): Slot<I, O> {
    assert(Number.isSafeInteger(id) && id >= 0 && id < this.slots.length, `unknown operation id ${id}`);
    const slot = this.slots[id];
    assert(slot.status === PENDING, `operation ${id} completed twice`);
    assert(time >= slot.call, `operation ${id} completes at ${time}, before its invoke at ${slot.call}`);
    this.advanceClock(slot.clientId, time);
    slot.status = status;
    this.inflight.set(slot.clientId, -1);
    return slot;
  }

  private advanceClock(clientId: number, time: number): void {
    assert(Number.isFinite(time), `time must be finite: ${time}`);
    const last = this.lastTime.get(clientId) ?? -Infinity;
    assert(time >= last, `client ${clientId}: time ${time} is before its previous event at ${last}`);
    this.lastTime.set(clientId, time);
  }
}
