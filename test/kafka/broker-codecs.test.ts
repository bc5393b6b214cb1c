// The broker's own codec table (src/kafka/broker-codecs.ts) must be exactly the generated
// registry's codecs for exactly the APIs ApiVersions advertises, and its frames must pick the same
// header versions as the registry for every version of every API.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BROKER_CODECS } from "../../src/kafka/broker-codecs.js";
import { SUPPORTED_VERSIONS } from "../../src/kafka/api-versions.js";
import { APIS, requestHeaderVersion, responseHeaderVersion } from "../../src/kafka/protocol/generated/registry.js";
import { requestHeaderVersionOf, responseHeaderVersionOf } from "../../src/kafka/protocol/frames.js";

test("the broker's codec table holds the registry's codecs for exactly the advertised APIs", () => {
  assert.deepEqual([...BROKER_CODECS.keys()].sort((a, b) => a - b), [...SUPPORTED_VERSIONS.keys()].sort((a, b) => a - b));
  for (const [apiKey, codecs] of BROKER_CODECS) {
    const registered = APIS[apiKey];
    assert.equal(codecs.request, registered.request, `request codec of API ${apiKey}`);
    assert.equal(codecs.response, registered.response, `response codec of API ${apiKey}`);
    const range = SUPPORTED_VERSIONS.get(apiKey)!;
    assert.ok(range.min >= codecs.request.lowestVersion && range.max <= codecs.request.highestVersion, `advertised versions of API ${apiKey} are within its schema`);
  }
});

test("header versions from a codec table equal the registry's for every API and version", () => {
  for (const api of APIS) {
    for (let version = api.request.lowestVersion; version <= api.request.highestVersion; version++) {
      assert.equal(requestHeaderVersionOf(api, version), requestHeaderVersion(api.request.apiKey, version), `request header of ${api.request.name} v${version}`);
      assert.equal(responseHeaderVersionOf(api, version), responseHeaderVersion(api.request.apiKey, version), `response header of ${api.request.name} v${version}`);
    }
  }
});
