// Produce (0), v3–7: record batches to partition leaders. Each partition's batches go through its
// Paxos group (kafka/cluster.ts); acks=1 and acks=-1 answer once chosen and durable, acks=0 sends
// no response at all (the client expects none).
import type { ProduceRequest } from "../protocol/generated/produce-request.js";
import type { ProduceResponse, TopicProduceResponse } from "../protocol/generated/produce-response.js";
import { ErrorCode } from "../protocol/generated/errors.js";
import { validateTopicName } from "../topic-config.js";
import type { HandlerContext } from "./index.js";

export async function handleProduce(context: HandlerContext, request: ProduceRequest): Promise<ProduceResponse | null> {
  const { backend } = context;
  const acksValid = request.acks === 0 || request.acks === 1 || request.acks === -1;
  if (request.transactionalId != null) context.logger.debug({ transactionalId: request.transactionalId }, "transactional produce refused: transactions are not supported yet");
  const responses: TopicProduceResponse[] = await Promise.all(
    request.topicData.map(async (topic) => {
      let known = backend.cluster.topic(topic.name) !== undefined;
      if (!known && acksValid && validateTopicName(topic.name) === undefined && backend.settings.autoCreateTopics) {
        await backend.createTopics([{ name: topic.name, numPartitions: -1, replicationFactor: -1, assignments: [], configs: {} }], false);
        known = backend.cluster.topic(topic.name) !== undefined;
      }
      return {
        name: topic.name,
        partitionResponses: await Promise.all(
          topic.partitionData.map(async (p) => {
            const fail = (errorCode: number, errorMessage?: string) => ({ index: p.index, errorCode, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n, errorMessage });
            if (!acksValid) return fail(ErrorCode.INVALID_REQUIRED_ACKS);
            if (request.transactionalId != null) return fail(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, "transactions are not supported by synod yet");
            if (!known) return fail(validateTopicName(topic.name) === undefined ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.INVALID_TOPIC_EXCEPTION);
            if (p.records === null || p.records.length === 0) return fail(ErrorCode.CORRUPT_MESSAGE, "no records");
            const outcome = await backend.produce(topic.name, p.index, p.records, { acks: request.acks, timeoutMs: request.timeoutMs });
            return {
              index: p.index,
              errorCode: outcome.errorCode,
              baseOffset: BigInt(outcome.baseOffset),
              logAppendTimeMs: BigInt(outcome.logAppendTimeMs),
              logStartOffset: BigInt(outcome.logStartOffset),
              errorMessage: outcome.errorMessage,
            };
          }),
        ),
      };
    }),
  );
  if (request.acks === 0) return null;
  const v = context.apiVersion;
  for (const topic of responses) {
    for (const p of topic.partitionResponses) {
      if (v < 2) delete p.logAppendTimeMs;
      if (v < 5) delete p.logStartOffset;
      if (v < 8) delete p.errorMessage;
    }
  }
  return { responses, throttleTimeMs: 0 };
}
