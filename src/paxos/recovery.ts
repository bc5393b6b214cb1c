// Phase-1 value selection (Paxos Made Simple §2.2-§3): for every slot from `fromSlot` to the
// highest slot any promise reports, the new leader re-proposes
//   - the value of an acceptor that reports the slot as committed (it is chosen: take it as is),
//   - else the value with the highest effective accepted ballot among the promises,
//   - else a no-op (a hole: no acceptor of the phase-1 quorum accepted anything there).
// Pure, so it can be tested on hand-made promises and by the planted "adoptLowestBallot" bug.
import { assert } from "../util/assert.js";
import type { PlantedBug } from "./config.js";
import { EntryKind, bytesEqual, compareBallots, type LogEntry, type Slot } from "./types.js";

export interface PromiseReport {
  readonly commitSlot: Slot;
  readonly entries: readonly LogEntry[];
}

export interface RecoveredSlot {
  readonly slot: Slot;
  readonly kind: EntryKind;
  readonly data: Uint8Array;
  /** Where the value came from: a committed report, the highest ballot, or a no-op fill. */
  readonly source: "chosen" | "ballot" | "fill";
  /** Whether the promises reported different values for this slot. */
  readonly contested: boolean;
}

const NOOP_DATA = new Uint8Array(0);

export function recoverSlots(fromSlot: Slot, reports: readonly PromiseReport[], plantedBug?: PlantedBug): RecoveredSlot[] {
  assert(fromSlot >= 1, "recovery starts at a real slot");
  let lastSlot = fromSlot - 1;
  for (const report of reports) {
    const entries = report.entries;
    if (entries.length === 0) continue;
    assert(entries[0].slot >= fromSlot, "promises report only from fromSlot");
    lastSlot = Math.max(lastSlot, entries[entries.length - 1].slot);
  }
  const best: Array<{ entry: LogEntry; chosen: boolean } | undefined> = new Array(lastSlot - fromSlot + 1);
  const contested = new Array<boolean>(lastSlot - fromSlot + 1).fill(false);
  for (const report of reports) {
    for (const entry of report.entries) {
      const index = entry.slot - fromSlot;
      // The planted bug ignores commit knowledge too (or the chosen rule would mask it).
      const chosen = entry.slot <= report.commitSlot && plantedBug !== "adoptLowestBallot";
      const current = best[index];
      if (current !== undefined && !sameValue(current.entry, entry)) contested[index] = true;
      if (current !== undefined && current.chosen) {
        if (chosen) assert(sameValue(current.entry, entry), `two committed values reported for slot ${entry.slot}`);
        continue;
      }
      if (current === undefined || chosen || better(entry, current.entry, plantedBug)) best[index] = { entry, chosen };
    }
  }
  const result: RecoveredSlot[] = [];
  for (let i = 0; i < best.length; i++) {
    const b = best[i];
    const slot = fromSlot + i;
    if (b === undefined) result.push({ slot, kind: EntryKind.noop, data: NOOP_DATA, source: "fill", contested: false });
    else result.push({ slot, kind: b.entry.kind, data: b.entry.data, source: b.chosen ? "chosen" : "ballot", contested: contested[i] });
  }
  assert(result.length === lastSlot - fromSlot + 1, "one value per slot");
  return result;
}

function better(candidate: LogEntry, current: LogEntry, plantedBug?: PlantedBug): boolean {
  const order = compareBallots(candidate.ballot, current.ballot);
  return plantedBug === "adoptLowestBallot" ? order < 0 : order > 0;
}

function sameValue(a: LogEntry, b: LogEntry): boolean {
  return a.kind === b.kind && bytesEqual(a.data, b.data);
}
