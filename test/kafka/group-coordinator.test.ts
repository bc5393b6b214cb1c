// The group coordinator implements Kafka's classic rebalance protocol. Method: drive it with
// explicit times (no timers) through the sequences real consumers produce — members joining,
// leaving, going silent, a coordinator failing over — and check generations, leaders,
// assignments, error codes and what was persisted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { GroupCoordinator, GroupError, type JoinRequest, type JoinResponse, type SyncResponse } from "../../src/kafka/group-coordinator.js";
import type { GroupInfo } from "../../src/meta/metadata.js";

const bytes = (s: string) => new TextEncoder().encode(s);

function setup(options: { initialRebalanceDelayMs?: number } = {}) {
  const persisted: GroupInfo[] = [];
  const coordinator = new GroupCoordinator(
    async (group) => {
      persisted.push(structuredClone(group));
      return true;
    },
    { sessionTimeoutMsMin: 1000, sessionTimeoutMsMax: 60_000, initialRebalanceDelayMs: options.initialRebalanceDelayMs ?? 0, groupMembersMax: 10, groupsMax: 10 },
  );
  return { coordinator, persisted };
}

function joinRequest(memberId: string, extra: Partial<JoinRequest> = {}): JoinRequest {
  return {
    groupId: "g",
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 20_000,
    memberId,
    groupInstanceId: null,
    protocolType: "consumer",
    protocols: [{ name: "range", metadata: bytes(`meta-${memberId || "new"}`) }],
    clientId: "client",
    clientHost: "/127.0.0.1",
    ...extra,
  };
}

/** Returns a getter: the response arrives later for parked joins. */
function join(c: GroupCoordinator, request: JoinRequest, nowMs: number): () => JoinResponse | undefined {
  let response: JoinResponse | undefined;
  c.join(request, nowMs, (r) => (response = r));
  return () => response;
}

