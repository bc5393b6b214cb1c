// ApiVersions (18): the ranges in api-versions.ts, advertised truthfully.
import type { ApiVersionsResponse } from "../protocol/generated/api-versions-response.js";
import { SUPPORTED_VERSIONS } from "../api-versions.js";
import type { HandlerContext } from "./index.js";

export function apiVersionsBody(errorCode: number): ApiVersionsResponse {
  return {
    errorCode,
    apiKeys: [...SUPPORTED_VERSIONS].map(([apiKey, range]) => ({ apiKey, minVersion: range.min, maxVersion: range.max })),
    throttleTimeMs: 0,
  };
}

export async function handleApiVersions(context: HandlerContext): Promise<ApiVersionsResponse> {
  const body = apiVersionsBody(0);
  if (context.apiVersion === 0) delete body.throttleTimeMs;
  return body;
}
