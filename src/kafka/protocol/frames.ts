// Whole request and response frames — header plus body — for a given table of API codecs. A
// request frame is what FrameReader yields (no size prefix); encoded frames include the 4-byte
// size prefix and are built in one allocation, ready for socket.write.
//
// The table is a parameter so the broker can bind one holding only the APIs it serves
// (../broker-codecs.ts): a starting node then does not load all ~190 generated message modules,
// which was ≈200 ms of a cold start. ./request.ts binds the full generated registry for clients,
// tools and tests.
import { checkEncodeVersion, wrapEncodeError, type MessageCodec } from "./codec.js";
import { KafkaDecodeError, KafkaEncodeError, KafkaRequestError } from "./errors.js";
import { Reader } from "./reader.js";
import { Writer } from "./writer.js";
import { RequestHeaderCodec, type RequestHeader } from "./generated/request-header.js";
import { ResponseHeaderCodec } from "./generated/response-header.js";

/** The codecs of one API. */
export interface ApiCodecs {
  readonly request: MessageCodec<unknown>;
  readonly response: MessageCodec<unknown>;
}

/** The codecs for an API key, or undefined when the table has none. */
export type ApiLookup = (apiKey: number) => ApiCodecs | undefined;

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

const CONTROLLED_SHUTDOWN = 7;
const API_VERSIONS = 18;

/**
 * The request header version for an API version: 2 (flexible, tagged fields) when the API version
 * is flexible, else 1; 0 only for ControlledShutdown v0 (Kafka's ApiKeys.requestHeaderVersion).
 */
export function requestHeaderVersionOf(api: ApiCodecs, apiVersion: number): number {
  if (api.request.apiKey === CONTROLLED_SHUTDOWN && apiVersion === 0) return 0;
  const flexible = api.request.flexibleFromVersion;
  return flexible >= 0 && apiVersion >= flexible ? 2 : 1;
}

/**
 * The response header version: 1 when the API version is flexible, else 0 — except ApiVersions,
 * whose response header is always v0 so a client can parse it before it knows the broker's ranges.
 */
export function responseHeaderVersionOf(api: ApiCodecs, apiVersion: number): number {
  if (api.request.apiKey === API_VERSIONS) return 0;
  const flexible = api.request.flexibleFromVersion;
  return flexible >= 0 && apiVersion >= flexible ? 1 : 0;
}

/** Default threshold of encodeResponseChunks: byte fields from 16 KiB up travel by reference. */
export const GATHER_BYTES_MIN = 16 * 1024;

