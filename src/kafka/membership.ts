// Moving replicas between nodes: the plans (which partition's replica set becomes what) and the
// step a group's leader takes toward its target set. A move is written to the metadata group as
// the partition's new target replica list; the partition group's leader then walks its Paxos
// membership there one voter at a time — add the new node as a learner, promote it once caught
// up, remove the old one (handing leadership away first if it is itself) — so the group never
// loses its majority and never runs two changes at once.
import type { MetadataState, TopicInfo } from "../meta/metadata.js";

export interface ReplicaMove {
  name: string;
  partition: number;
  replicas: number[];
}

/** Nodes that may receive replicas: registered and not being decommissioned. */
export function activeNodes(meta: MetadataState): number[] {
  return [...meta.nodes.values()].filter((n) => n.state !== "decommissioning").map((n) => n.nodeId).sort((a, b) => a - b);
}

function replicaCounts(topics: Iterable<TopicInfo>, nodes: number[]): Map<number, number> {
  const counts = new Map(nodes.map((id) => [id, 0]));
  for (const topic of topics) for (const replicas of topic.partitions) for (const id of replicas) if (counts.has(id)) counts.set(id, counts.get(id)! + 1);
  return counts;
}

/** Replaces `nodeId` in every replica set with the least-loaded active node not already in it. */
export function planDecommission(meta: MetadataState, nodeId: number): ReplicaMove[] {
  const active = activeNodes(meta).filter((id) => id !== nodeId);
  const counts = replicaCounts(meta.topics.values(), active);
  const moves: ReplicaMove[] = [];
  for (const topic of [...meta.topics.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    topic.partitions.forEach((replicas, partition) => {
      if (!replicas.includes(nodeId)) return;
      const candidates = active.filter((id) => !replicas.includes(id)).sort((a, b) => counts.get(a)! - counts.get(b)! || a - b);
      // Too few nodes left for this replication factor: the replica is dropped rather than kept.
      const next = candidates.length > 0 ? replicas.map((id) => (id === nodeId ? candidates[0] : id)) : replicas.filter((id) => id !== nodeId);
      if (candidates.length > 0) counts.set(candidates[0], counts.get(candidates[0])! + 1);
      if (next.length > 0) moves.push({ name: topic.name, partition, replicas: next });
    });
  }
  return moves;
}

/**
 * Evens out replicas over the active nodes with as few moves as possible: while the most loaded
 * node holds more than one replica above the least loaded, move one of its replicas (of a
 * partition the least loaded does not host) there, keeping the replica's position in the list so
 * preferred leaders stay where they were unless the moved replica was the preferred one.
 */
export function planRebalance(meta: MetadataState, movesMax = 10_000): ReplicaMove[] {
  const active = activeNodes(meta);
  if (active.length < 2) return [];
  const counts = replicaCounts(meta.topics.values(), active);
  const target = new Map<string, number[]>();
  const topics = [...meta.topics.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const topic of topics) topic.partitions.forEach((replicas, p) => target.set(`${topic.name}\u0000${p}`, [...replicas]));
  for (let moves = 0; moves < movesMax; moves++) {
    const byLoad = [...counts].sort((a, b) => a[1] - b[1] || a[0] - b[0]);
    const [lightest, lightLoad] = byLoad[0];
    const [heaviest, heavyLoad] = byLoad[byLoad.length - 1];
    if (heavyLoad - lightLoad <= 1) break;
    const key = [...target].find(([, replicas]) => replicas.includes(heaviest) && !replicas.includes(lightest))?.[0];
    if (!key) break;
    const replicas = target.get(key)!;
    replicas[replicas.indexOf(heaviest)] = lightest;
    counts.set(heaviest, heavyLoad - 1);
    counts.set(lightest, lightLoad + 1);
  }
  const moves: ReplicaMove[] = [];
  for (const topic of topics) {
    topic.partitions.forEach((replicas, partition) => {
      const next = target.get(`${topic.name}\u0000${partition}`)!;
      if (next.join() !== replicas.join()) moves.push({ name: topic.name, partition, replicas: next });
    });
  }
  return moves;
}

export type MembershipStep =
  | { kind: "addLearner" | "promote" | "remove"; replicaId: number }
  | { kind: "transfer"; to: number }
  | undefined;

/**
 * The next single change that brings a group's membership toward `desired` voters, as decided by
 * its leader `self`: first add and promote missing replicas (the group grows, never shrinks below
 * its majority), then remove extra ones; the leader removes itself only after handing leadership
 * to a remaining voter.
 */
export function nextMembershipStep(current: { voters: readonly number[]; learners: readonly number[] }, desired: readonly number[], self: number): MembershipStep {
  const missing = desired.filter((id) => !current.voters.includes(id));
  for (const id of missing) if (current.learners.includes(id)) return { kind: "promote", replicaId: id };
  if (missing.length > 0) return { kind: "addLearner", replicaId: missing[0] };
  const extraLearner = current.learners.find((id) => !desired.includes(id));
  if (extraLearner !== undefined) return { kind: "remove", replicaId: extraLearner };
  const extra = current.voters.filter((id) => !desired.includes(id));
  if (extra.length === 0) return undefined;
  const other = extra.find((id) => id !== self);
  if (other !== undefined) return { kind: "remove", replicaId: other };
  return { kind: "transfer", to: desired[0] };
}
