// SaslHandshake (17), v0–1, and the bare-token exchange that follows a v0 handshake. synod
// supports SASL/PLAIN against configured users; with no users configured the listener is
// PLAINTEXT and refuses SASL (UNSUPPORTED_SASL_MECHANISM), as a Kafka PLAINTEXT listener does.
import type { SaslHandshakeRequest } from "../protocol/generated/sasl-handshake-request.js";
import type { SaslHandshakeResponse } from "../protocol/generated/sasl-handshake-response.js";
import { ErrorCode } from "../protocol/generated/errors.js";
import type { KafkaBackend } from "../backend.js";
import type { ConnectionState, HandlerContext } from "./index.js";

export async function handleSaslHandshake(context: HandlerContext, request: SaslHandshakeRequest): Promise<SaslHandshakeResponse> {
  const users = context.backend.settings.saslPlainUsers;
  if (users.size === 0) return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: [] };
  if (request.mechanism !== "PLAIN") return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: ["PLAIN"] };
  context.state.saslMechanism = "PLAIN";
  if (context.apiVersion === 0) context.state.saslV0TokenExpected = true;
  return { errorCode: ErrorCode.NONE, mechanisms: ["PLAIN"] };
}

/** Verifies a PLAIN token "[authzid] NUL authcid NUL password"; returns the principal or undefined. */
export function verifyPlain(backend: KafkaBackend, token: Uint8Array): string | undefined {
  const parts = Buffer.from(token.buffer, token.byteOffset, token.byteLength).toString("utf8").split("\u0000");
  if (parts.length !== 3) return undefined;
  const [authzid, user, password] = parts;
  if (authzid !== "" && authzid !== user) return undefined;
  const expected = backend.settings.saslPlainUsers.get(user);
  if (expected === undefined || expected.length !== password.length) return undefined;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ password.charCodeAt(i);
  return diff === 0 ? user : undefined;
}

/** After a v0 handshake: the raw token; an empty response frame on success, undefined on failure. */
export function handleSaslV0Token(backend: KafkaBackend, state: ConnectionState, token: Buffer): Buffer | undefined {
  const principal = state.saslMechanism === "PLAIN" ? verifyPlain(backend, token) : undefined;
  if (principal === undefined) return undefined;
  state.authenticated = true;
  state.principal = principal;
  return Buffer.alloc(0);
}
