// Group membership: voters (count toward every quorum) and learners (receive the log, never
// counted). A configuration lives in the log as a `config` entry and governs the slots AFTER it
// (it takes effect when appended); the snapshot carries the configuration in force at its slot.
// Changes are one voter at a time, so the majorities of two neighbouring configurations always
// intersect (see docs/consensus.md, "Membership").
import { assert } from "../util/assert.js";
import { ByteReader, ByteWriter } from "./bytes.js";
import { replicaId, type ReplicaId } from "./types.js";

export interface Membership {
  readonly voters: readonly ReplicaId[];
  readonly learners: readonly ReplicaId[];
}

export const MEMBERS_MAX = 1024;

export type MembershipChange =
  | { readonly kind: "addLearner"; readonly replicaId: ReplicaId }
  | { readonly kind: "promote"; readonly replicaId: ReplicaId }
  | { readonly kind: "remove"; readonly replicaId: ReplicaId };

export function membership(voters: readonly number[], learners: readonly number[] = []): Membership {
  const result: Membership = {
    voters: [...voters].sort((a, b) => a - b).map(replicaId),
    learners: [...learners].sort((a, b) => a - b).map(replicaId),
  };
  assert(validMembership(result), `invalid membership ${formatMembership(result)}`);
  return result;
}

export function validMembership(m: Membership): boolean {
  if (m.voters.length + m.learners.length > MEMBERS_MAX) return false;
  const seen = new Set<number>();
  for (const list of [m.voters, m.learners]) {
    for (let i = 0; i < list.length; i++) {
      if (!Number.isSafeInteger(list[i]) || list[i] < 1) return false;
      if (i > 0 && list[i - 1] >= list[i]) return false;
      if (seen.has(list[i])) return false;
      seen.add(list[i]);
    }
  }
  return true;
}

export const EMPTY_MEMBERSHIP: Membership = Object.freeze({ voters: [], learners: [] });

export function isVoter(m: Membership, id: ReplicaId): boolean {
  return m.voters.includes(id);
}

export function isMember(m: Membership, id: ReplicaId): boolean {
  return m.voters.includes(id) || m.learners.includes(id);
}

export function membershipEquals(a: Membership, b: Membership): boolean {
  if (a.voters.length !== b.voters.length || a.learners.length !== b.learners.length) return false;
  for (let i = 0; i < a.voters.length; i++) if (a.voters[i] !== b.voters[i]) return false;
  for (let i = 0; i < a.learners.length; i++) if (a.learners[i] !== b.learners[i]) return false;
  return true;
}

/** Applies a single change; returns a reason string when the change is not allowed. */
export function applyChange(m: Membership, change: MembershipChange): Membership | string {
  const id = change.replicaId;
  switch (change.kind) {
    case "addLearner":
      if (isMember(m, id)) return `replica ${id} is already a member`;
      return membership(m.voters, [...m.learners, id]);
    case "promote":
      if (!m.learners.includes(id)) return `replica ${id} is not a learner`;
      return membership([...m.voters, id], m.learners.filter((x) => x !== id));
    case "remove":
      if (!isMember(m, id)) return `replica ${id} is not a member`;
      if (m.voters.length === 1 && m.voters[0] === id) return "cannot remove the last voter";
      return membership(m.voters.filter((x) => x !== id), m.learners.filter((x) => x !== id));
  }
}

/** True when b differs from a by at most one voter (the single-server change rule). */
export function isSingleVoterChange(a: Membership, b: Membership): boolean {
  let differences = 0;
  for (const v of a.voters) if (!b.voters.includes(v)) differences++;
  for (const v of b.voters) if (!a.voters.includes(v)) differences++;
  return differences <= 1;
}

export function formatMembership(m: Membership): string {
  const learners = m.learners.length > 0 ? ` learners=${m.learners.join(",")}` : "";
  return `voters=${m.voters.join(",")}${learners}`;
}

export function encodeMembership(m: Membership): Uint8Array {
  assert(validMembership(m), "encoding a valid membership");
  const writer = new ByteWriter(8 + 4 * (m.voters.length + m.learners.length));
  writer.u32(m.voters.length);
  for (const v of m.voters) writer.u32(v);
  writer.u32(m.learners.length);
  for (const l of m.learners) writer.u32(l);
  return writer.finish();
}

export function decodeMembership(bytes: Uint8Array): Membership {
  const reader = new ByteReader(bytes);
  const voters = readIds(reader);
  const learners = readIds(reader);
  reader.end();
  const m: Membership = { voters, learners };
  if (!validMembership(m)) reader.fail("membership is not sorted, unique and in range");
  return m;
}

function readIds(reader: ByteReader): ReplicaId[] {
  const count = reader.count(MEMBERS_MAX, 4);
  const ids: ReplicaId[] = [];
  for (let i = 0; i < count; i++) {
    const id = reader.u32();
    if (id < 1) reader.fail("replica id 0");
    ids.push(id as ReplicaId);
  }
  return ids;
}
