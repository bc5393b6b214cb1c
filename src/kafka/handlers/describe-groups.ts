// DescribeGroups (15), v0–4: state, protocol and members with their metadata and assignment
// bytes verbatim. An unknown group is reported as "Dead" with no error, as Kafka does.
import type { DescribeGroupsRequest } from "../protocol/generated/describe-groups-request.js";
import type { DescribeGroupsResponse, DescribedGroup } from "../protocol/generated/describe-groups-response.js";
import { ErrorCode } from "../protocol/generated/errors.js";
import type { HandlerContext } from "./index.js";

const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

export async function handleDescribeGroups(context: HandlerContext, request: DescribeGroupsRequest): Promise<DescribeGroupsResponse> {
  const v = context.apiVersion;
  const coordinator = context.backend.groupCoordinator();
  const groups: DescribedGroup[] = request.groups.map((groupId) => {
    const group: DescribedGroup = { errorCode: ErrorCode.NONE, groupId, groupState: "Dead", protocolType: "", protocolData: "", members: [] };
    if (!coordinator) group.errorCode = ErrorCode.NOT_COORDINATOR;
    const described = coordinator?.describe(groupId);
    if (described) {
      group.groupState = described.state;
      group.protocolType = described.protocolType;
      group.protocolData = described.protocolName;
      group.members = described.members.map((m) => {
        const member = {
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId as string | null | undefined,
          clientId: m.clientId,
          clientHost: m.clientHost,
          memberMetadata: Buffer.from(m.metadata),
          memberAssignment: Buffer.from(m.assignment),
        };
        if (v < 4) delete member.groupInstanceId;
        return member;
      });
    }
    if (v >= 3) group.authorizedOperations = AUTHORIZED_OPERATIONS_OMITTED;
    return group;
  });
  const response: DescribeGroupsResponse = { groups };
  if (v >= 1) response.throttleTimeMs = 0;
  return response;
}