function sync(c: GroupCoordinator, memberId: string, generationId: number, nowMs: number, assignments: Array<{ memberId: string; assignment: Uint8Array }> = []) {
  let response: SyncResponse | undefined;
  c.sync({ groupId: "g", generationId, memberId, groupInstanceId: null, assignments }, nowMs, (r) => (response = r));
  return () => response;
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

test("members join, the group rebalances into new generations, the leader's assignment reaches everyone", async () => {
  const { coordinator: c, persisted } = setup();
  const a = join(c, joinRequest(""), 0);
  assert.equal(a()?.errorCode, GroupError.NONE);
  const m1 = a()!.memberId;
  assert.equal(a()!.generationId, 1);
  assert.equal(a()!.leader, m1);
  assert.equal(a()!.members.length, 1);
  const s1 = sync(c, m1, 1, 1, [{ memberId: m1, assignment: bytes("all") }]);
  await flush();
  assert.equal(s1()?.errorCode, GroupError.NONE);
  assert.deepEqual(s1()?.assignment, bytes("all"));
  assert.equal(persisted.at(-1)?.generation, 1);

  // A second member joins: the group prepares a rebalance; the first learns it from its heartbeat.
  const b = join(c, joinRequest(""), 100);
  assert.ok(b() === undefined, "parked until everyone rejoined");
  assert.equal(c.heartbeat({ groupId: "g", generationId: 1, memberId: m1, groupInstanceId: null }, 200), GroupError.REBALANCE_IN_PROGRESS);
  const a2 = join(c, joinRequest(m1), 300);
  assert.equal(a2()?.generationId, 2);
  assert.equal(b()?.generationId, 2);
  const m2 = b()!.memberId;
  assert.equal(a2()!.leader, m1, "the old leader stays leader");
  assert.equal(a2()!.members.length, 2, "the leader gets every member's metadata");
  assert.equal(b()!.members.length, 0, "followers get none");
  const followerSync = sync(c, m2, 2, 400);
  assert.ok(followerSync() === undefined, "a follower waits for the leader's assignment");
  const leaderSync = sync(c, m1, 2, 410, [
    { memberId: m1, assignment: bytes("p0") },
    { memberId: m2, assignment: bytes("p1") },
  ]);
  await flush();
  assert.deepEqual(followerSync()?.assignment, bytes("p1"));
  assert.deepEqual(leaderSync()?.assignment, bytes("p0"));
  assert.equal(persisted.at(-1)?.members.length, 2);
  assert.equal(c.describe("g")?.state, "Stable");
});

test("a silent member expires after its session timeout and the group rebalances without it", async () => {
  const { coordinator: c } = setup();
  const a = join(c, joinRequest(""), 0);
  const m1 = a()!.memberId;
  sync(c, m1, 1, 0, [{ memberId: m1, assignment: bytes("x") }]);
  await flush();
  const b = join(c, joinRequest(""), 10);
  const a2 = join(c, joinRequest(m1), 20);
  const m2 = b()!.memberId;
  sync(c, m2, 2, 30);
  sync(c, m1, 2, 30, []);
  await flush();
  // m1 keeps heartbeating, m2 goes silent.
  for (let t = 1000; t <= 12_000; t += 1000) {
    c.heartbeat({ groupId: "g", generationId: 2, memberId: m1, groupInstanceId: null }, t);
    c.tick(t);
  }
  assert.equal(a2()?.generationId, 2);
  assert.equal(c.describe("g")?.members.length, 1);
  assert.equal(c.heartbeat({ groupId: "g", generationId: 2, memberId: m1, groupInstanceId: null }, 12_001), GroupError.REBALANCE_IN_PROGRESS);
  const again = join(c, joinRequest(m1), 12_002);
  assert.equal(again()?.generationId, 3);
  assert.equal(c.heartbeat({ groupId: "g", generationId: 2, memberId: m2, groupInstanceId: null }, 12_003), GroupError.UNKNOWN_MEMBER_ID);
});

test("a member that does not rejoin within the rebalance timeout is dropped; leaving empties the group", async () => {
  const { coordinator: c, persisted } = setup();
  const a = join(c, joinRequest(""), 0);
  const m1 = a()!.memberId;
  sync(c, m1, 1, 0, [{ memberId: m1, assignment: bytes("x") }]);
  await flush();
  const b = join(c, joinRequest(""), 10);
  assert.ok(b() === undefined);
  c.tick(10_000); // m1's session (10 s) has not expired, but it never rejoins...
  assert.ok(b() === undefined);
  c.tick(20_011); // ...and the rebalance timeout (20 s) passes.
  assert.equal(b()?.generationId, 2);
  assert.equal(b()?.members.length, 1);
  const m2 = b()!.memberId;
  assert.deepEqual(c.leave("g", [{ memberId: m2, groupInstanceId: null }, { memberId: "ghost", groupInstanceId: null }], 20_100), [GroupError.NONE, GroupError.UNKNOWN_MEMBER_ID]);
  assert.equal(c.describe("g")?.state, "Empty");
  await flush();
  assert.equal(persisted.at(-1)?.members.length, 0);
  assert.equal(c.canDelete("g"), GroupError.NONE);
});

test("protocol checks, timeouts and generations are validated with Kafka's error codes", async () => {
  const { coordinator: c } = setup();
  assert.equal(join(c, joinRequest("", { sessionTimeoutMs: 10 }), 0)()?.errorCode, GroupError.INVALID_SESSION_TIMEOUT);
  assert.equal(join(c, joinRequest("", { groupId: "" }), 0)()?.errorCode, GroupError.INVALID_GROUP_ID);
  const a = join(c, joinRequest(""), 0);
  const m1 = a()!.memberId;
  assert.equal(join(c, joinRequest("", { protocols: [{ name: "roundrobin", metadata: bytes("") }] }), 0)()?.errorCode, GroupError.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal(join(c, joinRequest("", { protocolType: "connect" }), 0)()?.errorCode, GroupError.INCONSISTENT_GROUP_PROTOCOL);
  assert.equal(join(c, joinRequest("nobody"), 0)()?.errorCode, GroupError.UNKNOWN_MEMBER_ID);
  assert.equal(sync(c, m1, 7, 0)()?.errorCode, GroupError.ILLEGAL_GENERATION);
  assert.equal(c.validateCommit("g", 1, m1, null), GroupError.REBALANCE_IN_PROGRESS, "commits wait for the generation to complete");
  sync(c, m1, 1, 0, [{ memberId: m1, assignment: bytes("x") }]);
  await flush();
  assert.equal(c.validateCommit("g", 1, m1, null), GroupError.NONE);
  assert.equal(c.validateCommit("g", 0, m1, null), GroupError.ILLEGAL_GENERATION);
  assert.equal(c.validateCommit("g", -1, "", null), GroupError.UNKNOWN_MEMBER_ID, "simple commits only into an empty group");
  assert.equal(c.validateCommit("other", -1, "", null), GroupError.NONE);
  assert.equal(c.canDelete("g"), GroupError.NON_EMPTY_GROUP);
});

test("the initial rebalance delay lets several members form the first generation together", () => {
  const { coordinator: c } = setup({ initialRebalanceDelayMs: 3000 });
  const a = join(c, joinRequest(""), 0);
  const b = join(c, joinRequest(""), 500);
  assert.ok(a() === undefined);
  c.tick(2999);
  assert.ok(a() === undefined);
  c.tick(3000);
  assert.equal(a()?.generationId, 1);
  assert.equal(b()?.generationId, 1);
  assert.equal(a()?.members.length, 2);
});

test("after failover the loaded group stays stable for members that keep heartbeating", () => {
  const { coordinator: c } = setup();
  const info: GroupInfo = {
    groupId: "g",
    protocolType: "consumer",
    generation: 5,
    protocolName: "range",
    leaderId: "m1",
    updatedMs: 0,
    members: ["m1", "m2"].map((memberId) => ({ memberId, groupInstanceId: null, clientId: "c", clientHost: "h", rebalanceTimeoutMs: 20_000, sessionTimeoutMs: 10_000, metadata: "", assignment: Buffer.from(memberId).toString("base64") })),
  };
  c.load([info], 1000);
  assert.equal(c.heartbeat({ groupId: "g", generationId: 5, memberId: "m1", groupInstanceId: null }, 2000), GroupError.NONE);
  const s = sync(c, "m2", 5, 2000);
  assert.deepEqual(s()?.assignment, bytes("m2"), "a stable group answers SyncGroup with the stored assignment");
  c.heartbeat({ groupId: "g", generationId: 5, memberId: "m1", groupInstanceId: null }, 11_500);
  c.tick(12_500); // m2 last seen at 2000 + 10 s session
  assert.equal(c.describe("g")?.state, "PreparingRebalance");
  assert.deepEqual(c.describe("g")?.members.map((m) => m.memberId), ["m1"]);
});
