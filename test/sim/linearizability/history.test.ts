// Goal: HistoryRecorder turns client events into the checker's Operations with the documented
// rules (fail drops, info and pending become unknown at infinity) and refuses misuse: completing
// twice, time going backwards for a client, two operations in flight for one client. Method:
// record small histories and compare operations() with the expected list; misuse must throw.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ProgrammerError } from "../../../src/util/assert.js";
import { HistoryRecorder, type OpId, type RegisterInput, type RegisterOutput } from "../../../src/sim/linearizability/mod.js";

const read = { kind: "read" } as const;
const write = (value: number) => ({ kind: "write", value }) as const;

test("HistoryRecorder: ok, fail, info and pending become the checker's operations", () => {
  const recorder = new HistoryRecorder<RegisterInput, RegisterOutput>();
  recorder.ok(recorder.invoke(1, write(1), 0), "ok", 5);
  recorder.fail(recorder.invoke(1, write(2), 6), 7);
  recorder.info(recorder.invoke(2, write(3), 1), 50);
  recorder.invoke(3, read, 60); // never completes: unknown
  recorder.ok(recorder.invoke(2, read, 51), 3, 52); // a client may go on after info
  assert.equal(recorder.size, 5);
  assert.deepEqual(recorder.operations(), [
    { clientId: 1, input: write(1), call: 0, output: "ok", return: 5 },
    { clientId: 2, input: write(3), call: 1, output: undefined, return: Infinity },
    { clientId: 3, input: read, call: 60, output: undefined, return: Infinity },
    { clientId: 2, input: read, call: 51, output: 3, return: 52 },
  ]);
});

test("HistoryRecorder: misuse is a ProgrammerError", () => {
  const recorder = new HistoryRecorder<RegisterInput, RegisterOutput>({ operationsMax: 3 });
  const first = recorder.invoke(1, read, 10);
  assert.throws(() => recorder.invoke(1, read, 11), ProgrammerError, "two in flight for one client");
  assert.throws(() => recorder.ok(first, 1, 9), ProgrammerError, "completes before its invoke");
  recorder.ok(first, 1, 12);
  assert.throws(() => recorder.ok(first, 1, 13), ProgrammerError, "completes twice");
  assert.throws(() => recorder.info(first, 13), ProgrammerError, "completes twice");
  assert.throws(() => recorder.invoke(1, read, 11), ProgrammerError, "time goes backwards for a client");
  assert.throws(() => recorder.ok(7 as OpId, 1, 20), ProgrammerError, "unknown id");
  assert.throws(() => recorder.invoke(2, read, Infinity), ProgrammerError, "infinite time");
  const second = recorder.invoke(2, read, 0); // other clients have their own clocks
  assert.throws(() => recorder.ok(second, undefined as unknown as RegisterOutput, 1), ProgrammerError, "undefined output");
  recorder.invoke(3, read, 0);
  assert.throws(() => recorder.invoke(4, read, 0), ProgrammerError, "operationsMax");
});
