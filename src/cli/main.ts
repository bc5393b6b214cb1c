#!/usr/bin/env node
// The `synod` command.
import { Command } from "commander";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { SETTINGS, resolveConfig, type NodeConfig } from "../node/config.js";
import { startNode } from "../synod.js";
import { createLogger } from "../util/logger.js";

function flagKey(flag: string): string {
  // "--node-id <id>" → "nodeId", the camelCase name commander gives the option.
  const name = flag.split(" ")[0].replace(/^--/, "");
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

async function start(flags: Record<string, string | undefined>): Promise<void> {
  const byKey: Partial<Record<keyof NodeConfig, string>> = {};
  for (const setting of SETTINGS) {
    const value = flags[flagKey(setting.flag)];
    if (value !== undefined) byKey[setting.key] = value;
  }
  const config = resolveConfig({ flags: byKey, configFile: flags.config });
  const logger = createLogger({ level: config.logLevel as never });
  const node = await startNode({ ...config, logger, onFatal: "exit" });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping");
    node.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, "error while stopping");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

const program = new Command("synod")
  .description("A replicated log and coordination service: Kafka and ZooKeeper wire protocols on Multi-Paxos.")
  .showHelpAfterError();

const startCommand = program.command("start").description("start a node (defaults: one node, zero configuration)");
startCommand.option("--config <file>", "JSON config file (keys as in the docs)");
for (const setting of SETTINGS) {
  const fallback = setting.defaultValue === undefined ? "" : ` (default ${String(setting.defaultValue)}, env ${setting.env})`;
  startCommand.option(setting.flag, `${setting.description}${fallback}`);
}
startCommand.action(async (flags: Record<string, string | undefined>) => {
  try {
    await start(flags);
  } catch (error) {
    process.stderr.write(`synod: ${(error as Error).message}\n`);
    process.exit(1);
  }
});

program
  .command("dev-cluster")
  .description("start a local cluster of N nodes on 127.0.0.1 (separate processes) and print the bootstrap servers")
  .option("--nodes <n>", "number of nodes (1-9)", "3")
  .option("--data-dir <dir>", "base directory; node i uses <dir>/node-i", "./synod-dev")
  .option("--kafka-port <port>", "Kafka port of node 1; node i uses port + i - 1", "9092")
  .option("--zookeeper-port <port>", "ZooKeeper port of node 1", "2181")
  .option("--admin-port <port>", "admin HTTP port of node 1", "8080")
  .option("--peer-port <port>", "peer port of node 1", "19092")
  .option("--log-level <level>", "log level of the nodes", "info")
  .action((flags: Record<string, string>) => {
    const count = Number(flags.nodes);
    if (!Number.isInteger(count) || count < 1 || count > 9) {
      process.stderr.write("synod: --nodes must be 1..9\n");
      process.exit(1);
    }
    const port = (name: string, i: number): string => String(Number(flags[name]) + i);
    const peers = Array.from({ length: count }, (_, i) => `${i + 1}@127.0.0.1:${port("peerPort", i)}`).join(",");
    const children = Array.from({ length: count }, (_, i) =>
      spawn(
        process.execPath,
        [
          fileURLToPath(import.meta.url), "start",
          "--node-id", String(i + 1),
          "--data-dir", join(flags.dataDir, `node-${i + 1}`),
          "--kafka-port", port("kafkaPort", i),
          "--zookeeper-port", port("zookeeperPort", i),
          "--admin-port", port("adminPort", i),
          "--peers", peers,
          "--log-level", flags.logLevel,
        ],
        { stdio: ["ignore", "inherit", "inherit"] },
      ),
    );
    const bootstrap = Array.from({ length: count }, (_, i) => `127.0.0.1:${port("kafkaPort", i)}`).join(",");
    const zookeeper = Array.from({ length: count }, (_, i) => `127.0.0.1:${port("zookeeperPort", i)}`).join(",");
    process.stderr.write(`synod dev-cluster: ${count} nodes\n  Kafka bootstrap servers: ${bootstrap}\n  ZooKeeper connect string: ${zookeeper}\n`);
    process.stdout.write(`${bootstrap}\n`);
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      stopping = true;
      for (const child of children) child.kill(signal);
    };
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => stop("SIGTERM"));
    let running = children.length;
    for (const [i, child] of children.entries()) {
      child.on("exit", (code, signal) => {
        running--;
        if (!stopping) process.stderr.write(`synod dev-cluster: node ${i + 1} exited (${signal ?? code}); the others keep running\n`);
        if (running === 0) process.exit(stopping ? 0 : 1);
      });
    }
  });

await program.parseAsync(process.argv);
