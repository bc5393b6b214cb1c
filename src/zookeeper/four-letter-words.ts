// ZooKeeper's four-letter words (`FourLetterCommands`, `*Command` classes in 3.8): a client
// writes four ASCII bytes instead of a ConnectRequest, the server writes plain text and closes.
// Only words on the whitelist run (`4lw.commands.whitelist`, default "srvr"; "*" = all); any
// other known word gets ZooKeeper's refusal line. The texts follow 3.8's formats closely enough
// for the tools that parse them: kazoo's server_version() reads `zookeeper.version=` from envi,
// monitoring scripts read mntr's tab-separated lines and srvr's "Mode:" and "Zxid:".

/** The words this server implements. */
export const SERVED_WORDS: ReadonlySet<string> = new Set(["ruok", "srvr", "stat", "mntr", "conf", "cons", "envi", "isro", "wchs", "dump"]);

/** The version we announce: the ZooKeeper release whose wire protocol and semantics we follow. */
export const ANNOUNCED_VERSION = "3.8.4-synod, built on 1970-01-01 00:00 UTC";

/** The whitelist setting parsed: "*" or a comma/space separated list of words. */
export function parseWhitelist(raw: string): ReadonlySet<string> | "all" {
  const words = raw
    .split(/[\s,]+/)
    .map((w) => w.trim())
    .filter((w) => w !== "");
  if (words.includes("*")) return "all";
  return new Set(words);
}

export interface ConnectionView {
  remote: string;
  remotePort: number;
  sessionId: bigint;
  timeoutMs: number;
  queued: number;
  received: number;
  sent: number;
  lastOp: string;
  lastZxid: bigint;
  established: boolean;
  latencyMinMs: number;
  latencyAvgMs: number;
  latencyMaxMs: number;
}

/** What the words report, gathered by the server at the moment of the request. */
export interface ServerView {
  mode: "standalone" | "leader" | "follower" | "observer";
  serving: boolean;
  zxid: bigint;
  nodeCount: number;
  received: number;
  sent: number;
  outstanding: number;
  latencyMinMs: number;
  latencyAvgMs: number;
  latencyMaxMs: number;
  connections: ConnectionView[];
  watches: { connections: number; paths: number; watches: number };
  ephemerals: Array<{ sessionId: bigint; paths: string[] }>;
  sessions: Array<{ sessionId: bigint; timeoutMs: number }>;
  approximateDataBytes: number;
  config: Record<string, string | number>;
  environment: Record<string, string>;
}

const hex = (value: bigint): string => `0x${BigInt.asUintN(64, value).toString(16)}`;

function connectionLine(c: ConnectionView): string {
  if (!c.established) return ` /${c.remote}:${c.remotePort}[0](queued=${c.queued},recved=${c.received},sent=${c.sent})`;
  return (
    ` /${c.remote}:${c.remotePort}[1](queued=${c.queued},recved=${c.received},sent=${c.sent},sid=${hex(c.sessionId)},lop=${c.lastOp},` +
    `to=${c.timeoutMs},lzxid=${hex(c.lastZxid)},minlat=${Math.round(c.latencyMinMs)},avglat=${c.latencyAvgMs.toFixed(4)},maxlat=${Math.round(c.latencyMaxMs)})`
  );
}

function srvr(view: ServerView, withClients: boolean): string {
  const lines = [`Zookeeper version: ${ANNOUNCED_VERSION}`];
  if (withClients) {
    lines.push("Clients:");
    for (const c of view.connections) lines.push(connectionLine(c));
    lines.push("");
  }
  lines.push(
    `Latency min/avg/max: ${Math.round(view.latencyMinMs)}/${view.latencyAvgMs.toFixed(4)}/${Math.round(view.latencyMaxMs)}`,
    `Received: ${view.received}`,
    `Sent: ${view.sent}`,
    `Connections: ${view.connections.length}`,
    `Outstanding: ${view.outstanding}`,
    `Zxid: ${hex(view.zxid)}`,
    `Mode: ${view.mode}`,
    `Node count: ${view.nodeCount}`,
  );
  return lines.join("\n") + "\n";
}

function mntr(view: ServerView): string {
  const rows: Array<[string, string | number]> = [
    ["zk_version", ANNOUNCED_VERSION],
    ["zk_server_state", view.mode],
    ["zk_avg_latency", view.latencyAvgMs.toFixed(4)],
    ["zk_max_latency", Math.round(view.latencyMaxMs)],
    ["zk_min_latency", Math.round(view.latencyMinMs)],
    ["zk_packets_received", view.received],
    ["zk_packets_sent", view.sent],
    ["zk_num_alive_connections", view.connections.length],
    ["zk_outstanding_requests", view.outstanding],
    ["zk_znode_count", view.nodeCount],
    ["zk_watch_count", view.watches.watches],
    ["zk_ephemerals_count", view.ephemerals.reduce((n, e) => n + e.paths.length, 0)],
    ["zk_approximate_data_size", view.approximateDataBytes],
    ["zk_global_sessions", view.sessions.length],
  ];
  return rows.map(([k, v]) => `${k}\t${v}`).join("\n") + "\n";
}

function dump(view: ServerView): string {
  const lines = ["SessionTracker dump:", `Global Sessions(${view.sessions.length}):`];
  for (const s of view.sessions) lines.push(`${hex(s.sessionId)}\t${s.timeoutMs}ms`);
  const withEphemerals = view.ephemerals.filter((e) => e.paths.length > 0);
  lines.push("ephemeral nodes dump:", `Sessions with Ephemerals (${withEphemerals.length}):`);
  for (const e of withEphemerals) {
    lines.push(`${hex(e.sessionId)}:`);
    for (const path of e.paths) lines.push(`\t${path}`);
  }
  lines.push("Connections with Ephemerals:");
  return lines.join("\n") + "\n";
}

/** The text a four-letter word answers with (the caller writes it and closes the connection). */
export function fourLetterWordReply(word: string, whitelist: ReadonlySet<string> | "all", view: () => ServerView): string {
  const allowed = SERVED_WORDS.has(word) && (whitelist === "all" || whitelist.has(word));
  if (!allowed) return `${word} is not executed because it is not in the whitelist.\n`;
  if (word === "ruok") return "imok";
  if (word === "isro") return view().serving ? "rw" : "null";
  const v = view();
  if (!v.serving && word !== "envi" && word !== "conf") return "This ZooKeeper instance is not currently serving requests\n";
  switch (word) {
    case "srvr":
      return srvr(v, false);
    case "stat":
      return srvr(v, true);
    case "mntr":
      return mntr(v);
    case "conf":
      return Object.entries(v.config)
        .map(([k, value]) => `${k}=${value}\n`)
        .join("");
    case "cons":
      return v.connections.map((c) => connectionLine(c) + "\n").join("") + "\n";
    case "envi":
      return ["Environment:", `zookeeper.version=${ANNOUNCED_VERSION}`, ...Object.entries(v.environment).map(([k, value]) => `${k}=${value}`)].join("\n") + "\n";
    case "wchs":
      return `${v.watches.connections} connections watching ${v.watches.paths} paths\nTotal watches:${v.watches.watches}\n`;
    case "dump":
      return dump(v);
    default:
      return `${word} is not executed because it is not in the whitelist.\n`;
  }
}
