// The request/response dispatch table: op code → request record and response record, and the
// frame-level decode/encode the connection handler calls. A request frame (after the handshake)
// is RequestHeader{xid, type} + the op's request record; a reply frame is ReplyHeader{xid, zxid,
// err} + the op's response record, with no body when err ≠ 0 (multi's err stays 0 and its
// per-op results carry the failures).
//
// Failure classes the handler must treat differently (as ZooKeeper 3.8 does):
// - header shorter than 8 bytes            → RequestDecodeError reason "header": close.
// - op code the server does not serve      → reason "unknown-op": reply Unimplemented (-6), close.
// - malformed body                         → reason "body": reply MarshallingError (-5).
// Trailing bytes after a well-formed body are ignored, like Java's record deserialization.
import { JuteDecodeError, type JuteCodec, JuteReader, type JuteWriter } from "../jute/runtime.js";
import * as jute from "../generated/jute.js";
import { OpCode, Xid } from "./constants.js";
import { ErrorCode } from "./errors.js";
import {
  decodeMultiReadRequest,
  decodeMultiRequest,
  decodeMultiResponse,
  encodeMultiReadRequest,
  encodeMultiRequest,
  encodeMultiResponse,
  type MultiReadRequest,
  type MultiRequest,
  type MultiResponse,
} from "./multi.js";

/** What each op's request body decodes to (null: the op has no body). */
export interface RequestBodies {
  [OpCode.create]: jute.CreateRequest;
  [OpCode.delete]: jute.DeleteRequest;
  [OpCode.exists]: jute.ExistsRequest;
  [OpCode.getData]: jute.GetDataRequest;
  [OpCode.setData]: jute.SetDataRequest;
  [OpCode.getACL]: jute.GetACLRequest;
  [OpCode.setACL]: jute.SetACLRequest;
  [OpCode.getChildren]: jute.GetChildrenRequest;
  [OpCode.sync]: jute.SyncRequest;
  [OpCode.ping]: null;
  [OpCode.getChildren2]: jute.GetChildren2Request;
  [OpCode.check]: jute.CheckVersionRequest;
  [OpCode.multi]: MultiRequest;
  [OpCode.create2]: jute.CreateRequest;
  [OpCode.reconfig]: jute.ReconfigRequest;
  [OpCode.checkWatches]: jute.CheckWatchesRequest;
  [OpCode.removeWatches]: jute.RemoveWatchesRequest;
  [OpCode.createContainer]: jute.CreateRequest;
  [OpCode.createTTL]: jute.CreateTTLRequest;
  [OpCode.multiRead]: MultiReadRequest;
  [OpCode.auth]: jute.AuthPacket;
  [OpCode.setWatches]: jute.SetWatches;
  [OpCode.sasl]: jute.GetSASLRequest;
  [OpCode.getEphemerals]: jute.GetEphemeralsRequest;
  [OpCode.getAllChildrenNumber]: jute.GetAllChildrenNumberRequest;
  [OpCode.setWatches2]: jute.SetWatches2;
  [OpCode.addWatch]: jute.AddWatchRequest;
  [OpCode.whoAmI]: null;
  [OpCode.closeSession]: null;
}

/** What each op's successful reply carries (null: header only). */
export interface ResponseBodies {
  [OpCode.create]: jute.CreateResponse;
  [OpCode.delete]: null;
  [OpCode.exists]: jute.ExistsResponse;
  [OpCode.getData]: jute.GetDataResponse;
  [OpCode.setData]: jute.SetDataResponse;
  [OpCode.getACL]: jute.GetACLResponse;
  [OpCode.setACL]: jute.SetACLResponse;
  [OpCode.getChildren]: jute.GetChildrenResponse;
  [OpCode.sync]: jute.SyncResponse;
  [OpCode.ping]: null;
  [OpCode.getChildren2]: jute.GetChildren2Response;
  /** A stand-alone check replies with the header only (3.8 would try to send a null Stat). */
  [OpCode.check]: null;
  [OpCode.multi]: MultiResponse;
  [OpCode.create2]: jute.Create2Response;
  [OpCode.reconfig]: jute.GetDataResponse;
  [OpCode.checkWatches]: null;
  [OpCode.removeWatches]: null;
  [OpCode.createContainer]: jute.Create2Response;
  [OpCode.createTTL]: jute.Create2Response;
  [OpCode.multiRead]: MultiResponse;
  [OpCode.auth]: null;
  [OpCode.setWatches]: null;
  [OpCode.sasl]: jute.SetSASLResponse;
  [OpCode.getEphemerals]: jute.GetEphemeralsResponse;
  [OpCode.getAllChildrenNumber]: jute.GetAllChildrenNumberResponse;
  [OpCode.setWatches2]: null;
  /** addWatch answers ErrorResponse{0} (FinalRequestProcessor). */
  [OpCode.addWatch]: jute.ErrorResponse;
  [OpCode.whoAmI]: jute.WhoAmIResponse;
  [OpCode.closeSession]: null;
}

