// DeleteTopics (20), v0–3: by name; the topic's partitions and offsets go with it.
import type { DeleteTopicsRequest } from "../protocol/generated/delete-topics-request.js";
import type { DeleteTopicsResponse } from "../protocol/generated/delete-topics-response.js";
import type { HandlerContext } from "./index.js";

export async function handleDeleteTopics(context: HandlerContext, request: DeleteTopicsRequest): Promise<DeleteTopicsResponse> {
  const names = request.topicNames ?? [];
  const outcomes = await context.backend.deleteTopics(names);
  const response: DeleteTopicsResponse = { responses: names.map((name, i) => ({ name, errorCode: outcomes[i].errorCode })) };
  if (context.apiVersion >= 1) response.throttleTimeMs = 0;
  return response;
}
