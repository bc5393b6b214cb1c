// Structured logging (pino). One root logger per process; components take a child with their
// name bound, so every line says where it came from. Deterministic layers (paxos/, the state
// machines) do not log: they report through their return values and the runtime logs those.
import { pino, type Logger, type LevelWithSilent } from "pino";

export type { Logger };

export interface LoggerOptions {
  /** pino level; default from SYNOD_LOG_LEVEL, else "info". "silent" turns logging off. */
  level?: LevelWithSilent;
  /** Bound fields added to every line (e.g. { node: 1 }). */
  bindings?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? (process.env.SYNOD_LOG_LEVEL as LevelWithSilent | undefined) ?? "info";
  const logger = pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
  return options.bindings ? logger.child(options.bindings) : logger;
}

/** A logger that drops everything; for tests that assert on behaviour, not on log lines. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
