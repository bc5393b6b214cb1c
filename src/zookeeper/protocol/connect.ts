// The handshake records. The first frame of a connection is a bare ConnectRequest (no
// RequestHeader). ZooKeeper 3.8 appends the `readOnly` byte OUTSIDE jute: newer clients (kazoo,
// the Java client) send it, node-zookeeper-client does not, and the server answers with a
// readOnly byte only when the client sent one (`ZooKeeperServer.processConnectRequest`,
// `ClientCnxnSocket.readConnectResult`). The jute file we generate from is master's, which
// declares the byte as a field; these hand-written codecs make it optional in both directions.
import type { JuteReader, JuteWriter } from "../jute/runtime.js";

export interface ConnectRequest {
  /** Always 0 in practice. */
  protocolVersion: number;
  /** The highest zxid the client has seen; a server behind it must close without replying. */
  lastZxidSeen: bigint;
  /** Requested session timeout in ms (the server clamps it to its min/max). */
  timeOut: number;
  /** 0 for a new session; otherwise the session to resume. */
  sessionId: bigint;
  /** 16 bytes: the session password (zeros for a new session). */
  passwd: Uint8Array | null;
  /** The trailing readOnly byte, or undefined when the client did not send one. */
  readOnly: boolean | undefined;
}

export interface ConnectResponse {
  protocolVersion: number;
  /** Negotiated timeout in ms; 0 means the session is invalid or expired. */
  timeOut: number;
  sessionId: bigint;
  passwd: Uint8Array | null;
  /** Sent only when the client's request carried the byte (pass undefined to omit it). */
  readOnly: boolean | undefined;
}

export function decodeConnectRequest(r: JuteReader): ConnectRequest {
  const protocolVersion = r.readInt();
  const lastZxidSeen = r.readLong();
  const timeOut = r.readInt();
  const sessionId = r.readLong();
  const passwd = r.readBuffer();
  // Java reads one more boolean and treats a short read as an old client.
  const readOnly = r.remaining >= 1 ? r.readBool() : undefined;
  return { protocolVersion, lastZxidSeen, timeOut, sessionId, passwd, readOnly };
}

export function encodeConnectRequest(w: JuteWriter, request: ConnectRequest): void {
  w.writeInt(request.protocolVersion);
  w.writeLong(request.lastZxidSeen);
  w.writeInt(request.timeOut);
  w.writeLong(request.sessionId);
  w.writeBuffer(request.passwd);
  if (request.readOnly !== undefined) w.writeBool(request.readOnly);
}

export function encodeConnectResponse(w: JuteWriter, response: ConnectResponse): void {
  w.writeInt(response.protocolVersion);
  w.writeInt(response.timeOut);
  w.writeLong(response.sessionId);
  w.writeBuffer(response.passwd);
  if (response.readOnly !== undefined) w.writeBool(response.readOnly);
}

export function decodeConnectResponse(r: JuteReader): ConnectResponse {
  const protocolVersion = r.readInt();
  const timeOut = r.readInt();
  const sessionId = r.readLong();
  const passwd = r.readBuffer();
  const readOnly = r.remaining >= 1 ? r.readBool() : undefined;
  return { protocolVersion, timeOut, sessionId, passwd, readOnly };
}
