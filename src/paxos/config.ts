// The replica's configuration: one struct, a comment per field with its default and trade-off,
// one validate() (after etcd-io/raft's Config). Every queue, batch, window and message the core
// builds is bounded by one of these limits (STYLE.md §8).
import { assert } from "../util/assert.js";
import type { Random } from "../util/random.js";
import type { ReplicaId } from "./types.js";

/**
 * Planted bugs for the simulator's mutation check (test/sim/mutations.test.ts). Each flag breaks
 * one safety rule on purpose so the test can prove a checker catches it. Never set in production.
 */
export type PlantedBug =
  /** A follower commits up to leaderCommit without checking that it matched the leader's log. */
  | "commitWithoutMatch"
  /** A new leader ignores what the promises report and recovers from its own log only. */
  | "ignorePromises"
  /** Recovery takes the LOWEST-ballot value reported for a slot (ignoring commit reports). */
  | "adoptLowestBallot"
  /** Reads (read index and lease) do not wait for the leader's first commit in its own ballot. */
  | "readBeforeOwnCommit"
  /** A Ready handed out while others are in flight may carry a hard-state write or a truncation. */
  | "pipelineUnheld"
  /** A Ready handed out while others are in flight releases its replies before its persist. */
  | "pipelineEarlyReplies"
  /** An acceptor sends its Promise at once, before the promised ballot is durable. */
  | "promiseBeforePersist"
  /** An acceptor accepts entries from a ballot lower than the one it promised. */
  | "acceptLowerBallot";

/** Every planted bug, for the mutation test and the CLI. */
export const PLANTED_BUGS: readonly PlantedBug[] = ["commitWithoutMatch", "ignorePromises", "adoptLowestBallot", "readBeforeOwnCommit", "pipelineUnheld", "pipelineEarlyReplies", "promiseBeforePersist", "acceptLowerBallot"];

export interface ReplicaOptions {
  readonly id: ReplicaId;
  /** The injected randomness (election timeouts). A SeededRandom in tests and the simulator. */
  readonly random: Random;
  /**
   * Ticks without hearing from a leader before a follower campaigns; the actual timeout is drawn
   * from [electionTicks, 2*electionTicks) each time. Also the stickiness window: a replica that
   * heard from a leader less than electionTicks ago refuses to promise anyone else. Default 10.
   */
  readonly electionTicks?: number;
  /** Ticks between leader heartbeats. Must be well below electionTicks. Default 2. */
  readonly heartbeatTicks?: number;
  /**
   * Bound on the relative tick-rate difference between any two replicas (0.1 = 10 %). The leader
   * lease lasts floor(electionTicks * (1 - driftBound)) - 2 ticks from the send of the heartbeat
   * round a quorum acknowledged. Default 0.1.
   */
  readonly driftBound?: number;
  /** Most bytes of commands sealed into one slot. Larger batches mean fewer slots. Default 256 KiB. */
  readonly batchBytesMax?: number;
  /** Most entry bytes in one Accept (at least one entry is always sent). Default 1 MiB. */
  readonly messageBytesMax?: number;
  /** Most Accept messages in flight to one follower in the replicate state. Default 64. */
  readonly inflightMessagesMax?: number;
  /** Most entry bytes in flight to one follower (a bandwidth-delay-product bound). Default 8 MiB. */
  readonly inflightBytesMax?: number;
  /** Most bytes of proposed-but-uncommitted entries; propose() returns backpressure above it. Default 16 MiB. */
  readonly uncommittedBytesMax?: number;
  /**
   * Most entry bytes an acceptor reports in one Promise; must cover uncommittedBytesMax so a
   * caught-up candidate always receives complete promises. Default 2 * uncommittedBytesMax.
   */
  readonly promiseBytesMax?: number;
  /** Committed entries kept in memory beyond the applied slot, for catch-up without loads. Default 8 MiB. */
  readonly retainedCommittedBytesMax?: number;
  /** Most committed entry bytes handed out in one Ready. Default 4 MiB. */
  readonly committedBytesPerReadyMax?: number;
  /**
   * Most Readies handed out and not yet advanced. Above 1 the driver may pipeline: ready() is
   * called again while earlier Readies are still being persisted (ready.ts). Default 4.
   */
  readonly readiesInFlightMax?: number;
  /** Most read-index requests waiting for confirmation. Default 4096. */
  readonly readsPendingMax?: number;
  /** Most ballot steps in the hard state before the acceptor resets its tail (see log.ts). Default 16. */
  readonly ballotStepsMax?: number;
  /** Pre-vote before campaigning (Raft thesis §9.6). Default true. */
  readonly preVote?: boolean;
  /** A leader that has not heard from a quorum for electionTicks steps down. Default true. */
  readonly checkQuorum?: boolean;
  /** Test-only: a planted bug for the mutation check. */
  readonly plantedBug?: PlantedBug;
}

