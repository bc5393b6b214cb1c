// Simulated clients: each runs a sequential program of get/put/cas on a few keys against the
// group, finds the leader by trial and hints, and retries an operation with the SAME
// (clientId, sequence) until it gets an answer, so the exactly-once layer applies it once.
// Every operation is recorded for the linearizability checker as invoke + ok / fail / info:
//   ok   - a node answered with the result;
//   fail - a read that got no answer (reads have no effect, so dropping it is sound);
//   info - a write that got no answer by its deadline: it may or may not have taken effect.
//          Even an explicit "not leader" reply cannot prove a write was never proposed (the
//          network may have delivered a duplicate of the request to a leader), so a write is
//          never recorded as fail: honest "unknown", never a guessed outcome.
import { assert } from "../util/assert.js";
import type { SeededRandom } from "../util/random.js";
import type { HistoryRecorder, KvInput, KvOutput, OpId } from "./linearizability/mod.js";
import type { KvOp } from "./kv.js";
import type { ClientRequest, ClientResponse } from "./node.js";
import type { ReadMode } from "./profile.js";
import type { EventQueue } from "./scheduler.js";

export interface ClientEnvironment {
  readonly queue: EventQueue;
  readonly random: SeededRandom;
  readonly history: HistoryRecorder<KvInput, KvOutput>;
  readonly keyCount: number;
  readonly readModes: readonly ReadMode[];
  readonly thinkMs: number;
  /** How long one attempt waits for an answer before trying another node. */
  readonly attemptTimeoutMs: number;
  /** Node ids a client may try (the current members). */
  nodeIds(): readonly number[];
  send(request: ClientRequest, to: number): void;
  trace(line: string): void;
  acked(clientId: number, sequence: number, timeMs: number): void;
}

/** How long an operation may take before the client gives up on it (recorded as info/fail). */
export const OPERATION_DEADLINE_MS = 3000;

interface Inflight {
  readonly opId: OpId;
  readonly op: KvOp;
  readonly input: KvInput;
  readonly sequence: number;
  readonly readMode: ReadMode;
  readonly invokedMs: number;
  attempt: number;
}

export class SimClient {
  private sequence = 0;
  private inflight: Inflight | undefined;
  private leaderGuess: number | undefined;
  private nextReqId = 1;
  private readonly attempts = new Map<number, number>();
  stopped = false;
  completedOk = 0;
  /** Ok completions of operations invoked at or after `healedAtMs` (liveness). */
  okAfterHeal = 0;
  healedAtMs = Number.POSITIVE_INFINITY;

  constructor(
    readonly endpoint: number,
    readonly clientId: number,
    private readonly env: ClientEnvironment,
  ) {
    assert(clientId >= 1, "client ids are positive");
  }

  get busy(): boolean {
    return this.inflight !== undefined;
  }

  start(): void {
    this.env.queue.after(this.env.random.float() * 20, () => this.next());
  }

  private next(): void {
    if (this.stopped || this.inflight !== undefined) return;
    const op = this.randomOp();
    const readMode = this.env.readModes[this.env.random.int(this.env.readModes.length)];
    const input = op as KvInput;
    const opId = this.env.history.invoke(this.clientId, input, this.env.queue.nowMs);
    this.sequence++;
    this.inflight = { opId, op, input, sequence: this.sequence, readMode, invokedMs: this.env.queue.nowMs, attempt: 0 };
    const inflight = this.inflight;
    this.env.queue.after(OPERATION_DEADLINE_MS, () => this.deadline(inflight));
    this.attemptNow();
  }

  private randomOp(): KvOp {
    const key = `k${this.env.random.int(this.env.keyCount)}`;
    const roll = this.env.random.float();
    const value = `${this.clientId}.${this.sequence + 1}`;
    if (roll < 0.4) return { kind: "get", key };
    if (roll < 0.75) return { kind: "put", key, value };
    const expected = this.env.random.chance(0.3) ? null : `${1 + this.env.random.int(4)}.${1 + this.env.random.int(Math.max(1, this.sequence))}`;
    return { kind: "cas", key, expected, value };
  }

  private attemptNow(): void {
    const inflight = this.inflight;
    if (inflight === undefined) return;
    const nodes = this.env.nodeIds();
    const target = this.leaderGuess !== undefined && nodes.includes(this.leaderGuess) ? this.leaderGuess : nodes[this.env.random.int(nodes.length)];
    const reqId = this.nextReqId++;
    this.attempts.set(reqId, inflight.sequence);
    inflight.attempt++;
    const request: ClientRequest = {
      reqId,
      clientId: this.clientId,
      sequence: inflight.sequence,
      op: inflight.op,
      readMode: inflight.readMode,
      replyTo: this.endpoint,
    };
    this.env.send(request, target);
    const attempt = inflight.attempt;
    this.env.queue.after(this.env.attemptTimeoutMs, () => {
      if (this.inflight !== inflight || inflight.attempt !== attempt) return;
      this.leaderGuess = undefined;
      this.attemptNow();
    });
  }

  onResponse(response: ClientResponse): void {
    const sequence = this.attempts.get(response.reqId);
    this.attempts.delete(response.reqId);
    const inflight = this.inflight;
    if (inflight === undefined || sequence !== inflight.sequence) return;
    switch (response.status) {
      case "ok":
        return this.complete(inflight, response.result);
      case "notLeader":
        this.leaderGuess = response.leaderHint;
        break;
      case "retry":
        this.leaderGuess = undefined;
        break;
      case "busy":
        break;
    }
    const attempt = inflight.attempt;
    this.env.queue.after(5 + this.env.random.float() * 20, () => {
      if (this.inflight === inflight && inflight.attempt === attempt) this.attemptNow();
    });
  }

  private complete(inflight: Inflight, result: KvOutput): void {
    const now = this.env.queue.nowMs;
    this.env.history.ok(inflight.opId, result, now);
    this.env.trace(`c${this.clientId} ok ${describe(inflight.op)} -> ${JSON.stringify(result)} (seq ${inflight.sequence})`);
    if (inflight.op.kind !== "get" || inflight.readMode === "log") this.env.acked(this.clientId, inflight.sequence, now);
    this.completedOk++;
    if (inflight.invokedMs >= this.healedAtMs) this.okAfterHeal++;
    this.finish();
  }

  private deadline(inflight: Inflight): void {
    if (this.inflight !== inflight) return;
    const now = this.env.queue.nowMs;
    const isRead = inflight.op.kind === "get";
    if (isRead) this.env.history.fail(inflight.opId, now);
    else this.env.history.info(inflight.opId, now);
    this.env.trace(`c${this.clientId} gives up on ${describe(inflight.op)} (seq ${inflight.sequence}, ${isRead ? "fail" : "info"})`);
    this.finish();
  }

  private finish(): void {
    this.inflight = undefined;
    if (this.stopped) return;
    this.env.queue.after(this.env.random.float() * this.env.thinkMs, () => this.next());
  }

  /** Ends the client: an operation still in flight stays unknown (info) in the history. */
  stop(): void {
    this.stopped = true;
  }
}

export function describe(op: KvOp): string {
  switch (op.kind) {
    case "get":
      return `get(${op.key})`;
    case "put":
      return `put(${op.key}, ${op.value})`;
    case "cas":
      return `cas(${op.key}, ${op.expected}→${op.value})`;
  }
}