/** Frame encoding and decoding over one table of API codecs. */
export interface Frames {
  /**
   * Decodes one request frame (without its size prefix). Throws KafkaRequestError, which carries
   * the API key, version and correlation id when the frame had them, so the broker can answer
   * UNSUPPORTED_VERSION (KIP-511: ApiVersions gets a v0 body) or log the failure precisely.
   */
  decodeRequest(frame: Buffer): DecodedRequest;
  /** Encodes a response frame, size prefix included, in one allocation. */
  encodeResponse(apiKey: number, apiVersion: number, correlationId: number, body: unknown): Buffer;
  /**
   * Encodes a response frame as chunks to write in order (cork, write each, uncork): large
   * `records` and `bytes` fields are referenced, not copied — a Fetch response's record batches go
   * to the socket straight from where they are held. The chunks' concatenation equals
   * encodeResponse().
   */
  encodeResponseChunks(apiKey: number, apiVersion: number, correlationId: number, body: unknown, gatherBytesMin?: number): Buffer[];
  /** Encodes a request frame, size prefix included (for clients and tests). */
  encodeRequest(apiKey: number, apiVersion: number, correlationId: number, clientId: string | null, body: unknown): Buffer;
  /** Decodes a response frame (without its size prefix) for a request the caller sent at `apiVersion`. */
  decodeResponse(apiKey: number, apiVersion: number, frame: Buffer): { correlationId: number; body: unknown };
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

/** Binds frame encoding and decoding to a table of API codecs. */
export function framesFor(lookup: ApiLookup): Frames {
  function apiName(api: ApiCodecs): string {
    return api.request.name.replace(/Request$/, "");
  }

  function encodeResponseFrame(apiKey: number, apiVersion: number, correlationId: number, body: unknown, gatherBytesMin?: number): Buffer[] {
    const api = lookup(apiKey);
    if (!api) throw new KafkaEncodeError("UNSUPPORTED_VERSION", `unknown API key ${apiKey}`);
    checkEncodeVersion(api.response, apiVersion);
    return encodeFrame(ResponseHeaderCodec as MessageCodec<unknown>, responseHeaderVersionOf(api, apiVersion), { correlationId }, api.response, apiVersion, body, gatherBytesMin);
  }

  return {
    decodeRequest(frame) {
      if (frame.length < 8) {
        throw new KafkaRequestError("TRUNCATED", `request frame of ${frame.length} bytes is shorter than a header`, frame.length >= 2 ? frame.readInt16BE(0) : -1, frame.length >= 4 ? frame.readInt16BE(2) : -1, -1);
      }
      const apiKey = frame.readInt16BE(0);
      const apiVersion = frame.readInt16BE(2);
      const correlationId = frame.readInt32BE(4);
      const api = lookup(apiKey);
      if (!api) throw new KafkaRequestError("UNKNOWN_API_KEY", `unknown API key ${apiKey}`, apiKey, apiVersion, correlationId);
      const { lowestVersion, highestVersion } = api.request;
      if (apiVersion < lowestVersion || apiVersion > highestVersion) {
        throw new KafkaRequestError("UNSUPPORTED_VERSION", `${apiName(api)} has no version ${apiVersion} (valid ${lowestVersion}-${highestVersion})`, apiKey, apiVersion, correlationId);
      }
      const headerVersion = requestHeaderVersionOf(api, apiVersion);
      const reader = new Reader(frame);
      try {
        const header = RequestHeaderCodec.read(reader, headerVersion);
        const body = api.request.read(reader, apiVersion);
        if (reader.offset !== frame.length) reader.fail("TRAILING_BYTES", `${frame.length - reader.offset} bytes after the ${apiName(api)} v${apiVersion} request`);
        return { apiKey, apiVersion, correlationId, clientId: header.clientId ?? null, headerVersion, header, body };
      } catch (error) {
        if (error instanceof KafkaDecodeError) throw new KafkaRequestError(error.code, `${apiName(api)} v${apiVersion}: ${error.message}`, apiKey, apiVersion, correlationId);
        throw error;
      }
    },

    encodeResponse(apiKey, apiVersion, correlationId, body) {
      return encodeResponseFrame(apiKey, apiVersion, correlationId, body)[0];
    },

    encodeResponseChunks(apiKey, apiVersion, correlationId, body, gatherBytesMin = GATHER_BYTES_MIN) {
      return encodeResponseFrame(apiKey, apiVersion, correlationId, body, gatherBytesMin);
    },

    encodeRequest(apiKey, apiVersion, correlationId, clientId, body) {
      const api = lookup(apiKey);
      if (!api) throw new KafkaEncodeError("UNSUPPORTED_VERSION", `unknown API key ${apiKey}`);
      checkEncodeVersion(api.request, apiVersion);
      const header: RequestHeader = { requestApiKey: apiKey, requestApiVersion: apiVersion, correlationId, clientId };
      return encodeFrame(RequestHeaderCodec as MessageCodec<unknown>, requestHeaderVersionOf(api, apiVersion), header, api.request, apiVersion, body)[0];
    },

    decodeResponse(apiKey, apiVersion, frame) {
      const api = lookup(apiKey);
      if (!api) throw new KafkaDecodeError("UNKNOWN_API_KEY", `unknown API key ${apiKey}`);
      if (apiVersion < api.response.lowestVersion || apiVersion > api.response.highestVersion) throw new KafkaDecodeError("UNSUPPORTED_VERSION", `${apiName(api)} has no version ${apiVersion}`);
      const reader = new Reader(frame);
      const header = ResponseHeaderCodec.read(reader, responseHeaderVersionOf(api, apiVersion));
      const body = api.response.read(reader, apiVersion);
      if (reader.offset !== frame.length) reader.fail("TRAILING_BYTES", `${frame.length - reader.offset} bytes after the ${apiName(api)} v${apiVersion} response`);
      return { correlationId: header.correlationId, body };
    },
  };
}
