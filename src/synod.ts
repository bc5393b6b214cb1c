// The composition root: startNode() wires the runtime (node/), the front-ends (kafka/, zookeeper/)
// and the admin server into one synod node. It is the one way to run a node, from the CLI or in-process.
import { Registry, collectDefaultMetrics } from "prom-client";
import { startAdminServer, type AdminServer, type HealthReport } from "./admin/server.js";
import { createLogger, type Logger } from "./util/logger.js";
import { DisposableStack } from "./util/disposable.js";
import { openDataDir, type NodeIdentity } from "./node/data-dir.js";
import { resolveConfig, type NodeConfig } from "./node/config.js";

export interface StartNodeOptions extends Partial<NodeConfig> {
  /** Logger to use; default a pino logger at config.logLevel. */
  logger?: Logger;
}

export interface SynodNode {
  readonly config: NodeConfig;
  readonly identity: NodeIdentity;
  /** The admin HTTP server's bound port (useful when adminPort was 0). */
  readonly adminPort: number;
  readonly registry: Registry;
  /** Stops listeners and flushes state; idempotent. */
  close(): Promise<void>;
}

export async function startNode(options: StartNodeOptions = {}): Promise<SynodNode> {
  const { logger: givenLogger, ...overrides } = options;
  const config = resolveConfig({ overrides, env: {} });
  const logger = (givenLogger ?? createLogger({ level: config.logLevel as never })).child({ node: config.nodeId });
  const stack = new DisposableStack();
  let status: HealthReport["status"] = "starting";
  try {
    const dataDir = openDataDir(config.dataDir, config.nodeId);
    stack.defer(() => dataDir.release());
    logger.info({ dataDir: dataDir.path, clusterId: dataDir.identity.clusterId }, "data directory ready");

    const registry = new Registry();
    registry.setDefaultLabels({ node: String(config.nodeId) });
    collectDefaultMetrics({ register: registry });

    const admin: AdminServer = stack.add(
      await startAdminServer({
        host: config.host,
        port: config.adminPort,
        registry,
        logger,
        health: () => ({ status, nodeId: config.nodeId }),
      }),
    );
    status = "ok";
    logger.info("node started");
    return {
      config,
      identity: dataDir.identity,
      adminPort: admin.port,
      registry,
      close: async () => {
        status = "stopping";
        await stack.close();
        logger.info("node stopped");
      },
    };
  } catch (error) {
    await stack.close().catch(() => undefined);
    throw error;
  }
}
