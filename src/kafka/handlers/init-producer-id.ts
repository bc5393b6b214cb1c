// InitProducerId (22), v0–1: a producer id for idempotent producers, allocated through the
// metadata group (blocks of ids, so not every call costs a Paxos round). Transactional ids need a
// transaction coordinator, which synod does not have yet.
import type { InitProducerIdRequest } from "../protocol/generated/init-producer-id-request.js";
import type { InitProducerIdResponse } from "../protocol/generated/init-producer-id-response.js";
import { ErrorCode } from "../protocol/generated/errors.js";
import type { HandlerContext } from "./index.js";

export async function handleInitProducerId(context: HandlerContext, request: InitProducerIdRequest): Promise<InitProducerIdResponse> {
  if (request.transactionalId !== null) {
    return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1n, producerEpoch: -1 };
  }
  const result = await context.backend.allocateProducerId();
  return { throttleTimeMs: 0, errorCode: result.errorCode, producerId: BigInt(result.producerId), producerEpoch: result.producerEpoch };
}
