// Whole request and response frames: header plus body, dispatched by (apiKey, apiVersion) through
// the generated registry. A request frame is what FrameReader yields (no size prefix); encoded
// frames include the 4-byte size prefix and are built in one allocation, ready for socket.write.
import { checkEncodeVersion, wrapEncodeError, type MessageCodec } from "./codec.js";
import { KafkaDecodeError, KafkaEncodeError, KafkaRequestError } from "./errors.js";
import { Reader } from "./reader.js";
import { Writer } from "./writer.js";
import { RequestHeaderCodec, type RequestHeader } from "./generated/request-header.js";
import { ResponseHeaderCodec } from "./generated/response-header.js";
import { apiInfo, requestHeaderVersion, responseHeaderVersion, type RequestByApiKey, type ResponseByApiKey } from "./generated/registry.js";

export interface DecodedRequest {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  /** Null when the client sent none (header v0, or a null ClientId). */
  clientId: string | null;
  headerVersion: number;
  header: RequestHeader;
  /** The request body; narrow with `apiKey` (see RequestByApiKey). */
  body: unknown;
}

/** Narrows a decoded request's body by its API key. */
export function isRequest<K extends keyof RequestByApiKey>(request: DecodedRequest, apiKey: K): request is DecodedRequest & { apiKey: K; body: RequestByApiKey[K] } {
  return request.apiKey === apiKey;
}

/**
 * Decodes one request frame (without its size prefix). Throws KafkaRequestError, which carries
 * the API key, version and correlation id when the frame had them, so the broker can answer
 * UNSUPPORTED_VERSION (KIP-511: ApiVersions gets a v0 body) or log the failure precisely.
 */
export function decodeRequest(frame: Buffer): DecodedRequest {
  if (frame.length < 8) {
    throw new KafkaRequestError("TRUNCATED", `request frame of ${frame.length} bytes is shorter than a header`, frame.length >= 2 ? frame.readInt16BE(0) : -1, frame.length >= 4 ? frame.readInt16BE(2) : -1, -1);
  }
  const apiKey = frame.readInt16BE(0);
  const apiVersion = frame.readInt16BE(2);
  const correlationId = frame.readInt32BE(4);
  const api = apiInfo(apiKey);
  if (!api) throw new KafkaRequestError("UNKNOWN_API_KEY", `unknown API key ${apiKey}`, apiKey, apiVersion, correlationId);
  if (apiVersion < api.lowestVersion || apiVersion > api.highestVersion) {
    throw new KafkaRequestError("UNSUPPORTED_VERSION", `${api.name} has no version ${apiVersion} (valid ${api.lowestVersion}-${api.highestVersion})`, apiKey, apiVersion, correlationId);
  }
  const headerVersion = requestHeaderVersion(apiKey, apiVersion);
  const reader = new Reader(frame);
  try {
    const header = RequestHeaderCodec.read(reader, headerVersion);
    const body = api.request.read(reader, apiVersion);
    if (reader.offset !== frame.length) reader.fail("TRAILING_BYTES", `${frame.length - reader.offset} bytes after the ${api.name} v${apiVersion} request`);
    return { apiKey, apiVersion, correlationId, clientId: header.clientId ?? null, headerVersion, header, body };
  } catch (error) {
    if (error instanceof KafkaDecodeError) throw new KafkaRequestError(error.code, `${api.name} v${apiVersion}: ${error.message}`, apiKey, apiVersion, correlationId);
    throw error;
  }
}

function encodeFrame(headerCodec: MessageCodec<unknown>, headerVersion: number, header: unknown, bodyCodec: MessageCodec<unknown>, version: number, body: unknown, gatherBytesMin?: number): Buffer[] {
  checkEncodeVersion(bodyCodec, version);
  try {
    const size = headerCodec.size(header, headerVersion) + bodyCodec.size(body, version);
    const writer = new Writer(Buffer.allocUnsafe(4 + size));
    if (gatherBytesMin !== undefined) writer.startGather(gatherBytesMin);
    writer.int32(size);
    headerCodec.write(writer, header, headerVersion);
    bodyCodec.write(writer, body, version);
    if (writer.offset !== 4 + size) throw new KafkaEncodeError("VALUE_OUT_OF_RANGE", `${bodyCodec.name} v${version}: wrote ${writer.offset - 4} bytes, sized ${size}`);
    return gatherBytesMin === undefined ? [writer.buf] : writer.finishGather();
  } catch (error) {
    return wrapEncodeError(error, `${bodyCodec.name} v${version}`);
  }
}

