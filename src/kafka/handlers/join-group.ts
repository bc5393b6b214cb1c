// JoinGroup (11), v0–5: parked until the group's rebalance completes (group-coordinator.ts).
import type { JoinGroupRequest } from "../protocol/generated/join-group-request.js";
import type { JoinGroupResponse } from "../protocol/generated/join-group-response.js";
import { ErrorCode } from "../protocol/generated/errors.js";
import type { HandlerContext } from "./index.js";

export async function handleJoinGroup(context: HandlerContext, request: JoinGroupRequest): Promise<JoinGroupResponse> {
  const v = context.apiVersion;
  const coordinator = context.backend.groupCoordinator();
  const shape = (r: Omit<JoinGroupResponse, "throttleTimeMs">): JoinGroupResponse => {
    const response: JoinGroupResponse = { ...r, members: r.members.map((m) => (v >= 5 ? m : { memberId: m.memberId, metadata: m.metadata })) };
    if (v >= 2) response.throttleTimeMs = 0;
    delete response.protocolType;
    return response;
  };
  if (!coordinator) {
    return shape({ errorCode: ErrorCode.NOT_COORDINATOR, generationId: -1, protocolName: "", leader: "", memberId: request.memberId, members: [] });
  }
  const response = await new Promise<Parameters<Parameters<typeof coordinator.join>[2]>[0]>((resolve) =>
    coordinator.join(
      {
        groupId: request.groupId,
        sessionTimeoutMs: request.sessionTimeoutMs,
        rebalanceTimeoutMs: v >= 1 ? (request.rebalanceTimeoutMs ?? -1) : -1,
        memberId: request.memberId,
        groupInstanceId: request.groupInstanceId ?? null,
        protocolType: request.protocolType,
        protocols: request.protocols.map((p) => ({ name: p.name, metadata: p.metadata })),
        clientId: context.clientId,
        clientHost: context.clientHost,
      },
      context.nowMs(),
      resolve,
    ),
  );
  return shape({
    errorCode: response.errorCode,
    generationId: response.generationId,
    protocolName: response.protocolName ?? "",
    leader: response.leader,
    memberId: response.memberId,
    members: response.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: Buffer.from(m.metadata) })),
  });
}
