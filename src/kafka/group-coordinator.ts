// The consumer-group coordinator: Kafka's classic rebalance protocol (JoinGroup / SyncGroup /
// Heartbeat / LeaveGroup with generations), in the shape of Kafka's GroupCoordinator.
//
// What is replicated and what is not, as in Kafka: membership and heartbeats are soft state held
// by the coordinator in memory; each completed generation (protocol, leader, members, their
// metadata and assignments) and every offset commit are written through the metadata Paxos group
// (`persist` below) before the client hears "ok". A coordinator that takes over (restart or
// failover) loads the last completed generation from the metadata state and gives every member a
// fresh session timeout: members that keep heartbeating carry on, absent ones expire and the group
// rebalances.
//
// Time is an input (`nowMs` arguments and `tick`), so the coordinator is testable without timers;
// the broker calls `tick` periodically.
import { randomUUID } from "node:crypto";
import type { GroupInfo, GroupMember } from "../meta/metadata.js";

/** Kafka error codes this coordinator answers with. */
export const GroupError = {
  NONE: 0,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  GROUP_AUTHORIZATION_FAILED: 30,
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
  FENCED_INSTANCE_ID: 82,
  GROUP_MAX_SIZE_REACHED: 81,
} as const;

export type GroupState = "Empty" | "PreparingRebalance" | "CompletingRebalance" | "Stable" | "Dead";

export interface CoordinatorConfig {
  /** group.min.session.timeout.ms (Kafka default 6000). */
  sessionTimeoutMsMin: number;
  /** group.max.session.timeout.ms (Kafka default 1800000). */
  sessionTimeoutMsMax: number;
  /** group.initial.rebalance.delay.ms: wait for more members before the first generation (Kafka 3000). */
  initialRebalanceDelayMs: number;
  /** group.max.size (Kafka: unbounded); we bound it. */
  groupMembersMax: number;
  /** Groups held in memory at most (each costs a few KB); beyond it new groups are refused. */
  groupsMax: number;
}

export const DEFAULT_COORDINATOR_CONFIG: CoordinatorConfig = {
  sessionTimeoutMsMin: 6_000,
  sessionTimeoutMsMax: 1_800_000,
  initialRebalanceDelayMs: 3_000,
  groupMembersMax: 1_000,
  groupsMax: 100_000,
};

export interface JoinRequest {
  groupId: string;
  sessionTimeoutMs: number;
  /** -1 (v0) means: use the session timeout. */
  rebalanceTimeoutMs: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  protocols: Array<{ name: string; metadata: Uint8Array }>;
  clientId: string;
  clientHost: string;
}

export interface JoinResponse {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  members: Array<{ memberId: string; groupInstanceId: string | null; metadata: Uint8Array }>;
}

export interface SyncRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  assignments: Array<{ memberId: string; assignment: Uint8Array }>;
}

export interface SyncResponse {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Uint8Array;
}

interface Member {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: Array<{ name: string; metadata: Uint8Array }>;
  assignment: Uint8Array;
  heartbeatDeadlineMs: number;
  /** Set while the member's JoinGroup is parked waiting for the rebalance to complete. */
  awaitingJoin?: (response: JoinResponse) => void;
  awaitingSync?: (response: SyncResponse) => void;
}

interface Group {
  groupId: string;
  state: GroupState;
  protocolType: string | null;
  protocolName: string | null;
  generation: number;
  leaderId: string | null;
  members: Map<string, Member>;
  /** When the current PreparingRebalance must complete even if some members have not rejoined. */
  rebalanceDeadlineMs: number;
  /** A rebalance that starts from Empty waits until then for more members (initial delay). */
  joinDelayUntilMs: number;
}

const EMPTY = new Uint8Array(0);

/** Writes a group's completed generation durably; resolves true once chosen and applied. */
export type PersistGroup = (group: GroupInfo) => Promise<boolean>;

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

function fromBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, "base64"));
}

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();

  constructor(
    private readonly persist: PersistGroup,
    private readonly config: CoordinatorConfig = DEFAULT_COORDINATOR_CONFIG,
  ) {}

  /** Loads durable groups (after restart or failover); every member gets a fresh session. */
  load(groups: Iterable<GroupInfo>, nowMs: number): void {
    this.groups.clear();
    for (const info of groups) {
      const group = this.newGroup(info.groupId);
      group.protocolType = info.protocolType || null;
      group.protocolName = info.protocolName;
      group.generation = info.generation;
      group.leaderId = info.leaderId;
      for (const m of info.members) {
        group.members.set(m.memberId, {
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          sessionTimeoutMs: m.sessionTimeoutMs,
          rebalanceTimeoutMs: m.rebalanceTimeoutMs,
          protocols: info.protocolName ? [{ name: info.protocolName, metadata: fromBase64(m.metadata) }] : [],
          assignment: fromBase64(m.assignment),
          heartbeatDeadlineMs: nowMs + m.sessionTimeoutMs,
        });
      }
      group.state = group.members.size > 0 ? "Stable" : "Empty";
      this.groups.set(info.groupId, group);
    }
  }

  private newGroup(groupId: string): Group {
    return {
      groupId,
      state: "Empty",
      protocolType: null,
      protocolName: null,
      generation: 0,
      leaderId: null,
      members: new Map(),
      rebalanceDeadlineMs: 0,
      joinDelayUntilMs: 0,
    };
  }

  /** Answers every parked request with an error (the coordinator is moving away). */
  shutdown(errorCode: number = GroupError.NOT_COORDINATOR): void {
    for (const group of this.groups.values()) {
      for (const member of group.members.values()) {
        member.awaitingJoin?.(this.joinError(errorCode, member.memberId));
        member.awaitingSync?.({ errorCode, protocolType: null, protocolName: null, assignment: EMPTY });
        member.awaitingJoin = undefined;
        member.awaitingSync = undefined;
      }
    }
    this.groups.clear();
  }

  private joinError(errorCode: number, memberId = ""): JoinResponse {
    return { errorCode, generationId: -1, protocolType: null, protocolName: null, leader: "", memberId, members: [] };
  }

  join(request: JoinRequest, nowMs: number, respond: (response: JoinResponse) => void): void {
    if (request.groupId === "") return respond(this.joinError(GroupError.INVALID_GROUP_ID));
    if (request.sessionTimeoutMs < this.config.sessionTimeoutMsMin || request.sessionTimeoutMs > this.config.sessionTimeoutMsMax) {
      return respond(this.joinError(GroupError.INVALID_SESSION_TIMEOUT, request.memberId));
    }
    let group = this.groups.get(request.groupId);
    if (!group) {
      if (request.memberId !== "") return respond(this.joinError(GroupError.UNKNOWN_MEMBER_ID, request.memberId));
      if (this.groups.size >= this.config.groupsMax) return respond(this.joinError(GroupError.COORDINATOR_NOT_AVAILABLE));
      group = this.newGroup(request.groupId);
      this.groups.set(request.groupId, group);
    }
    if (group.state === "Dead") return respond(this.joinError(GroupError.COORDINATOR_NOT_AVAILABLE, request.memberId));
    if (!this.protocolsCompatible(group, request)) return respond(this.joinError(GroupError.INCONSISTENT_GROUP_PROTOCOL, request.memberId));
    if (group.members.size === 0) group.protocolType = request.protocolType;

    const staticMember = request.groupInstanceId !== null ? [...group.members.values()].find((m) => m.groupInstanceId === request.groupInstanceId) : undefined;
    if (request.memberId === "") {
      if (staticMember) return this.rejoinStatic(group, staticMember, request, nowMs, respond);
      if (group.members.size >= this.config.groupMembersMax) return respond(this.joinError(GroupError.GROUP_MAX_SIZE_REACHED));
      const memberId = `${request.clientId || "member"}-${randomUUID()}`;
      const member = this.newMember(memberId, request, nowMs);
      group.members.set(memberId, member);
      member.awaitingJoin = respond;
      if (group.state !== "PreparingRebalance") this.prepareRebalance(group, nowMs);
      this.maybeCompleteJoin(group, nowMs);
      return;
    }
    const member = group.members.get(request.memberId);
    if (!member) return respond(this.joinError(GroupError.UNKNOWN_MEMBER_ID, request.memberId));
    if (staticMember && staticMember !== member) return respond(this.joinError(GroupError.FENCED_INSTANCE_ID, request.memberId));
    const protocolsChanged = !sameProtocols(member.protocols, request.protocols);
    this.updateMember(member, request, nowMs);
    if (group.state === "Stable" && !protocolsChanged && member.memberId !== group.leaderId) {
      // Nothing changed for a follower: answer with the current generation, no rebalance.
      return respond(this.joinResponse(group, member));
    }
    member.awaitingJoin?.(this.joinError(GroupError.UNKNOWN_MEMBER_ID, member.memberId));
    member.awaitingJoin = respond;
    if (group.state !== "PreparingRebalance") this.prepareRebalance(group, nowMs);
    this.maybeCompleteJoin(group, nowMs);
  }

  private rejoinStatic(group: Group, old: Member, request: JoinRequest, nowMs: number, respond: (r: JoinResponse) => void): void {
    // A static member restarting gets a new member id and keeps its place and assignment.
    const memberId = `${request.groupInstanceId}-${randomUUID()}`;
    group.members.delete(old.memberId);
    old.awaitingJoin?.(this.joinError(GroupError.FENCED_INSTANCE_ID, old.memberId));
    old.awaitingSync?.({ errorCode: GroupError.FENCED_INSTANCE_ID, protocolType: null, protocolName: null, assignment: EMPTY });
    const member = this.newMember(memberId, request, nowMs);
    member.assignment = old.assignment;
    group.members.set(memberId, member);
    if (group.leaderId === old.memberId) group.leaderId = memberId;
    if (group.state === "Stable" && sameProtocols(old.protocols, request.protocols)) return respond(this.joinResponse(group, member));
    member.awaitingJoin = respond;
    if (group.state !== "PreparingRebalance") this.prepareRebalance(group, nowMs);
    this.maybeCompleteJoin(group, nowMs);
  }

  private newMember(memberId: string, request: JoinRequest, nowMs: number): Member {
    const member: Member = {
      memberId,
      groupInstanceId: request.groupInstanceId,
      clientId: request.clientId,
      clientHost: request.clientHost,
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: request.rebalanceTimeoutMs,
      protocols: request.protocols,
      assignment: EMPTY,
      heartbeatDeadlineMs: 0,
    };
    this.updateMember(member, request, nowMs);
    return member;
  }

  private updateMember(member: Member, request: JoinRequest, nowMs: number): void {
    member.sessionTimeoutMs = request.sessionTimeoutMs;
    member.rebalanceTimeoutMs = request.rebalanceTimeoutMs < 0 ? request.sessionTimeoutMs : request.rebalanceTimeoutMs;
    member.protocols = request.protocols;
    member.heartbeatDeadlineMs = nowMs + member.sessionTimeoutMs;
  }

  private protocolsCompatible(group: Group, request: JoinRequest): boolean {
    if (request.protocolType === "" || request.protocols.length === 0) return false;
    if (group.members.size === 0) return true;
    if (group.protocolType !== null && group.protocolType !== request.protocolType) return false;
    const candidates = this.candidateProtocols(group);
    return request.protocols.some((p) => candidates.has(p.name));
  }

  /** Protocols every current member supports. */
  private candidateProtocols(group: Group, only?: Iterable<Member>): Set<string> {
    let common: Set<string> | undefined;
    for (const member of only ?? group.members.values()) {
      const names = new Set(member.protocols.map((p) => p.name));
      common = common ? new Set([...common].filter((n) => names.has(n))) : names;
    }
    return common ?? new Set();
  }

  private prepareRebalance(group: Group, nowMs: number): void {
    for (const member of group.members.values()) {
      // Members parked in SyncGroup must rejoin: tell them now.
      member.awaitingSync?.({ errorCode: GroupError.REBALANCE_IN_PROGRESS, protocolType: null, protocolName: null, assignment: EMPTY });
      member.awaitingSync = undefined;
    }
    const wasEmpty = group.state === "Empty";
    group.state = "PreparingRebalance";
    const rebalanceTimeoutMs = Math.max(0, ...[...group.members.values()].map((m) => m.rebalanceTimeoutMs));
    group.rebalanceDeadlineMs = nowMs + rebalanceTimeoutMs;
    group.joinDelayUntilMs = wasEmpty ? nowMs + Math.min(this.config.initialRebalanceDelayMs, rebalanceTimeoutMs) : 0;
  }

  /** Completes the join phase when every member has rejoined (or, from tick, at the deadline). */
  private maybeCompleteJoin(group: Group, nowMs: number, deadlinePassed = false): void {
    if (group.state !== "PreparingRebalance") return;
    const members = [...group.members.values()];
    const allJoined = members.every((m) => m.awaitingJoin);
    if (!deadlinePassed && (!allJoined || nowMs < group.joinDelayUntilMs)) return;
    for (const member of members) {
      if (!member.awaitingJoin) group.members.delete(member.memberId);
    }
    group.generation++;
    if (group.members.size === 0) {
      group.state = "Empty";
      group.protocolName = null;
      group.leaderId = null;
      this.persistGroup(group);
      return;
    }
    const joined = [...group.members.values()];
    group.protocolName = this.selectProtocol(group);
    if (!group.leaderId || !group.members.has(group.leaderId)) group.leaderId = joined[0].memberId;
    group.state = "CompletingRebalance";
    for (const member of joined) {
      member.heartbeatDeadlineMs = nowMs + member.sessionTimeoutMs;
      const respond = member.awaitingJoin!;
      member.awaitingJoin = undefined;
      respond(this.joinResponse(group, member));
    }
  }

  /** Each member votes for its most preferred protocol among the common ones; the most votes wins. */
  private selectProtocol(group: Group): string {
    const candidates = this.candidateProtocols(group);
    const votes = new Map<string, number>();
    for (const member of group.members.values()) {
      const choice = member.protocols.find((p) => candidates.has(p.name));
      if (choice) votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1);
    }
    let best = "";
    let bestVotes = -1;
    for (const [name, count] of votes) {
      if (count > bestVotes) {
        best = name;
        bestVotes = count;
      }
    }
    return best;
  }

  private joinResponse(group: Group, member: Member): JoinResponse {
    const isLeader = member.memberId === group.leaderId;
    return {
      errorCode: GroupError.NONE,
      generationId: group.generation,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? "",
      memberId: member.memberId,
      members: isLeader
        ? [...group.members.values()].map((m) => ({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            metadata: m.protocols.find((p) => p.name === group.protocolName)?.metadata ?? EMPTY,
          }))
        : [],
    };
  }

  sync(request: SyncRequest, nowMs: number, respond: (response: SyncResponse) => void): void {
    const error = (errorCode: number): void => respond({ errorCode, protocolType: null, protocolName: null, assignment: EMPTY });
    const group = this.groups.get(request.groupId);
    if (!group) return error(GroupError.UNKNOWN_MEMBER_ID);
    const member = group.members.get(request.memberId);
    if (!member) return error(GroupError.UNKNOWN_MEMBER_ID);
    if (request.groupInstanceId !== null && member.groupInstanceId !== request.groupInstanceId) return error(GroupError.FENCED_INSTANCE_ID);
    if (request.generationId !== group.generation) return error(GroupError.ILLEGAL_GENERATION);
    member.heartbeatDeadlineMs = nowMs + member.sessionTimeoutMs;
    switch (group.state) {
      case "PreparingRebalance":
        return error(GroupError.REBALANCE_IN_PROGRESS);
      case "Stable":
        return respond({ errorCode: GroupError.NONE, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment });
      case "CompletingRebalance":
        break;
      default:
        return error(GroupError.UNKNOWN_MEMBER_ID);
    }
    member.awaitingSync?.({ errorCode: GroupError.REBALANCE_IN_PROGRESS, protocolType: null, protocolName: null, assignment: EMPTY });
    member.awaitingSync = respond;
    if (member.memberId !== group.leaderId) return;
    const assignments = new Map(request.assignments.map((a) => [a.memberId, a.assignment]));
    for (const m of group.members.values()) m.assignment = assignments.get(m.memberId) ?? EMPTY;
    const generation = group.generation;
    this.persistGroup(group).then((ok) => {
      // The group may have moved on (a member left, the coordinator moved) while the write was in
      // flight; only the generation that was written completes.
      if (group.generation !== generation || group.state !== "CompletingRebalance") return;
      if (!ok) {
        for (const m of group.members.values()) {
          m.awaitingSync?.({ errorCode: GroupError.NOT_COORDINATOR, protocolType: null, protocolName: null, assignment: EMPTY });
          m.awaitingSync = undefined;
        }
        return;
      }
      group.state = "Stable";
      for (const m of group.members.values()) {
        const reply = m.awaitingSync;
        m.awaitingSync = undefined;
        reply?.({ errorCode: GroupError.NONE, protocolType: group.protocolType, protocolName: group.protocolName, assignment: m.assignment });
      }
    });
  }

  heartbeat(request: { groupId: string; generationId: number; memberId: string; groupInstanceId: string | null }, nowMs: number): number {
    const group = this.groups.get(request.groupId);
    if (!group) return GroupError.UNKNOWN_MEMBER_ID;
    const member = group.members.get(request.memberId);
    if (!member) return GroupError.UNKNOWN_MEMBER_ID;
    if (request.groupInstanceId !== null && member.groupInstanceId !== request.groupInstanceId) return GroupError.FENCED_INSTANCE_ID;
    if (request.generationId !== group.generation) return GroupError.ILLEGAL_GENERATION;
    member.heartbeatDeadlineMs = nowMs + member.sessionTimeoutMs;
    if (group.state === "PreparingRebalance") return GroupError.REBALANCE_IN_PROGRESS;
    return GroupError.NONE;
  }

  /** LeaveGroup for one member (v0–2) or several (v3+): per-member error codes. */
  leave(groupId: string, members: Array<{ memberId: string; groupInstanceId: string | null }>, nowMs: number): number[] {
    const group = this.groups.get(groupId);
    if (!group) return members.map(() => GroupError.UNKNOWN_MEMBER_ID);
    const codes = members.map(({ memberId, groupInstanceId }) => {
      const member =
        memberId !== "" ? group.members.get(memberId) : [...group.members.values()].find((m) => groupInstanceId !== null && m.groupInstanceId === groupInstanceId);
      if (!member) return GroupError.UNKNOWN_MEMBER_ID;
      if (groupInstanceId !== null && member.groupInstanceId !== groupInstanceId) return GroupError.FENCED_INSTANCE_ID;
      this.removeMember(group, member, nowMs);
      return GroupError.NONE;
    });
    return codes;
  }

  private removeMember(group: Group, member: Member, nowMs: number): void {
    group.members.delete(member.memberId);
    member.awaitingJoin?.(this.joinError(GroupError.UNKNOWN_MEMBER_ID, member.memberId));
    member.awaitingSync?.({ errorCode: GroupError.UNKNOWN_MEMBER_ID, protocolType: null, protocolName: null, assignment: EMPTY });
    if (group.leaderId === member.memberId) group.leaderId = null;
    if (group.state === "PreparingRebalance") {
      this.maybeCompleteJoin(group, nowMs);
    } else if (group.state === "Stable" || group.state === "CompletingRebalance") {
      this.prepareRebalance(group, nowMs);
      this.maybeCompleteJoin(group, nowMs);
    }
  }

  /** Expires silent members and completes overdue rebalances; call it every few hundred ms. */
  tick(nowMs: number): void {
    for (const group of this.groups.values()) {
      if (group.state === "PreparingRebalance") {
        this.maybeCompleteJoin(group, nowMs, nowMs >= group.rebalanceDeadlineMs);
        continue;
      }
      for (const member of [...group.members.values()]) {
        // A member parked in JoinGroup is waiting on us, not silent.
        if (member.awaitingJoin) continue;
        if (nowMs > member.heartbeatDeadlineMs) this.removeMember(group, member, nowMs);
      }
    }
  }

  /** OffsetCommit validation (Kafka GroupCoordinator.handleCommitOffsets): an error code or NONE. */
  validateCommit(groupId: string, generationId: number, memberId: string, groupInstanceId: string | null): number {
    const group = this.groups.get(groupId);
    if (generationId < 0 && memberId === "") {
      // A simple consumer (assign(), no group membership) may commit while the group is empty.
      return !group || group.state === "Empty" ? GroupError.NONE : GroupError.UNKNOWN_MEMBER_ID;
    }
    if (!group) return generationId < 0 ? GroupError.NONE : GroupError.ILLEGAL_GENERATION;
    if (group.state === "CompletingRebalance") return GroupError.REBALANCE_IN_PROGRESS;
    const member = group.members.get(memberId);
    if (!member) return GroupError.UNKNOWN_MEMBER_ID;
    if (groupInstanceId !== null && member.groupInstanceId !== groupInstanceId) return GroupError.FENCED_INSTANCE_ID;
    if (generationId !== group.generation) return GroupError.ILLEGAL_GENERATION;
    return GroupError.NONE;
  }

  /** DeleteGroups: only empty groups; the caller deletes their durable state. */
  canDelete(groupId: string): number {
    const group = this.groups.get(groupId);
    if (!group) return GroupError.NONE;
    if (group.state !== "Empty") return GroupError.NON_EMPTY_GROUP;
    return GroupError.NONE;
  }

  forget(groupId: string): void {
    this.groups.delete(groupId);
  }

  describe(groupId: string): { state: GroupState; protocolType: string; protocolName: string; members: Array<Omit<GroupMember, "metadata" | "assignment"> & { metadata: Uint8Array; assignment: Uint8Array }> } | undefined {
    const group = this.groups.get(groupId);
    if (!group) return undefined;
    return {
      state: group.state,
      protocolType: group.protocolType ?? "",
      protocolName: group.state === "Stable" || group.state === "CompletingRebalance" ? (group.protocolName ?? "") : "",
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        sessionTimeoutMs: m.sessionTimeoutMs,
        metadata: m.protocols.find((p) => p.name === group.protocolName)?.metadata ?? EMPTY,
        assignment: m.assignment,
      })),
    };
  }

  list(): Array<{ groupId: string; protocolType: string; state: GroupState }> {
    return [...this.groups.values()].map((g) => ({ groupId: g.groupId, protocolType: g.protocolType ?? "", state: g.state }));
  }

  private persistGroup(group: Group): Promise<boolean> {
    const info: GroupInfo = {
      groupId: group.groupId,
      protocolType: group.protocolType ?? "",
      generation: group.generation,
      protocolName: group.protocolName,
      leaderId: group.leaderId,
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        sessionTimeoutMs: m.sessionTimeoutMs,
        metadata: toBase64(m.protocols.find((p) => p.name === group.protocolName)?.metadata ?? EMPTY),
        assignment: toBase64(m.assignment),
      })),
      updatedMs: 0,
    };
    return this.persist(info).catch(() => false);
  }
}

function sameProtocols(a: Array<{ name: string; metadata: Uint8Array }>, b: Array<{ name: string; metadata: Uint8Array }>): boolean {
  if (a.length !== b.length) return false;
  return a.every((p, i) => p.name === b[i].name && Buffer.compare(Buffer.from(p.metadata), Buffer.from(b[i].metadata)) === 0);
}
