// SyncGroup (14), v0–3: followers wait for the leader's assignment; the generation is written
// through the metadata group before anyone is answered.
import type { SyncGroupRequest } from "../protocol/generated/sync-group-request.js";
import type { SyncGroupResponse } from "../protocol/generated/sync-group-response.js";
import { ErrorCode } from "../protocol/generated/errors.js";
import type { HandlerContext } from "./index.js";

export async function handleSyncGroup(context: HandlerContext, request: SyncGroupRequest): Promise<SyncGroupResponse> {
  const coordinator = context.backend.groupCoordinator();
  const shape = (errorCode: number, assignment: Uint8Array): SyncGroupResponse => {
    const response: SyncGroupResponse = { errorCode, assignment: Buffer.from(assignment.buffer, assignment.byteOffset, assignment.byteLength) };
    if (context.apiVersion >= 1) response.throttleTimeMs = 0;
    return response;
  };
  if (!coordinator) return shape(ErrorCode.NOT_COORDINATOR, new Uint8Array(0));
  const result = await new Promise<{ errorCode: number; assignment: Uint8Array }>((resolve) =>
    coordinator.sync(
      {
        groupId: request.groupId,
        generationId: request.generationId,
        memberId: request.memberId,
        groupInstanceId: request.groupInstanceId ?? null,
        assignments: request.assignments.map((a) => ({ memberId: a.memberId, assignment: a.assignment })),
      },
      context.nowMs(),
      resolve,
    ),
  );
  return shape(result.errorCode, result.assignment);
}
