// AlterConfigs (33), v0–1: replaces a topic's whole override set (keys not listed return to their
// defaults — the non-incremental semantics). Broker configs are static in synod.
import type { AlterConfigsRequest } from "../protocol/generated/alter-configs-request.js";
import type { AlterConfigsResponse } from "../protocol/generated/alter-configs-response.js";
import { ErrorCode } from "../protocol/generated/errors.js";
import { validateTopicConfig } from "../topic-config.js";
import { ResourceType } from "./describe-configs.js";
import type { HandlerContext } from "./index.js";

export async function handleAlterConfigs(context: HandlerContext, request: AlterConfigsRequest): Promise<AlterConfigsResponse> {
  const responses = await Promise.all(
    request.resources.map(async (resource) => {
      const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
      if (resource.resourceType !== ResourceType.Topic) {
        return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "broker configs are static in synod; set them at start" };
      }
      const set: Record<string, string> = {};
      for (const c of resource.configs) {
        const error = validateTopicConfig(c.name, c.value);
        if (error) return { ...base, errorCode: ErrorCode.INVALID_CONFIG, errorMessage: error };
        if (c.value !== null) set[c.name] = c.value;
      }
      const outcome = await context.backend.alterTopicConfigs(resource.resourceName, set, [], true, request.validateOnly);
      return { ...base, errorCode: outcome.errorCode, errorMessage: outcome.errorMessage ?? null };
    }),
  );
  return { throttleTimeMs: 0, responses };
}