export type ClientOpCode = keyof RequestBodies & keyof ResponseBodies;

/** A decoded request frame: the header's xid, the op, and its typed body. */
export type DecodedRequest = { [K in ClientOpCode]: { xid: number; opCode: K; body: RequestBodies[K] } }[ClientOpCode];

type BodyCodec<T> = JuteCodec<T> | null;

function codec<T>(encode: (w: JuteWriter, v: T) => void, decode: (r: JuteReader) => T): JuteCodec<T> {
  return { encode, decode, bytesMin: 0 };
}

export interface OpSpec<K extends ClientOpCode = ClientOpCode> {
  readonly opCode: K;
  /** Writes go through the coordination group (a Paxos proposal); reads are served locally. */
  readonly kind: "write" | "read" | "session" | "watch" | "auth";
  readonly request: BodyCodec<RequestBodies[K]>;
  readonly response: BodyCodec<ResponseBodies[K]>;
}

const multiCodec = codec(encodeMultiRequest, decodeMultiRequest);
const multiReadCodec = codec(encodeMultiReadRequest, decodeMultiReadRequest);
const multiResponseCodec = codec(encodeMultiResponse, decodeMultiResponse);

/** The dispatch table: every op a client may send (3.8 `Request.isValid`, minus the server-internal 20 and -10). */
export const OPS: { readonly [K in ClientOpCode]: OpSpec<K> } = {
  [OpCode.create]: { opCode: OpCode.create, kind: "write", request: jute.juteCodecs.CreateRequest, response: jute.juteCodecs.CreateResponse },
  [OpCode.delete]: { opCode: OpCode.delete, kind: "write", request: jute.juteCodecs.DeleteRequest, response: null },
  [OpCode.exists]: { opCode: OpCode.exists, kind: "read", request: jute.juteCodecs.ExistsRequest, response: jute.juteCodecs.ExistsResponse },
  [OpCode.getData]: { opCode: OpCode.getData, kind: "read", request: jute.juteCodecs.GetDataRequest, response: jute.juteCodecs.GetDataResponse },
  [OpCode.setData]: { opCode: OpCode.setData, kind: "write", request: jute.juteCodecs.SetDataRequest, response: jute.juteCodecs.SetDataResponse },
  [OpCode.getACL]: { opCode: OpCode.getACL, kind: "read", request: jute.juteCodecs.GetACLRequest, response: jute.juteCodecs.GetACLResponse },
  [OpCode.setACL]: { opCode: OpCode.setACL, kind: "write", request: jute.juteCodecs.SetACLRequest, response: jute.juteCodecs.SetACLResponse },
  [OpCode.getChildren]: { opCode: OpCode.getChildren, kind: "read", request: jute.juteCodecs.GetChildrenRequest, response: jute.juteCodecs.GetChildrenResponse },
  [OpCode.sync]: { opCode: OpCode.sync, kind: "write", request: jute.juteCodecs.SyncRequest, response: jute.juteCodecs.SyncResponse },
  [OpCode.ping]: { opCode: OpCode.ping, kind: "session", request: null, response: null },
  [OpCode.getChildren2]: { opCode: OpCode.getChildren2, kind: "read", request: jute.juteCodecs.GetChildren2Request, response: jute.juteCodecs.GetChildren2Response },
  [OpCode.check]: { opCode: OpCode.check, kind: "write", request: jute.juteCodecs.CheckVersionRequest, response: null },
  [OpCode.multi]: { opCode: OpCode.multi, kind: "write", request: multiCodec, response: multiResponseCodec },
  [OpCode.create2]: { opCode: OpCode.create2, kind: "write", request: jute.juteCodecs.CreateRequest, response: jute.juteCodecs.Create2Response },
  [OpCode.reconfig]: { opCode: OpCode.reconfig, kind: "write", request: jute.juteCodecs.ReconfigRequest, response: jute.juteCodecs.GetDataResponse },
  [OpCode.checkWatches]: { opCode: OpCode.checkWatches, kind: "watch", request: jute.juteCodecs.CheckWatchesRequest, response: null },
  [OpCode.removeWatches]: { opCode: OpCode.removeWatches, kind: "watch", request: jute.juteCodecs.RemoveWatchesRequest, response: null },
  [OpCode.createContainer]: { opCode: OpCode.createContainer, kind: "write", request: jute.juteCodecs.CreateRequest, response: jute.juteCodecs.Create2Response },
  [OpCode.createTTL]: { opCode: OpCode.createTTL, kind: "write", request: jute.juteCodecs.CreateTTLRequest, response: jute.juteCodecs.Create2Response },
  [OpCode.multiRead]: { opCode: OpCode.multiRead, kind: "read", request: multiReadCodec, response: multiResponseCodec },
  [OpCode.auth]: { opCode: OpCode.auth, kind: "auth", request: jute.juteCodecs.AuthPacket, response: null },
  [OpCode.setWatches]: { opCode: OpCode.setWatches, kind: "watch", request: jute.juteCodecs.SetWatches, response: null },
  [OpCode.sasl]: { opCode: OpCode.sasl, kind: "auth", request: jute.juteCodecs.GetSASLRequest, response: jute.juteCodecs.SetSASLResponse },
  [OpCode.getEphemerals]: { opCode: OpCode.getEphemerals, kind: "read", request: jute.juteCodecs.GetEphemeralsRequest, response: jute.juteCodecs.GetEphemeralsResponse },
  [OpCode.getAllChildrenNumber]: {
    opCode: OpCode.getAllChildrenNumber,
    kind: "read",
    request: jute.juteCodecs.GetAllChildrenNumberRequest,
    response: jute.juteCodecs.GetAllChildrenNumberResponse,
  },
  [OpCode.setWatches2]: { opCode: OpCode.setWatches2, kind: "watch", request: jute.juteCodecs.SetWatches2, response: null },
  [OpCode.addWatch]: { opCode: OpCode.addWatch, kind: "watch", request: jute.juteCodecs.AddWatchRequest, response: jute.juteCodecs.ErrorResponse },
  [OpCode.whoAmI]: { opCode: OpCode.whoAmI, kind: "auth", request: null, response: jute.juteCodecs.WhoAmIResponse },
  [OpCode.closeSession]: { opCode: OpCode.closeSession, kind: "session", request: null, response: null },
};

