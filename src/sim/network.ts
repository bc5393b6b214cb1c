// The simulated network: every message independently may be lost, duplicated or delayed (a
// minimum plus an exponential tail, so reordering falls out of the delays), and links can be cut
// symmetrically or one way and healed (notes §2.3, TigerBeetle's packet simulator). A `filter`
// lets an adversarial scheduler hold messages back (the FLP mode).
import { assert } from "../util/assert.js";
import type { SeededRandom } from "../util/random.js";
import type { EventQueue } from "./scheduler.js";

export interface NetworkProfile {
  /** Probability a message is dropped. */
  lossRate: number;
  /** Probability a delivered message is delivered a second time (later). */
  duplicateRate: number;
  delayMinMs: number;
  /** Mean of the exponential part of the delay. */
  delayMeanMs: number;
  /** Probability a message is held back much longer (a long tail: stale messages arrive late). */
  spikeRate: number;
  /** Upper bound of a spike's extra delay (uniform). */
  spikeMaxMs: number;
}

/** What an adversary decides about a message: deliver it now, or hold it and ask again later. */
export type FilterDecision = "deliver" | "hold";

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  held: number;
}

export class SimNetwork {
  private readonly blocked = new Set<number>();
  profile: NetworkProfile;
  filter: ((from: number, to: number, payload: unknown) => FilterDecision) | undefined;
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, held: 0 };

  constructor(
    private readonly queue: EventQueue,
    private readonly random: SeededRandom,
    profile: NetworkProfile,
  ) {
    this.profile = { ...profile };
  }

  private static key(from: number, to: number): number {
    assert(from < 65536 && to < 65536, "endpoint ids fit in 16 bits");
    return from * 65536 + to;
  }

  isBlocked(from: number, to: number): boolean {
    return this.blocked.has(SimNetwork.key(from, to));
  }

  blockOneWay(from: number, to: number): void {
    this.blocked.add(SimNetwork.key(from, to));
  }

  /** Cuts every link between the groups (symmetric partition). */
  partition(groups: readonly (readonly number[])[]): void {
    for (const a of groups) for (const b of groups) {
      if (a === b) continue;
      for (const x of a) for (const y of b) this.blockOneWay(x, y);
    }
  }

  heal(): void {
    this.blocked.clear();
  }

  get partitioned(): boolean {
    return this.blocked.size > 0;
  }

  /** Sends `payload`; `deliver` runs at the receiver unless the message is lost or the link is cut. */
  send<T>(from: number, to: number, payload: T, deliver: (payload: T) => void): void {
    this.stats.sent++;
    if (this.isBlocked(from, to) || this.random.chance(this.profile.lossRate)) {
      this.stats.dropped++;
      return;
    }
    this.schedule(from, to, payload, deliver);
    if (this.random.chance(this.profile.duplicateRate)) {
      this.stats.duplicated++;
      this.schedule(from, to, payload, deliver);
    }
  }

  private delayMs(): number {
    const p = this.profile;
    const base = p.delayMinMs + (p.delayMeanMs > 0 ? -Math.log(1 - this.random.float()) * p.delayMeanMs : 0);
    return p.spikeRate > 0 && this.random.chance(p.spikeRate) ? base + this.random.float() * p.spikeMaxMs : base;
  }

  private schedule<T>(from: number, to: number, payload: T, deliver: (payload: T) => void): void {
    this.queue.after(this.delayMs(), () => this.arrive(from, to, payload, deliver));
  }

  private arrive<T>(from: number, to: number, payload: T, deliver: (payload: T) => void): void {
    if (this.isBlocked(from, to)) {
      this.stats.dropped++;
      return;
    }
    if (this.filter !== undefined && this.filter(from, to, payload) === "hold") {
      this.stats.held++;
      this.queue.after(1, () => this.arrive(from, to, payload, deliver));
      return;
    }
    this.stats.delivered++;
    deliver(payload);
  }
}
