// The admin HTTP server: GET /health (JSON, 200 when the node serves, 503 otherwise) and
// GET /metrics (Prometheus text format from the node's own prom-client registry; one registry per
// node so several in-process nodes do not mix their figures).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { Logger } from "../util/logger.js";

export interface HealthReport {
  status: "ok" | "starting" | "stopping" | "degraded";
  [detail: string]: unknown;
}

export interface AdminRoute {
  method: "GET" | "POST";
  path: string;
  /** Returns the HTTP status and a JSON body. */
  handle(query: URLSearchParams): Promise<{ status: number; body: unknown }>;
}

export interface AdminServerOptions {
  host: string;
  port: number;
  registry: Registry;
  health: () => HealthReport;
  logger: Logger;
  /** Operator endpoints the composition root adds (cluster membership operations). */
  routes?: readonly AdminRoute[];
}

export interface AdminServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const { registry, health, logger } = options;
  const server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      logger.error({ err: error, url: request.url }, "admin request failed");
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  // Admin requests are tiny; bound how long a slow client may hold a socket.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://admin");
    const path = url.pathname;
    const route = options.routes?.find((r) => r.path === path && r.method === request.method);
    if (route) {
      const { status, body } = await route.handle(url.searchParams);
      response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      return;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/health") {
      const report = health();
      const body = JSON.stringify(report);
      response.writeHead(report.status === "ok" ? 200 : 503, { "content-type": "application/json" }).end(body);
      return;
    }
    if (path === "/metrics") {
      const body = await registry.metrics();
      response.writeHead(200, { "content-type": registry.contentType }).end(body);
      return;
    }
    response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  logger.info({ host: address.address, port: address.port }, "admin HTTP listening");
  return {
    host: address.address,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
