// The public surface of the consensus core. A driver needs: Replica (replica.ts), the Ready
// contract (ready.ts), the message codec (codec.ts), membership changes (membership.ts), the
// command batch format (command.ts) and the exactly-once layer (exactly-once.ts).
export { Replica } from "./replica.js";
export type { ProposeResult, ReadIndexResult, LeaseReadResult, MembershipResult, TransferResult, ReplicaStatus } from "./replica.js";
export type { Ready, Persist, ReadState, LoadRequest, SnapshotSend, SoftState, Role, DurableState } from "./ready.js";
export { resolveOptions, leaseTicks, type ReplicaOptions, type PlantedBug } from "./config.js";
export * from "./types.js";
export * from "./messages.js";
export * from "./codec.js";
export * from "./membership.js";
export * from "./command.js";
export * from "./exactly-once.js";
export { PaxosDecodeError } from "./bytes.js";
export type { MembershipAt } from "./log.js";

import { EMPTY_HARD_STATE } from "./types.js";
import type { Membership } from "./membership.js";
import type { DurableState } from "./ready.js";

/** The durable state of a brand-new replica: nothing persisted, the initial membership at slot 0. */
export function bootstrapState(membership: Membership): DurableState {
  return {
    hardState: EMPTY_HARD_STATE,
    snapshot: { slot: 0, membership },
    logFirstSlot: 1,
    lastSlot: 0,
    tail: [],
    memberships: [],
    appliedSlot: 0,
  };
}
