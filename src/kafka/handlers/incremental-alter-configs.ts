// IncrementalAlterConfigs (44), v0–1: SET / DELETE (back to default) per key; APPEND / SUBTRACT
// for list-typed keys.
import type { IncrementalAlterConfigsRequest } from "../protocol/generated/incremental-alter-configs-request.js";
import type { IncrementalAlterConfigsResponse } from "../protocol/generated/incremental-alter-configs-response.js";
import { ErrorCode } from "../protocol/generated/errors.js";
import { effectiveTopicConfig, topicConfigDefinition, validateTopicConfig } from "../topic-config.js";
import { ResourceType } from "./describe-configs.js";
import type { HandlerContext } from "./index.js";

const Op = { Set: 0, Delete: 1, Append: 2, Subtract: 3 } as const;

export async function handleIncrementalAlterConfigs(context: HandlerContext, request: IncrementalAlterConfigsRequest): Promise<IncrementalAlterConfigsResponse> {
  const responses = await Promise.all(
    request.resources.map(async (resource) => {
      const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
      if (resource.resourceType !== ResourceType.Topic) {
        return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "broker configs are static in synod; set them at start" };
      }
      const topic = context.backend.cluster.topic(resource.resourceName);
      if (!topic) return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `unknown topic ${resource.resourceName}` };
      const set: Record<string, string> = {};
      const remove: string[] = [];
      for (const c of resource.configs) {
        const definition = topicConfigDefinition(c.name);
        if (!definition) return { ...base, errorCode: ErrorCode.INVALID_CONFIG, errorMessage: `unknown topic config ${c.name}` };
        let value: string | null = c.value;
        if (c.configOperation === Op.Delete) {
          remove.push(c.name);
          continue;
        }
        if (c.configOperation === Op.Append || c.configOperation === Op.Subtract) {
          if (definition.type !== "list") return { ...base, errorCode: ErrorCode.INVALID_CONFIG, errorMessage: `${c.name} is not a list` };
          const current = effectiveTopicConfig(topic.configs, c.name).split(",").filter((x) => x !== "");
          const items = (c.value ?? "").split(",").filter((x) => x !== "");
          value = (c.configOperation === Op.Append ? [...current, ...items.filter((i) => !current.includes(i))] : current.filter((x) => !items.includes(x))).join(",");
        } else if (c.configOperation !== Op.Set) {
          return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `unknown config operation ${c.configOperation}` };
        }
        const error = validateTopicConfig(c.name, value);
        if (error) return { ...base, errorCode: ErrorCode.INVALID_CONFIG, errorMessage: error };
        if (value !== null) set[c.name] = value;
      }
      const outcome = await context.backend.alterTopicConfigs(resource.resourceName, set, remove, false, request.validateOnly);
      return { ...base, errorCode: outcome.errorCode, errorMessage: outcome.errorMessage ?? null };
    }),
  );
  return { throttleTimeMs: 0, responses };
}
