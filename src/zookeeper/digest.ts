// Digest authentication, front-end side: ZooKeeper's `DigestAuthenticationProvider`. A client's
// addAuth("digest", "user:password") becomes the identity ("digest", "user:" +
// base64(sha1("user:password"))); if that equals the configured super digest, the connection also
// gets ("super", ""), which bypasses every ACL. The coordination state machine only ever compares
// these strings, so the SHA-1 happens once, here, not on every replica.
import { createHash } from "node:crypto";
import type { Identity } from "../coord/types.js";

/** `DigestAuthenticationProvider.generateDigest("user:password")`: "user:base64(sha1(user:password))". */
export function digestOf(userColonPassword: string): string {
  const colon = userColonPassword.indexOf(":");
  const user = colon === -1 ? userColonPassword : userColonPassword.slice(0, colon);
  return `${user}:${createHash("sha1").update(userColonPassword, "utf8").digest("base64")}`;
}

/** The digest identity id for a user and password (what `digest:` ACLs name). */
export function digestIdentity(user: string, password: string): string {
  return digestOf(`${user}:${password}`);
}

/**
 * The identities an addAuth("digest", authData) grants (`handleAuthentication`). `superDigest` is
 * ZooKeeper's `zookeeper.DigestAuthenticationProvider.superDigest`, e.g.
 * "super:D/InIHSb7yEEbrWz8b9l71RjZJU=" (password "test").
 */
export function authenticateDigest(authData: Uint8Array, superDigest?: string): Identity[] {
  const digest = digestOf(Buffer.from(authData.buffer, authData.byteOffset, authData.byteLength).toString("utf8"));
  const identities: Identity[] = [];
  if (superDigest !== undefined && digest === superDigest) identities.push({ scheme: "super", id: "" });
  identities.push({ scheme: "digest", id: digest });
  return identities;
}
