// Cluster-wide checkers that watch every replica of a simulated group (STYLE.md §15):
//   agreement   - one value per slot, across replicas AND across restarts of one replica;
//   durability  - every acknowledged command is in the final committed log (checked at the end,
//                 after the liveness phase restarted and healed everything);
//   convergence - replicas that applied the same prefix hold byte-equal state-machine snapshots;
//   replyDurability - a Promise or Accepted reply leaves a node only once what it vouches for is
//                 on its disk durably (src/sim/node.ts checks each send against its SimDisk).
// Linearizability of the client history is checked by src/sim/linearizability (see cluster.ts).
// Each checker records the first violation with enough detail to debug it from the seed.
import { crc32c } from "@node-rs/crc32";
import { decodeBatch } from "../paxos/command.js";
import { EntryKind, type LogEntry, type Slot } from "../paxos/types.js";

export type CheckerName = "agreement" | "durability" | "convergence" | "linearizability" | "liveness" | "assertion" | "replyDurability";

export interface Violation {
  readonly checker: CheckerName;
  readonly message: string;
  readonly timeMs: number;
}

interface SlotRecord {
  readonly crc: number;
  readonly length: number;
  readonly kind: number;
  readonly node: number;
  readonly timeMs: number;
}

function entryFingerprint(entry: LogEntry): { crc: number; length: number; kind: number } {
  return { crc: crc32c(entry.data), length: entry.data.length, kind: entry.kind };
}

export class AgreementChecker {
  private readonly chosen = new Map<Slot, SlotRecord>();
  /** session "client:seq" → the first slot where it was applied (not as a duplicate). */
  readonly appliedAt = new Map<string, Slot>();
  violation: Violation | undefined;
  maxSlot = 0;

  get chosenCount(): number {
    return this.chosen.size;
  }

  onApply(node: number, entry: LogEntry, timeMs: number): void {
    const fp = entryFingerprint(entry);
    const seen = this.chosen.get(entry.slot);
    if (seen === undefined) {
      this.chosen.set(entry.slot, { ...fp, node, timeMs });
      if (entry.slot > this.maxSlot) this.maxSlot = entry.slot;
      this.recordSessions(entry);
      return;
    }
    if (seen.crc === fp.crc && seen.length === fp.length && seen.kind === fp.kind) return;
    this.violation ??= {
      checker: "agreement",
      timeMs,
      message:
        `slot ${entry.slot}: node ${node} applied kind=${fp.kind} len=${fp.length} crc=${fp.crc.toString(16)}, ` +
        `but node ${seen.node} applied kind=${seen.kind} len=${seen.length} crc=${seen.crc.toString(16)} at t=${seen.timeMs.toFixed(1)}`,
    };
  }

  private recordSessions(entry: LogEntry): void {
    if (entry.kind !== EntryKind.commands) return;
    for (const command of decodeBatch(entry.data)) {
      if (command.clientId === undefined) continue;
      const key = `${command.clientId}:${command.sequence}`;
      if (!this.appliedAt.has(key)) this.appliedAt.set(key, entry.slot);
    }
  }

  /** The slot at which a session command was first chosen, if any replica applied it. */
  slotOf(clientId: number, sequence: number): Slot | undefined {
    return this.appliedAt.get(`${clientId}:${sequence}`);
  }
}

export class ConvergenceChecker {
  private readonly states = new Map<Slot, { crc: number; node: number }>();
  violation: Violation | undefined;
  checked = 0;

  /** Records the state-machine snapshot a replica holds right after applying through `slot`. */
  onState(node: number, slot: Slot, snapshot: Uint8Array, timeMs: number): void {
    const crc = crc32c(snapshot);
    const seen = this.states.get(slot);
    this.checked++;
    if (seen === undefined) {
      this.states.set(slot, { crc, node });
      return;
    }
    if (seen.crc === crc) return;
    this.violation ??= {
      checker: "convergence",
      timeMs,
      message: `after slot ${slot}: node ${node} state crc ${crc.toString(16)} differs from node ${seen.node}'s ${seen.crc.toString(16)}`,
    };
  }
}

export interface AckedCommand {
  readonly clientId: number;
  readonly sequence: number;
  readonly timeMs: number;
}

/**
 * Every command a client saw acknowledged must be in the final committed log: it was chosen at
 * some slot (the agreement checker saw it applied there) and the final committed slot of the
 * surviving group is at or past it. Agreement guarantees nobody applied anything else there.
 */
export function checkDurability(acked: readonly AckedCommand[], agreement: AgreementChecker, finalCommitSlot: Slot, timeMs: number): Violation | undefined {
  for (const a of acked) {
    const slot = agreement.slotOf(a.clientId, a.sequence);
    if (slot === undefined) {
      return { checker: "durability", timeMs, message: `client ${a.clientId} seq ${a.sequence} was acknowledged at t=${a.timeMs.toFixed(1)} but no replica ever applied it` };
    }
    if (slot > finalCommitSlot) {
      return { checker: "durability", timeMs, message: `client ${a.clientId} seq ${a.sequence} acknowledged at slot ${slot}, but the final committed slot is ${finalCommitSlot}` };
    }
  }
  return undefined;
}
