// LeaveGroup (13), v0–3: one member (v0–2) or a batch of members by id or instance id (v3).
import type { LeaveGroupRequest } from "../protocol/generated/leave-group-request.js";
import type { LeaveGroupResponse } from "../protocol/generated/leave-group-response.js";
import { ErrorCode } from "../protocol/generated/errors.js";
import type { HandlerContext } from "./index.js";

export async function handleLeaveGroup(context: HandlerContext, request: LeaveGroupRequest): Promise<LeaveGroupResponse> {
  const v = context.apiVersion;
  const coordinator = context.backend.groupCoordinator();
  const members = v >= 3 ? (request.members ?? []).map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId })) : [{ memberId: request.memberId ?? "", groupInstanceId: null }];
  const codes = coordinator ? coordinator.leave(request.groupId, members, context.nowMs()) : members.map(() => ErrorCode.NOT_COORDINATOR);
  if (v < 3) {
    const response: LeaveGroupResponse = { errorCode: codes[0] };
    if (v >= 1) response.throttleTimeMs = 0;
    return response;
  }
  return {
    throttleTimeMs: 0,
    errorCode: coordinator ? ErrorCode.NONE : ErrorCode.NOT_COORDINATOR,
    members: members.map((m, i) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: codes[i] })),
  };
}
