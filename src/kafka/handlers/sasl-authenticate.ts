// SaslAuthenticate (36), v0–1: the PLAIN token inside a Kafka request (after handshake v1).
import type { SaslAuthenticateRequest } from "../protocol/generated/sasl-authenticate-request.js";
import type { SaslAuthenticateResponse } from "../protocol/generated/sasl-authenticate-response.js";
import { ErrorCode } from "../protocol/generated/errors.js";
import { verifyPlain } from "./sasl-handshake.js";
import type { HandlerContext } from "./index.js";

export async function handleSaslAuthenticate(context: HandlerContext, request: SaslAuthenticateRequest): Promise<SaslAuthenticateResponse> {
  const response: SaslAuthenticateResponse = { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: Buffer.alloc(0) };
  if (context.apiVersion >= 1) response.sessionLifetimeMs = 0n;
  const principal = context.state.saslMechanism === "PLAIN" ? verifyPlain(context.backend, request.authBytes) : undefined;
  if (principal === undefined) {
    response.errorCode = context.state.saslMechanism ? ErrorCode.SASL_AUTHENTICATION_FAILED : ErrorCode.ILLEGAL_SASL_STATE;
    response.errorMessage = context.state.saslMechanism ? "Authentication failed: invalid username or password" : "SaslAuthenticate before SaslHandshake";
    context.logger.warn({ remote: context.clientHost, clientId: context.clientId }, "SASL/PLAIN authentication failed");
    // Kafka closes the connection after a failed authentication; the response goes out first.
    setImmediate(() => context.connection.close());
    return response;
  }
  context.state.authenticated = true;
  context.state.principal = principal;
  return response;
}
