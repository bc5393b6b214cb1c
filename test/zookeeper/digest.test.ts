// Goal: digest identities are computed exactly as ZooKeeper's DigestAuthenticationProvider does.
// Method: known values from ZooKeeper's own test suite (AuthTest, ReconfigTest and kazoo's
// harness all configure superDigest "super:D/InIHSb7yEEbrWz8b9l71RjZJU=" for password "test"),
// plus the super identity and the no-colon edge case.
import { test } from "node:test";
import assert from "node:assert/strict";
import { authenticateDigest, digestIdentity, digestOf } from "../../src/zookeeper/digest.js";

const SUPER_DIGEST = "super:D/InIHSb7yEEbrWz8b9l71RjZJU=";

test("digestIdentity matches ZooKeeper's known value for super:test", () => {
  assert.equal(digestIdentity("super", "test"), SUPER_DIGEST);
});

test("addAuth digest grants the digest id, plus super when it matches the configured super digest", () => {
  assert.deepEqual(authenticateDigest(Buffer.from("super:test"), SUPER_DIGEST), [
    { scheme: "super", id: "" },
    { scheme: "digest", id: SUPER_DIGEST },
  ]);
  assert.deepEqual(authenticateDigest(Buffer.from("super:wrong"), SUPER_DIGEST), [{ scheme: "digest", id: digestIdentity("super", "wrong") }]);
  assert.deepEqual(authenticateDigest(Buffer.from("super:test")), [{ scheme: "digest", id: SUPER_DIGEST }]);
});

test("the user part is everything before the first colon; the whole string is hashed", () => {
  assert.ok(digestOf("bob:pa:ss").startsWith("bob:"));
  assert.equal(digestOf("bob:pa:ss"), digestIdentity("bob", "pa:ss"));
  assert.ok(digestOf("nocolon").startsWith("nocolon:"));
});
