// Settings resolve from defaults, config file, environment and flags, in that order of precedence.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveConfig, defaultConfig, parseFsyncPolicy } from "../../src/node/config.js";
import { tempDir } from "../helpers/tmp.js";

test("defaults are one node with the documented ports", () => {
  const config = defaultConfig();
  assert.equal(config.nodeId, 1);
  assert.equal(config.kafkaPort, 9092);
  assert.equal(config.zookeeperPort, 2181);
  assert.equal(config.adminPort, 8080);
  assert.equal(config.dataDir, "./synod-data");
  assert.equal(config.fsync, "always");
});

test("flags beat environment beats config file beats defaults", (t) => {
  const file = join(tempDir(t), "synod.json");
  writeFileSync(file, JSON.stringify({ kafkaPort: 1111, adminPort: 2222, zookeeperPort: 3333 }));
  const config = resolveConfig({
    configFile: file,
    env: { SYNOD_ADMIN_PORT: "4444", SYNOD_ZOOKEEPER_PORT: "5555" },
    flags: { zookeeperPort: "6666" },
  });
  assert.equal(config.kafkaPort, 1111);
  assert.equal(config.adminPort, 4444);
  assert.equal(config.zookeeperPort, 6666);
});

test("invalid values and unknown config keys are refused with a message naming them", (t) => {
  assert.throws(() => resolveConfig({ env: { SYNOD_KAFKA_PORT: "70000" } }), /invalid port: 70000/);
  assert.throws(() => parseFsyncPolicy("interval:0"), /invalid fsync policy/);
  assert.equal(parseFsyncPolicy("interval:5"), "interval:5");
  const file = join(tempDir(t), "bad.json");
  writeFileSync(file, JSON.stringify({ kafkaPortt: 1 }));
  assert.throws(() => resolveConfig({ configFile: file }), /unknown setting "kafkaPortt"/);
});
