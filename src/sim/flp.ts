// FLP made visible (Fischer, Lynch, Paterson 1985): no deterministic protocol can guarantee that
// consensus terminates in an asynchronous system with even one faulty process. The adversary here
// is a scheduler that knows every replica's state and delays exactly the messages that would let
// a value be chosen: every Accept and heartbeat from a leader is held until its receiver has
// promised a HIGHER ballot (so it can only be rejected). Prepares and promises flow freely, so
// proposers keep taking over from each other, and no slot is ever chosen, while every safety
// check keeps passing. Run the same seed without the adversary and the group decides at once.
// synod's liveness therefore rests on partial synchrony (messages eventually arrive within a
// bound) and randomized timeouts, as for every Paxos or Raft system (docs/consensus.md).
import { SeededRandom } from "../util/random.js";
import { decodeMessage } from "../paxos/codec.js";
import { membership } from "../paxos/membership.js";
import { compareBallots } from "../paxos/types.js";
import { AgreementChecker, ConvergenceChecker, type Violation } from "./checkers.js";
import { SimNetwork } from "./network.js";
import { SimNode, type NodeEnvironment } from "./node.js";
import { drawProfile, type FaultProfile } from "./profile.js";
import { EventQueue } from "./scheduler.js";
import { describeMessage, traceLine } from "./trace.js";

export interface FlpOptions {
  readonly seed: number;
  readonly durationMs: number;
  readonly adversary: boolean;
  readonly trace?: (line: string) => void;
}

export interface FlpResult {
  readonly adversary: boolean;
  /** Slots applied by any replica (a slot is applied only once chosen). */
  readonly chosenSlots: number;
  /** Accept messages delivered to an acceptor that could take them. */
  readonly acceptableAcceptsDelivered: number;
  readonly leaderships: number;
  readonly highestRound: number;
  readonly heldMessages: number;
  readonly violations: readonly Violation[];
  /** Virtual ms until the first slot was chosen (undefined if never). */
  readonly firstChosenMs: number | undefined;
}

function quietProfile(seed: number): FaultProfile {
  return {
    ...drawProfile(new SeededRandom(seed)),
    replicaCount: 3,
    lossRate: 0,
    duplicateRate: 0,
    delayMinMs: 1,
    delayMeanMs: 5,
    spikeRate: 0,
    faultIntervalMs: 0,
    crashes: false,
    partitions: false,
    latentErrorRestartRate: 0,
    crashDuringPersistRate: 0,
    crashAfterCommitRate: 0,
    membershipChanges: false,
    transfers: false,
    announceCommits: false,
    fsyncLatencyMs: 1,
  };
}

export function runFlpExperiment(options: FlpOptions): FlpResult {
  const queue = new EventQueue();
  const random = new SeededRandom(options.seed);
  const profile = quietProfile(options.seed);
  const network = new SimNetwork(queue, random.fork(), { ...profile });
  const agreement = new AgreementChecker();
  const convergence = new ConvergenceChecker();
  const nodes = new Map<number, SimNode>();
  const violations: Violation[] = [];
  const stats = { acceptable: 0, leaderships: 0, firstChosenMs: undefined as number | undefined };
  const trace = (text: string): void => options.trace?.(traceLine(queue.nowMs, text));
  const env: NodeEnvironment = {
    queue,
    network,
    random,
    profile,
    agreement,
    convergence,
    plantedBug: undefined,
    trace: (line) => {
      if (line.includes("becomes leader")) stats.leaderships++;
      trace(line);
    },
    node: (id) => nodes.get(id),
    respond: () => undefined,
    fail: (error, node) => violations.push({ checker: "assertion", timeMs: queue.nowMs, message: `node ${node}: ${String(error)}` }),
    violation: (checker, message) => violations.push({ checker, timeMs: queue.nowMs, message }),
    crashDuringPersist: () => undefined,
    crashAfterCommit: () => false,
    crashNow: () => undefined,
  };
  const group = membership([1, 2, 3]);
  for (const id of group.voters) nodes.set(id, new SimNode(id, env, group));
  network.filter = (_from, to, payload) => {
    const message = decodeMessage(payload as Uint8Array);
    if (message.type !== "accept" && message.type !== "heartbeat") return "deliver";
    const receiver = nodes.get(to)?.replica;
    if (receiver === undefined) return "deliver";
    const acceptable = compareBallots(receiver.status().promisedBallot, message.ballot) <= 0;
    if (options.adversary && acceptable) return "hold";
    if (acceptable && message.type === "accept") stats.acceptable++;
    if (options.trace !== undefined) trace(`deliver ${describeMessage(message)}${acceptable ? "" : " (will be rejected)"}`);
    return "deliver";
  };
  for (const node of nodes.values()) node.start();
  const watch = (): void => {
    if (stats.firstChosenMs === undefined && agreement.chosenCount > 0) stats.firstChosenMs = queue.nowMs;
    queue.after(5, watch);
  };
  watch();
  queue.runUntil(options.durationMs, { stop: () => violations.length > 0 || agreement.violation !== undefined });
  if (agreement.violation !== undefined) violations.push(agreement.violation);
  let highestRound = 0;
  for (const node of nodes.values()) highestRound = Math.max(highestRound, node.replica?.status().promisedBallot.round ?? 0);
  return {
    adversary: options.adversary,
    chosenSlots: agreement.chosenCount,
    acceptableAcceptsDelivered: stats.acceptable,
    leaderships: stats.leaderships,
    highestRound,
    heldMessages: network.stats.held,
    violations,
    firstChosenMs: stats.firstChosenMs,
  };
}

/** `npm run sim -- --adversary flp`: runs the setup with and without the adversary and compares. */
export function runFlp(options: { seed: number; durationMs: number; print: (line: string) => void }): number {
  const print = options.print;
  print(`FLP adversary, seed ${options.seed}, 3 replicas, ${options.durationMs} virtual ms, no faults, reliable network`);
  const withAdversary = runFlpExperiment({ seed: options.seed, durationMs: options.durationMs, adversary: true });
  const without = runFlpExperiment({ seed: options.seed, durationMs: options.durationMs, adversary: false });
  for (const r of [withAdversary, without]) {
    print(
      `  ${r.adversary ? "with adversary:   " : "without adversary:"} chosen slots ${r.chosenSlots}` +
        (r.firstChosenMs !== undefined ? ` (first at ${r.firstChosenMs.toFixed(0)}ms)` : "") +
        `, leaderships ${r.leaderships}, highest ballot round ${r.highestRound}, ` +
        `messages held ${r.heldMessages}, acceptable Accepts delivered ${r.acceptableAcceptsDelivered}, ` +
        `safety violations ${r.violations.length}`,
    );
  }
  const ok =
    withAdversary.chosenSlots === 0 &&
    withAdversary.violations.length === 0 &&
    withAdversary.leaderships > 1 &&
    without.chosenSlots > 0 &&
    without.violations.length === 0;
  print(ok ? "as FLP predicts: the adversary keeps the proposers from ever deciding, and safety holds throughout" : "UNEXPECTED result");
  return ok ? 0 : 1;
}
