// ACL checks, as ZooKeeper 3.8 does them (`ZooKeeperServer.checkACL`, `PrepRequestProcessor.fixupACL`,
// `IPAuthenticationProvider`, `DigestAuthenticationProvider`), over identity strings only: the
// front-end computes digests (SHA-1) when a client sends addAuth and puts the connection's
// identities into every command, so this module needs no crypto and decides the same on every
// replica at apply time.
//
// Schemes: world:anyone; auth (expands to the requester's authenticated ids — digest ones; ip ids
// are not "authenticated" in ZooKeeper's sense); digest:user:base64(sha1(user:pw)) compared as a
// string; ip:a.b.c.d[/bits] (IPv4 only, as 3.8); and the identity ("super", "") which the front-end
// adds when addAuth matches the configured super digest, and which bypasses every check.
import { CoordError } from "./errors.js";
import type { Acl, Identity } from "./types.js";

/** `ZooKeeperServer.checkACL`: does one of the identities hold one of the `perm` bits? */
export function aclPermits(acl: readonly Acl[], perm: number, identities: readonly Identity[]): boolean {
  if (acl.length === 0) return true;
  for (const identity of identities) if (identity.scheme === "super") return true;
  for (const entry of acl) {
    if ((entry.perms & perm) === 0) continue;
    const { scheme, id } = entry.id;
    if (scheme === "world" && id === "anyone") return true;
    if (scheme === "digest") {
      for (const identity of identities) if (identity.scheme === "digest" && identity.id === id) return true;
    } else if (scheme === "ip") {
      for (const identity of identities) if (identity.scheme === "ip" && ipMatches(identity.id, id)) return true;
    }
    // Other schemes (sasl, x509) have no provider here: they never match, as in a default ZooKeeper.
  }
  return false;
}

/** Parses a dotted IPv4 address as `IPAuthenticationProvider.v4addr2Bytes` does; IPv4-mapped IPv6 is unwrapped. */
export function parseIpv4(text: string): number[] | undefined {
  const address = text.startsWith("::ffff:") ? text.slice(7) : text;
  const parts = address.split(".");
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const part of parts) {
    if (!/^[+-]?\d{1,10}$/.test(part)) return undefined;
    const value = Number(part);
    if (value < 0 || value > 255) return undefined;
    bytes.push(value);
  }
  return bytes;
}

/** Parses "addr[/bits]": the address bytes and the prefix length, or undefined if malformed. */
function parseIpAcl(expression: string): { bytes: number[]; bits: number } | undefined {
  const slash = expression.indexOf("/");
  const bytes = parseIpv4(slash === -1 ? expression : expression.slice(0, slash));
  if (!bytes) return undefined;
  if (slash === -1) return { bytes, bits: 32 };
  const bitsText = expression.slice(slash + 1);
  if (!/^[+-]?\d{1,10}$/.test(bitsText)) return undefined;
  const bits = Number(bitsText);
  if (bits < 0 || bits > 32) return undefined;
  return { bytes, bits };
}

function maskedEqual(a: readonly number[], b: readonly number[], bits: number): boolean {
  for (let i = 0; i < 4; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    const mask = keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
    if ((a[i] & mask) !== (b[i] & mask)) return false;
  }
  return true;
}

/** `IPAuthenticationProvider.matches`: the client address against "addr[/bits]". */
export function ipMatches(clientAddress: string, expression: string): boolean {
  const acl = parseIpAcl(expression);
  if (!acl) return false;
  const client = parseIpv4(clientAddress);
  if (!client) return false;
  return maskedEqual(client, acl.bytes, acl.bits);
}

/** Java's `String.split(":")` piece count (trailing empty strings dropped), for digest validity. */
function javaSplitCount(text: string, separator: string): number {
  const parts = text.split(separator);
  let count = parts.length;
  while (count > 0 && parts[count - 1] === "") count--;
  return count === 0 ? (text.length === 0 ? 1 : 0) : count;
}

/** Whether an ACL id is well formed for its scheme (`AuthenticationProvider.isValid`). */
export function isValidAclId(id: Identity): boolean {
  if (id.scheme === "world") return id.id === "anyone";
  if (id.scheme === "digest") return javaSplitCount(id.id, ":") === 2;
  if (id.scheme === "ip") return parseIpAcl(id.id) !== undefined;
  return false;
}

/** Schemes whose identities `auth` expands to (`isAuthenticated()` providers: digest, not ip). */
function isAuthenticatedScheme(scheme: string): boolean {
  return scheme === "digest";
}

function sameAcl(a: Acl, b: Acl): boolean {
  return a.perms === b.perms && a.id.scheme === b.id.scheme && a.id.id === b.id.id;
}

/**
 * `PrepRequestProcessor.fixupACL`: drops duplicates, rejects an empty list and malformed ids, and
 * expands `auth` entries to the requester's authenticated identities. InvalidACL on any problem.
 */
export function fixupAcl(acl: readonly Acl[], identities: readonly Identity[]): readonly Acl[] | typeof CoordError.invalidACL {
  // The common case needs no copy: a single world:anyone entry is already valid and unique.
  if (acl.length === 1 && acl[0].id.scheme === "world" && acl[0].id.id === "anyone") return acl;
  const unique: Acl[] = [];
  for (const entry of acl) if (!unique.some((seen) => sameAcl(seen, entry))) unique.push(entry);
  if (unique.length === 0) return CoordError.invalidACL;
  const fixed: Acl[] = [];
  for (const entry of unique) {
    if (entry.id.scheme === "world" && entry.id.id === "anyone") {
      fixed.push(entry);
    } else if (entry.id.scheme === "auth") {
      let expanded = false;
      for (const identity of identities) {
        if (!isAuthenticatedScheme(identity.scheme)) continue;
        expanded = true;
        fixed.push({ perms: entry.perms, id: { scheme: identity.scheme, id: identity.id } });
      }
      if (!expanded) return CoordError.invalidACL;
    } else if (isValidAclId(entry.id)) {
      fixed.push(entry);
    } else {
      return CoordError.invalidACL;
    }
  }
  return fixed;
}

/** getACL for a reader without ADMIN: digest ids are masked to "user:x" (FinalRequestProcessor). */
export function maskDigests(acl: readonly Acl[]): Acl[] {
  return acl.map((entry) =>
    entry.id.scheme === "digest" ? { perms: entry.perms, id: { scheme: "digest", id: entry.id.id.replace(/:.*/g, ":x") } } : entry,
  );
}
