// Heartbeat (12), v0–3: keeps a member's session; REBALANCE_IN_PROGRESS tells it to rejoin.
import type { HeartbeatRequest } from "../protocol/generated/heartbeat-request.js";
import type { HeartbeatResponse } from "../protocol/generated/heartbeat-response.js";
import { ErrorCode } from "../protocol/generated/errors.js";
import type { HandlerContext } from "./index.js";

export async function handleHeartbeat(context: HandlerContext, request: HeartbeatRequest): Promise<HeartbeatResponse> {
  const coordinator = context.backend.groupCoordinator();
  const errorCode = coordinator
    ? coordinator.heartbeat({ groupId: request.groupId, generationId: request.generationId, memberId: request.memberId, groupInstanceId: request.groupInstanceId ?? null }, context.nowMs())
    : ErrorCode.NOT_COORDINATOR;
  return context.apiVersion >= 1 ? { throttleTimeMs: 0, errorCode } : { errorCode };
}
