// FindCoordinator (10), v0–2: groups are coordinated by the metadata group's leader (the node
// that holds the authoritative group state); the client is pointed there.
import type { FindCoordinatorRequest } from "../protocol/generated/find-coordinator-request.js";
import type { FindCoordinatorResponse } from "../protocol/generated/find-coordinator-response.js";
import { ErrorCode } from "../protocol/generated/errors.js";
import type { HandlerContext } from "./index.js";

export async function handleFindCoordinator(context: HandlerContext, request: FindCoordinatorRequest): Promise<FindCoordinatorResponse> {
  const v = context.apiVersion;
  const keyType = request.keyType ?? 0;
  const nodeId = context.backend.groupCoordinatorNode();
  const address = nodeId >= 0 ? context.backend.cluster.advertised(nodeId) : undefined;
  let errorCode: number = ErrorCode.NONE;
  let errorMessage: string | null = null;
  if (keyType === 1) {
    errorCode = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    errorMessage = "transactions are not supported by synod yet";
  } else if (keyType !== 0) {
    errorCode = ErrorCode.INVALID_REQUEST;
    errorMessage = `unknown coordinator key type ${keyType}`;
  } else if (!address) {
    errorCode = ErrorCode.COORDINATOR_NOT_AVAILABLE;
    errorMessage = "no leader for the metadata group yet";
  }
  const ok = errorCode === ErrorCode.NONE;
  const response: FindCoordinatorResponse = {
    errorCode,
    nodeId: ok ? nodeId : -1,
    host: ok ? address!.host : "",
    port: ok ? address!.port : -1,
  };
  if (v >= 1) {
    response.throttleTimeMs = 0;
    response.errorMessage = errorMessage;
  }
  return response;
}
