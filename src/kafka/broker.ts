// The Kafka listener: frames in, requests decoded by (apiKey, apiVersion), one handler per API
// (src/kafka/handlers/), responses encoded and written in request order by the framed server.
// Bad input never reaches a handler: an unknown API key, a version outside what we advertise
// (except ApiVersions, which answers UNSUPPORTED_VERSION with a v0 body, KIP-511), a malformed
// request or a frame over the limit is logged once and closes that connection only.
import type { Logger } from "../util/logger.js";
import { startFramedServer, type FramedConnection, type FramedServer, type ReplySlot } from "../util/framed-server.js";
import type { DecodedRequest } from "./protocol/frames.js";
import { BROKER_FRAMES } from "./broker-codecs.js";
import { KafkaRequestError } from "./protocol/errors.js";
import { ApiKey, SUPPORTED_VERSIONS, isSupported } from "./api-versions.js";
import type { KafkaBackend } from "./backend.js";
import { HANDLERS, type HandlerContext, type ConnectionState } from "./handlers/index.js";
import { apiVersionsBody } from "./handlers/api-versions.js";
import { handleSaslV0Token } from "./handlers/sasl-handshake.js";

export interface KafkaBrokerOptions {
  host: string;
  port: number;
  backend: KafkaBackend;
  logger: Logger;
  /** Largest request accepted (socket.request.max.bytes); default 100 MiB. */
  frameBytesMax?: number;
  /** Requests outstanding per connection before reading pauses; default 1000. */
  inflightRequestsMax?: number;
  /** Clock for handlers (group timeouts); default Date.now. */
  nowMs?: () => number;
  /** Observes every handled request (metrics). */
  onRequest?: (apiKey: number, apiVersion: number, durationMs: number, ok: boolean) => void;
}

export interface KafkaBroker {
  readonly port: number;
  close(): Promise<void>;
}

export async function startKafkaBroker(options: KafkaBrokerOptions): Promise<KafkaBroker> {
  const logger = options.logger.child({ component: "kafka" });
  const nowMs = options.nowMs ?? Date.now;
  const server: FramedServer = await startFramedServer({
    name: "kafka",
    host: options.host,
    port: options.port,
    logger,
    frameBytesMax: options.frameBytesMax ?? 100 * 2 ** 20,
    inflightRequestsMax: options.inflightRequestsMax,
    accept(connection) {
      const state: ConnectionState = {
        authenticated: options.backend.settings.saslPlainUsers.size === 0,
        saslMechanism: undefined,
        saslV0TokenExpected: false,
        principal: undefined,
        loggedBadInput: false,
      };
      return {
        onFrame: (frame, slot) => onFrame(connection, state, frame, slot),
      };
    },
  });

  function badInput(connection: FramedConnection, state: ConnectionState, detail: Record<string, unknown>, message: string): void {
    if (!state.loggedBadInput) {
      state.loggedBadInput = true;
      logger.warn({ remote: `${connection.remoteAddress}:${connection.remotePort}`, ...detail }, message);
    }
    connection.close();
  }

  function onFrame(connection: FramedConnection, state: ConnectionState, frame: Buffer, slot: ReplySlot): void {
    if (state.saslV0TokenExpected) {
      state.saslV0TokenExpected = false;
      const response = handleSaslV0Token(options.backend, state, frame);
      if (response === undefined) {
        badInput(connection, state, {}, "SASL/PLAIN authentication failed; closing connection");
        slot.resolve(null);
        return;
      }
      slot.resolve(response);
      return;
    }
    if (frame.length < 8) {
      badInput(connection, state, { frameBytes: frame.length }, "request frame shorter than a header; closing connection");
      slot.resolve(null);
      return;
    }
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    if (!isSupported(apiKey, apiVersion)) {
      if (apiKey === ApiKey.ApiVersions) {
        // KIP-511: answer with a v0 body so any client can read the error and our ranges.
        slot.resolve(BROKER_FRAMES.encodeResponse(ApiKey.ApiVersions, 0, correlationId, apiVersionsBody(35)).subarray(4));
        return;
      }
      badInput(connection, state, { apiKey, apiVersion, supported: SUPPORTED_VERSIONS.get(apiKey) ?? null }, "unsupported API key or version; closing connection");
      slot.resolve(null);
      return;
    }
    if (!state.authenticated && apiKey !== ApiKey.ApiVersions && apiKey !== ApiKey.SaslHandshake && apiKey !== ApiKey.SaslAuthenticate) {
      badInput(connection, state, { apiKey }, "request before SASL authentication; closing connection");
      slot.resolve(null);
      return;
    }
    let request: DecodedRequest;
    try {
      request = BROKER_FRAMES.decodeRequest(frame);
    } catch (error) {
      const detail = error instanceof KafkaRequestError ? { apiKey, apiVersion, code: error.code, reason: error.message } : { apiKey, apiVersion, err: error };
      badInput(connection, state, detail, "malformed request; closing connection");
      slot.resolve(null);
      return;
    }
    const handler = HANDLERS.get(apiKey);
    if (!handler) {
      badInput(connection, state, { apiKey }, "no handler for API key; closing connection");
      slot.resolve(null);
      return;
    }
    const context: HandlerContext = {
      backend: options.backend,
      logger,
      state,
      connection,
      apiVersion,
      clientId: request.clientId ?? "",
      clientHost: `/${connection.remoteAddress}`,
      nowMs,
    };
    const started = performance.now();
    handler(context, request.body)
      .then((body) => {
        options.onRequest?.(apiKey, apiVersion, performance.now() - started, true);
        if (body === null) return slot.resolve(null);
        if (apiKey === ApiKey.Fetch) {
          // Record batches go to the socket by reference (gathered), not copied into the frame.
          const chunks = BROKER_FRAMES.encodeResponseChunks(apiKey, apiVersion, correlationId, body);
          chunks[0] = chunks[0].subarray(4);
          return slot.resolve(chunks);
        }
        slot.resolve(BROKER_FRAMES.encodeResponse(apiKey, apiVersion, correlationId, body).subarray(4));
      })
      .catch((error: unknown) => {
        options.onRequest?.(apiKey, apiVersion, performance.now() - started, false);
        logger.error({ apiKey, apiVersion, err: error }, "request handler failed; closing connection");
        slot.resolve(null);
        connection.close();
      });
  }

  return {
    port: server.port,
    close: () => server.close(),
  };
}
