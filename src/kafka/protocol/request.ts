// Whole request and response frames over every API the Kafka schemas define (the generated
// registry), with types narrowed by API key — for clients, tools and tests. The broker binds only
// the APIs it serves (../broker-codecs.ts) so a starting node loads only their codecs; both go
// through ./frames.ts.
import { apiInfo, type RequestByApiKey, type ResponseByApiKey } from "./generated/registry.js";
import { framesFor, GATHER_BYTES_MIN, type DecodedRequest } from "./frames.js";

export type { DecodedRequest, ApiCodecs, ApiLookup, Frames } from "./frames.js";
export { GATHER_BYTES_MIN, framesFor, requestHeaderVersionOf, responseHeaderVersionOf } from "./frames.js";

/** Frames over every API the Kafka schemas define. */
export const REGISTRY_FRAMES = framesFor(apiInfo);

/** Narrows a decoded request's body by its API key. */
export function isRequest<K extends keyof RequestByApiKey>(request: DecodedRequest, apiKey: K): request is DecodedRequest & { apiKey: K; body: RequestByApiKey[K] } {
  return request.apiKey === apiKey;
}

/** See Frames.decodeRequest. */
export function decodeRequest(frame: Buffer): DecodedRequest {
  return REGISTRY_FRAMES.decodeRequest(frame);
}

/** Encodes a response frame, size prefix included, in one allocation. */
export function encodeResponse<K extends keyof ResponseByApiKey>(apiKey: K, apiVersion: number, correlationId: number, body: ResponseByApiKey[K]): Buffer;
export function encodeResponse(apiKey: number, apiVersion: number, correlationId: number, body: unknown): Buffer;
export function encodeResponse(apiKey: number, apiVersion: number, correlationId: number, body: unknown): Buffer {
  return REGISTRY_FRAMES.encodeResponse(apiKey, apiVersion, correlationId, body);
}

/** See Frames.encodeResponseChunks. */
export function encodeResponseChunks(apiKey: number, apiVersion: number, correlationId: number, body: unknown, gatherBytesMin = GATHER_BYTES_MIN): Buffer[] {
  return REGISTRY_FRAMES.encodeResponseChunks(apiKey, apiVersion, correlationId, body, gatherBytesMin);
}

/** Encodes a request frame, size prefix included (for clients and tests). */
export function encodeRequest<K extends keyof RequestByApiKey>(apiKey: K, apiVersion: number, correlationId: number, clientId: string | null, body: RequestByApiKey[K]): Buffer;
export function encodeRequest(apiKey: number, apiVersion: number, correlationId: number, clientId: string | null, body: unknown): Buffer;
export function encodeRequest(apiKey: number, apiVersion: number, correlationId: number, clientId: string | null, body: unknown): Buffer {
  return REGISTRY_FRAMES.encodeRequest(apiKey, apiVersion, correlationId, clientId, body);
}

/** Decodes a response frame (without its size prefix) for a request the caller sent at `apiVersion`. */
export function decodeResponse(apiKey: number, apiVersion: number, frame: Buffer): { correlationId: number; body: unknown } {
  return REGISTRY_FRAMES.decodeResponse(apiKey, apiVersion, frame);
}