/** Encodes a response frame, size prefix included, in one allocation. */
export function encodeResponse<K extends keyof ResponseByApiKey>(apiKey: K, apiVersion: number, correlationId: number, body: ResponseByApiKey[K]): Buffer;
export function encodeResponse(apiKey: number, apiVersion: number, correlationId: number, body: unknown): Buffer;
export function encodeResponse(apiKey: number, apiVersion: number, correlationId: number, body: unknown): Buffer {
  return encodeResponseFrame(apiKey, apiVersion, correlationId, body)[0];
}

/** Default threshold of encodeResponseChunks: byte fields from 16 KiB up travel by reference. */
export const GATHER_BYTES_MIN = 16 * 1024;

/**
 * Encodes a response frame as chunks to write in order (cork, write each, uncork): large `records`
 * and `bytes` fields are referenced, not copied — a Fetch response's record batches go to the
 * socket straight from where they are held. The chunks' concatenation equals encodeResponse().
 */
export function encodeResponseChunks(apiKey: number, apiVersion: number, correlationId: number, body: unknown, gatherBytesMin = GATHER_BYTES_MIN): Buffer[] {
  return encodeResponseFrame(apiKey, apiVersion, correlationId, body, gatherBytesMin);
}

function encodeResponseFrame(apiKey: number, apiVersion: number, correlationId: number, body: unknown, gatherBytesMin?: number): Buffer[] {
  const api = apiInfo(apiKey);
  if (!api) throw new KafkaEncodeError("UNSUPPORTED_VERSION", `unknown API key ${apiKey}`);
  checkEncodeVersion(api.response, apiVersion);
  return encodeFrame(ResponseHeaderCodec as MessageCodec<unknown>, responseHeaderVersion(apiKey, apiVersion), { correlationId }, api.response, apiVersion, body, gatherBytesMin);
}

/** Encodes a request frame, size prefix included (for clients and tests). */
export function encodeRequest<K extends keyof RequestByApiKey>(apiKey: K, apiVersion: number, correlationId: number, clientId: string | null, body: RequestByApiKey[K]): Buffer;
export function encodeRequest(apiKey: number, apiVersion: number, correlationId: number, clientId: string | null, body: unknown): Buffer;
export function encodeRequest(apiKey: number, apiVersion: number, correlationId: number, clientId: string | null, body: unknown): Buffer {
  const api = apiInfo(apiKey);
  if (!api) throw new KafkaEncodeError("UNSUPPORTED_VERSION", `unknown API key ${apiKey}`);
  checkEncodeVersion(api.request, apiVersion);
  const header: RequestHeader = { requestApiKey: apiKey, requestApiVersion: apiVersion, correlationId, clientId };
  return encodeFrame(RequestHeaderCodec as MessageCodec<unknown>, requestHeaderVersion(apiKey, apiVersion), header, api.request, apiVersion, body)[0];
}

/** Decodes a response frame (without its size prefix) for a request the caller sent at `apiVersion`. */
export function decodeResponse(apiKey: number, apiVersion: number, frame: Buffer): { correlationId: number; body: unknown } {
  const api = apiInfo(apiKey);
  if (!api) throw new KafkaDecodeError("UNKNOWN_API_KEY", `unknown API key ${apiKey}`);
  if (apiVersion < api.lowestVersion || apiVersion > api.highestVersion) throw new KafkaDecodeError("UNSUPPORTED_VERSION", `${api.name} has no version ${apiVersion}`);
  const reader = new Reader(frame);
  const header = ResponseHeaderCodec.read(reader, responseHeaderVersion(apiKey, apiVersion));
  const body = api.response.read(reader, apiVersion);
  if (reader.offset !== frame.length) reader.fail("TRAILING_BYTES", `${frame.length - reader.offset} bytes after the ${api.name} v${apiVersion} response`);
  return { correlationId: header.correlationId, body };
}
