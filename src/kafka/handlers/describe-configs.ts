// DescribeConfigs (32), v0–2: every topic config with its effective value and source (explicit
// override or default), so tools and clients that expect the full list get it; broker configs
// are reported read-only.
import type { DescribeConfigsRequest } from "../protocol/generated/describe-configs-request.js";
import type { DescribeConfigsResponse, DescribeConfigsResult, DescribeConfigsResourceResult } from "../protocol/generated/describe-configs-response.js";
import { ErrorCode } from "../protocol/generated/errors.js";
import { TOPIC_CONFIGS } from "../topic-config.js";
import type { HandlerContext } from "./index.js";

export const ResourceType = { Topic: 2, Broker: 4, BrokerLogger: 8 } as const;
const ConfigSource = { DynamicTopic: 1, StaticBroker: 4, Default: 5 } as const;

export async function handleDescribeConfigs(context: HandlerContext, request: DescribeConfigsRequest): Promise<DescribeConfigsResponse> {
  const v = context.apiVersion;
  const results: DescribeConfigsResult[] = request.resources.map((resource) => {
    const base = { errorCode: ErrorCode.NONE as number, errorMessage: null as string | null, resourceType: resource.resourceType, resourceName: resource.resourceName, configs: [] as DescribeConfigsResourceResult[] };
    const wanted = (name: string): boolean => resource.configurationKeys === null || resource.configurationKeys.includes(name);
    const entry = (name: string, value: string, source: number, readOnly: boolean): DescribeConfigsResourceResult => {
      const result: DescribeConfigsResourceResult = { name, value, readOnly, isSensitive: false };
      if (v === 0) result.isDefault = source === ConfigSource.Default;
      else result.configSource = source;
      if (v >= 1) result.synonyms = request.includeSynonyms ? [{ name, value, source }] : [];
      return result;
    };
    if (resource.resourceType === ResourceType.Topic) {
      const topic = context.backend.cluster.topic(resource.resourceName);
      if (!topic) return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `unknown topic ${resource.resourceName}` };
      base.configs = TOPIC_CONFIGS.filter((c) => wanted(c.name)).map((c) => {
        const override = topic.configs[c.name];
        return entry(c.name, override ?? c.defaultValue, override !== undefined ? ConfigSource.DynamicTopic : ConfigSource.Default, false);
      });
      return base;
    }
    if (resource.resourceType === ResourceType.Broker) {
      if (resource.resourceName !== "" && resource.resourceName !== String(context.backend.cluster.nodeId)) {
        const known = context.backend.cluster.nodes().some((n) => String(n.nodeId) === resource.resourceName);
        if (!known) return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `unknown broker ${resource.resourceName}` };
      }
      base.configs = Object.entries(context.backend.brokerConfigs())
        .filter(([name]) => wanted(name))
        .map(([name, value]) => entry(name, value, ConfigSource.StaticBroker, true));
      return base;
    }
    return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `unsupported resource type ${resource.resourceType}` };
  });
  return { throttleTimeMs: 0, results };
}