export type ResolvedOptions = Required<Omit<ReplicaOptions, "plantedBug">> & { readonly plantedBug: PlantedBug | undefined };

export function resolveOptions(options: ReplicaOptions): ResolvedOptions {
  const uncommittedBytesMax = options.uncommittedBytesMax ?? 16 * 1024 * 1024;
  const resolved: ResolvedOptions = {
    id: options.id,
    random: options.random,
    electionTicks: options.electionTicks ?? 10,
    heartbeatTicks: options.heartbeatTicks ?? 2,
    driftBound: options.driftBound ?? 0.1,
    batchBytesMax: options.batchBytesMax ?? 256 * 1024,
    messageBytesMax: options.messageBytesMax ?? 1024 * 1024,
    inflightMessagesMax: options.inflightMessagesMax ?? 64,
    inflightBytesMax: options.inflightBytesMax ?? 8 * 1024 * 1024,
    uncommittedBytesMax,
    promiseBytesMax: options.promiseBytesMax ?? 2 * uncommittedBytesMax,
    retainedCommittedBytesMax: options.retainedCommittedBytesMax ?? 8 * 1024 * 1024,
    committedBytesPerReadyMax: options.committedBytesPerReadyMax ?? 4 * 1024 * 1024,
    readiesInFlightMax: options.readiesInFlightMax ?? 4,
    readsPendingMax: options.readsPendingMax ?? 4096,
    ballotStepsMax: options.ballotStepsMax ?? 16,
    preVote: options.preVote ?? true,
    checkQuorum: options.checkQuorum ?? true,
    plantedBug: options.plantedBug,
  };
  validateOptions(resolved);
  return resolved;
}

function positiveInteger(value: number, name: string): void {
  assert(Number.isSafeInteger(value) && value >= 1, `${name} must be a positive integer, got ${value}`);
}

export function validateOptions(o: ResolvedOptions): void {
  for (const name of [
    "electionTicks",
    "heartbeatTicks",
    "batchBytesMax",
    "messageBytesMax",
    "inflightMessagesMax",
    "inflightBytesMax",
    "uncommittedBytesMax",
    "promiseBytesMax",
    "retainedCommittedBytesMax",
    "committedBytesPerReadyMax",
    "readiesInFlightMax",
    "readsPendingMax",
    "ballotStepsMax",
  ] as const) {
    positiveInteger(o[name], name);
  }
  assert(o.heartbeatTicks < o.electionTicks, "heartbeatTicks must be below electionTicks");
  assert(o.driftBound >= 0 && o.driftBound < 0.5, `driftBound must be in [0, 0.5), got ${o.driftBound}`);
  assert(leaseTicks(o) >= 1, "electionTicks too small for a lease with this drift bound");
  assert(o.promiseBytesMax >= o.uncommittedBytesMax, "promiseBytesMax must cover uncommittedBytesMax");
  assert(o.batchBytesMax <= o.uncommittedBytesMax, "a batch must fit in the uncommitted budget");
}

/** The lease a leader may use after a quorum acknowledged a round it sent (docs/consensus.md). */
export function leaseTicks(o: { electionTicks: number; driftBound: number }): number {
  return Math.floor(o.electionTicks * (1 - o.driftBound)) - 2;
}
