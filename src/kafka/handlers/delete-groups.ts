// DeleteGroups (42), v0–1: only empty groups; their offsets go with them.
import type { DeleteGroupsRequest } from "../protocol/generated/delete-groups-request.js";
import type { DeleteGroupsResponse } from "../protocol/generated/delete-groups-response.js";
import { ErrorCode } from "../protocol/generated/errors.js";
import type { HandlerContext } from "./index.js";

export async function handleDeleteGroups(context: HandlerContext, request: DeleteGroupsRequest): Promise<DeleteGroupsResponse> {
  if (!context.backend.groupCoordinator()) {
    return { throttleTimeMs: 0, results: request.groupsNames.map((groupId) => ({ groupId, errorCode: ErrorCode.NOT_COORDINATOR })) };
  }
  const codes = await context.backend.deleteGroups(request.groupsNames);
  return { throttleTimeMs: 0, results: request.groupsNames.map((groupId) => ({ groupId, errorCode: codes.get(groupId) ?? ErrorCode.GROUP_ID_NOT_FOUND })) };
}
