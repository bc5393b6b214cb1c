#!/usr/bin/env node
// The `synod` command.
import { Command } from "commander";
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

await program.parseAsync(process.argv);
