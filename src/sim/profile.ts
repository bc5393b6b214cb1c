// Swarm testing (Groce et al. 2012; TigerBeetle's options_swarm): each seed first draws its own
// fault profile, then runs with it, so different seeds explore different corners instead of one
// averaged mix. The profile is printed with every failing seed.
import type { SeededRandom } from "../util/random.js";

export type ReadMode = "log" | "readIndex" | "lease";

export interface FaultProfile {
  replicaCount: number;
  clientCount: number;
  keyCount: number;
  lossRate: number;
  duplicateRate: number;
  delayMinMs: number;
  delayMeanMs: number;
  spikeRate: number;
  spikeMaxMs: number;
  /** Probability a crash or partition targets the current leader rather than a random node. */
  leaderFocus: number;
  /** Mean ms between fault actions (crash, partition, heal...); 0 = no faults. */
  faultIntervalMs: number;
  crashes: boolean;
  partitions: boolean;
  oneWayPartitions: boolean;
  restartDelayMs: number;
  tornWriteRate: number;
  /** Probability a restart finds latent errors (then each durable entry is hit with latentErrorRate). */
  latentErrorRestartRate: number;
  latentErrorRate: number;
  /** Per-replica tick-rate deviation bound (well inside the lease's drift bound). */
  driftMax: number;
  fsyncLatencyMs: number;
  readModes: ReadMode[];
  membershipChanges: boolean;
  /** Operator-driven leadership transfers among the fault actions. */
  transfers: boolean;
  /** The leader announces its commit right after each client write (Replica.announceCommit, as the runtime does after serving a forwarded proposal). */
  announceCommits: boolean;
  snapshotEverySlots: number;
  trailingSlots: number;
  messageBytesMax: number;
  batchBytesMax: number;
  clientThinkMs: number;
  /** How long a client waits for one attempt before trying another node. */
  attemptTimeoutMs: number;
  /** Probability that a node's fsync is interrupted by a crash (crashes at the riskiest moment). */
  crashDuringPersistRate: number;
  /** Probability that a leader crashes right after learning that its commit slot advanced. */
  crashAfterCommitRate: number;
  safetyPhaseMs: number;
  /** Readies a node persists at once (1: advance each before the next ready(); more: pipelining). */
  readiesInFlight: number;
}

export const TICK_MS = 10;
export const ELECTION_TICKS = 10;
export const HEARTBEAT_TICKS = 2;
export const DRIFT_BOUND = 0.1;

function pick<T>(random: SeededRandom, items: readonly T[]): T {
  return items[random.int(items.length)];
}

export function drawProfile(random: SeededRandom): FaultProfile {
  const faulty = random.chance(0.9);
  const modes: ReadMode[] = (["log", "readIndex", "lease"] as const).filter(() => random.chance(0.6));
  return {
    replicaCount: pick(random, [3, 3, 3, 5]),
    clientCount: random.range(2, 8),
    keyCount: random.range(1, 4),
    lossRate: random.chance(0.3) ? 0 : random.float() * 0.15,
    duplicateRate: random.chance(0.5) ? 0 : random.float() * 0.1,
    delayMinMs: random.range(0, 3),
    delayMeanMs: random.range(1, 25),
    spikeRate: random.chance(0.4) ? 0 : random.float() * 0.05,
    spikeMaxMs: random.range(50, 1500),
    leaderFocus: random.float(),
    faultIntervalMs: faulty ? random.range(30, 600) : 0,
    crashes: random.chance(0.7),
    partitions: random.chance(0.7),
    oneWayPartitions: random.chance(0.4),
    restartDelayMs: random.range(1, 400),
    tornWriteRate: random.float() * 0.6,
    latentErrorRestartRate: random.chance(0.5) ? 0 : random.float() * 0.5,
    latentErrorRate: random.float() * 0.2,
    driftMax: random.float() * (DRIFT_BOUND / 3),
    fsyncLatencyMs: random.float() * 4,
    readModes: modes.length > 0 ? modes : ["log"],
    membershipChanges: random.chance(0.3),
    transfers: random.chance(0.3),
    snapshotEverySlots: pick(random, [8, 16, 32, 64, 1000]),
    trailingSlots: random.range(0, 16),
    messageBytesMax: pick(random, [300, 1024, 4096, 65536]),
    batchBytesMax: pick(random, [200, 1024, 8192]),
    clientThinkMs: random.range(0, 10),
    attemptTimeoutMs: random.range(40, 300),
    crashDuringPersistRate: random.chance(0.5) ? 0 : random.float() * 0.01,
    crashAfterCommitRate: random.chance(0.5) ? 0 : random.float() * 0.05,
    safetyPhaseMs: random.range(2000, 5000),
    announceCommits: random.chance(0.5),
    readiesInFlight: pick(random, [1, 1, 2, 4]),
  };
}

export function formatProfile(p: FaultProfile): string {
  const parts = [
    `replicas=${p.replicaCount}`,
    `clients=${p.clientCount}`,
    `keys=${p.keyCount}`,
    `loss=${p.lossRate.toFixed(3)}`,
    `dup=${p.duplicateRate.toFixed(3)}`,
    `delay=${p.delayMinMs}+exp(${p.delayMeanMs})ms`,
    `spikes=${p.spikeRate.toFixed(3)}x${p.spikeMaxMs}ms`,
    `leaderFocus=${p.leaderFocus.toFixed(2)}`,
    `faultEvery=${p.faultIntervalMs}ms`,
    `crashes=${p.crashes}`,
    `partitions=${p.partitions}${p.oneWayPartitions ? "(+one-way)" : ""}`,
    `restartDelay=${p.restartDelayMs}ms`,
    `torn=${p.tornWriteRate.toFixed(2)}`,
    `latent=${p.latentErrorRestartRate.toFixed(2)}x${p.latentErrorRate.toFixed(2)}`,
    `drift=${p.driftMax.toFixed(3)}`,
    `fsync=${p.fsyncLatencyMs.toFixed(1)}ms`,
    `reads=${p.readModes.join("/")}`,
    `membership=${p.membershipChanges}`,
    `transfers=${p.transfers}`,
    `announce=${p.announceCommits}`,
    `snapshotEvery=${p.snapshotEverySlots}+${p.trailingSlots}`,
    `msgMax=${p.messageBytesMax}`,
    `batchMax=${p.batchBytesMax}`,
    `think=${p.clientThinkMs}ms`,
    `attempt=${p.attemptTimeoutMs}ms`,
    `crashInFsync=${p.crashDuringPersistRate.toFixed(4)}`,
    `crashAfterCommit=${p.crashAfterCommitRate.toFixed(3)}`,
    `safety=${p.safetyPhaseMs}ms`,
    `readiesInFlight=${p.readiesInFlight}`,
  ];
  return parts.join(" ");
}