/** Every op code a client may send, ascending. */
export const CLIENT_OP_CODES: readonly ClientOpCode[] = Object.keys(OPS)
  .map(Number)
  .sort((a, b) => a - b) as ClientOpCode[];

export function isClientOpCode(code: number): code is ClientOpCode {
  return Object.prototype.hasOwnProperty.call(OPS, code);
}

export type RequestDecodeErrorReason = "header" | "unknown-op" | "body";

/** A request frame the server cannot serve; `reason` tells the handler which reply (if any) to send. Stackless, like JuteDecodeError. */
export class RequestDecodeError extends Error {
  override name = "RequestDecodeError";
  readonly reason: RequestDecodeErrorReason;
  /** The header, when it could be read (so the reply can carry the xid). */
  readonly header: jute.RequestHeader | undefined;
  override readonly cause: JuteDecodeError | undefined;

  constructor(reason: RequestDecodeErrorReason, header: jute.RequestHeader | undefined, message: string, cause?: JuteDecodeError) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.reason = reason;
    this.header = header;
    this.cause = cause;
  }

  /** The error code to reply with, or undefined when the connection must close without a reply. */
  get replyError(): number | undefined {
    if (this.reason === "body") return ErrorCode.marshallingError;
    if (this.reason === "unknown-op") return ErrorCode.unimplemented;
    return undefined;
  }
}

