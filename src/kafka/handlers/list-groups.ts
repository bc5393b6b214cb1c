// ListGroups (16), v0–2: the groups this coordinator knows.
import type { ListGroupsResponse } from "../protocol/generated/list-groups-response.js";
import { ErrorCode } from "../protocol/generated/errors.js";
import type { HandlerContext } from "./index.js";

export async function handleListGroups(context: HandlerContext): Promise<ListGroupsResponse> {
  const coordinator = context.backend.groupCoordinator();
  const response: ListGroupsResponse = {
    errorCode: coordinator ? ErrorCode.NONE : ErrorCode.NOT_COORDINATOR,
    groups: (coordinator?.list() ?? []).map((g) => ({ groupId: g.groupId, protocolType: g.protocolType })),
  };
  if (context.apiVersion >= 1) response.throttleTimeMs = 0;
  return response;
}
