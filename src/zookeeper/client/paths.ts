// Client-side path rules: ZooKeeper's PathUtils.validatePath (so a bad path fails fast with
// BadArguments and never costs a round trip), the connect string ("h1:p1,h2:p2/chroot"), and the
// chroot mapping (prefix on the way out, strip on the way in, as the Java client does).
import { BadArgumentsError } from "./errors.js";
import { ErrorCode } from "../protocol/errors.js";

export interface ServerAddress {
  host: string;
  port: number;
}

export interface ConnectString {
  servers: ServerAddress[];
  /** "" for none, else "/a/b" (no trailing slash). */
  chroot: string;
}

/** Most servers a connect string may list (the Java client has no limit; ensembles are small). */
export const SERVERS_MAX = 256;

function badPath(path: string, why: string): BadArgumentsError {
  return new BadArgumentsError(ErrorCode.badArguments, path, `invalid path: ${why}`);
}

/** Throws BadArguments unless `path` is a valid absolute znode path (sequential: a prefix may end in "/"). */
export function validatePath(path: string, sequential = false): void {
  if (typeof path !== "string" || path.length === 0) throw badPath(String(path), "empty");
  if (path[0] !== "/") throw badPath(path, "must start with /");
  if (path.length === 1) return;
  if (path[path.length - 1] === "/" && !sequential) throw badPath(path, "must not end with /");
  const segments = path.split("/");
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i];
    const last = i === segments.length - 1;
    if (segment.length === 0 && !(last && sequential)) throw badPath(path, "empty node name");
    if (segment === "." || segment === "..") throw badPath(path, "relative paths are not allowed");
  }
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c <= 0x1f || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xf8ff) || (c >= 0xfff0 && c <= 0xffff)) {
      throw badPath(path, `invalid character \\u${c.toString(16).padStart(4, "0")} at ${i}`);
    }
  }
}

function parseAddress(text: string): ServerAddress {
  let host: string;
  let portText: string;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) throw new TypeError(`bad server address ${JSON.stringify(text)}`);
    host = text.slice(1, close);
    portText = text.slice(close + 1).replace(/^:/, "");
  } else {
    const colon = text.lastIndexOf(":");
    host = colon < 0 ? text : text.slice(0, colon);
    portText = colon < 0 ? "" : text.slice(colon + 1);
  }
  const port = portText === "" ? 2181 : Number(portText);
  if (host === "" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new TypeError(`bad server address ${JSON.stringify(text)}`);
  }
  return { host, port };
}

/** Parses "h1:p1,h2:p2/chroot" (port default 2181; IPv6 as "[::1]:2181"). Throws TypeError. */
export function parseConnectString(text: string): ConnectString {
  const slash = text.indexOf("/");
  const hostPart = slash < 0 ? text : text.slice(0, slash);
  let chroot = slash < 0 ? "" : text.slice(slash);
  if (chroot === "/") chroot = "";
  if (chroot !== "") validatePath(chroot);
  const servers = hostPart
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map(parseAddress);
  if (servers.length === 0) throw new TypeError(`no servers in connect string ${JSON.stringify(text)}`);
  if (servers.length > SERVERS_MAX) throw new TypeError(`more than ${SERVERS_MAX} servers in the connect string`);
  return { servers, chroot };
}

/** The server-side path for a client path. */
export function toServerPath(chroot: string, path: string): string {
  if (chroot === "") return path;
  return path === "/" ? chroot : chroot + path;
}

/** The client-side path for a server path (a path outside the chroot is returned unchanged). */
export function toClientPath(chroot: string, serverPath: string): string {
  if (chroot === "") return serverPath;
  if (serverPath === chroot) return "/";
  if (serverPath.startsWith(chroot + "/")) return serverPath.slice(chroot.length);
  return serverPath;
}