/** Decodes one request frame body (after the length prefix). Throws RequestDecodeError only. */
export function decodeRequest(frame: Uint8Array): DecodedRequest {
  const r = new JuteReader(frame);
  let header: jute.RequestHeader;
  try {
    header = jute.decodeRequestHeader(r);
  } catch (error) {
    if (error instanceof JuteDecodeError) throw new RequestDecodeError("header", undefined, `request header: ${error.message}`, error);
    throw error;
  }
  if (!isClientOpCode(header.type)) {
    throw new RequestDecodeError("unknown-op", header, `unknown op code ${header.type}`);
  }
  const spec = OPS[header.type] as OpSpec;
  if (spec.request === null) return { xid: header.xid, opCode: header.type, body: null } as DecodedRequest;
  try {
    const body = spec.request.decode(r);
    return { xid: header.xid, opCode: header.type, body } as DecodedRequest;
  } catch (error) {
    if (error instanceof JuteDecodeError) throw new RequestDecodeError("body", header, `${header.type} request body: ${error.message}`, error);
    throw error;
  }
}

/** Writes one request (header + body, no length prefix): the client side, for tests, fuzzing and tools. */
export function encodeRequest<K extends ClientOpCode>(w: JuteWriter, xid: number, opCode: K, body: RequestBodies[K]): void {
  jute.encodeRequestHeader(w, { xid, type: opCode });
  const spec = OPS[opCode] as OpSpec<K>;
  if (spec.request !== null) spec.request.encode(w, body);
}

/**
 * Writes one reply (ReplyHeader + body, no length prefix: the framed server adds it). With
 * err ≠ 0 the body is omitted, as ZooKeeper does; multi failures are err 0 with per-op results.
 */
export function encodeReply<K extends ClientOpCode>(w: JuteWriter, opCode: K, header: jute.ReplyHeader, body: ResponseBodies[K] | null): void {
  jute.encodeReplyHeader(w, header);
  const spec = OPS[opCode] as OpSpec<K>;
  if (header.err === 0 && spec.response !== null && body !== null) spec.response.encode(w, body as ResponseBodies[K]);
}

/** A header-only reply (errors, delete, ping, auth, setWatches, closeSession, …). */
export function encodeHeaderOnlyReply(w: JuteWriter, header: jute.ReplyHeader): void {
  jute.encodeReplyHeader(w, header);
}

/**
 * A watch notification: ReplyHeader(xid -1, zxid, 0) + WatcherEvent. ZooKeeper 3.8 sends zxid -1;
 * 3.9+ sends the zxid of the change (ZOOKEEPER-4655). Clients ignore it; pass what you prefer.
 */
export function encodeNotification(w: JuteWriter, event: jute.WatcherEvent, zxid = -1n): void {
  jute.encodeReplyHeader(w, { xid: Xid.notification, zxid, err: 0 });
  jute.encodeWatcherEvent(w, event);
}

/** The reply to a ping: ReplyHeader(-2, lastZxid, 0). */
export function encodePingReply(w: JuteWriter, lastZxid: bigint): void {
  jute.encodeReplyHeader(w, { xid: Xid.ping, zxid: lastZxid, err: 0 });
}

/** Decodes a reply (frame body without the prefix) for a known op: the client side. Throws JuteDecodeError. */
export function decodeReply<K extends ClientOpCode>(
  frame: Uint8Array,
  opCode: K,
): { header: jute.ReplyHeader; body: ResponseBodies[K] | null } {
  const r = new JuteReader(frame);
  const header = jute.decodeReplyHeader(r);
  const spec = OPS[opCode] as OpSpec<K>;
  if (header.err !== 0 || spec.response === null || header.xid === Xid.notification) return { header, body: null };
  return { header, body: spec.response.decode(r) };
}
