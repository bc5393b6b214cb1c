// Goal: the dispatch table decodes every op a client may send and classifies bad frames the way
// ZooKeeper 3.8 answers them. Method: encode one request per op code with our client-side
// encoder, decode it through decodeRequest and compare; then feed a short header, an unknown op
// (including the server-internal 20 and -10), a truncated body and bad multis, and check the
// typed error's reason and the reply it prescribes (close / Unimplemented / MarshallingError).
import { test } from "node:test";
import assert from "node:assert/strict";
import { JuteWriter } from "../../src/zookeeper/jute/runtime.js";
import { OpCode, opName } from "../../src/zookeeper/protocol/constants.js";
import { ErrorCode, errorName, isApiError } from "../../src/zookeeper/protocol/errors.js";
import { CLIENT_OP_CODES, OPS, RequestDecodeError, decodeRequest, encodeRequest, type ClientOpCode, type RequestBodies } from "../../src/zookeeper/protocol/requests.js";
import { CoordError } from "../../src/coord/errors.js";
import { CoordOp } from "../../src/coord/commands.js";
import { plain } from "./jute-reference.js";

const acl = [{ perms: 31, id: { scheme: "world", id: "anyone" } }];
const SAMPLE: { [K in ClientOpCode]: RequestBodies[K] } = {
  [OpCode.create]: { path: "/a", data: Uint8Array.of(1), acl, flags: 3 },
  [OpCode.delete]: { path: "/a", version: 4 },
  [OpCode.exists]: { path: "/a", watch: true },
  [OpCode.getData]: { path: "/a", watch: false },
  [OpCode.setData]: { path: "/a", data: null, version: -1 },
  [OpCode.getACL]: { path: "/a" },
  [OpCode.setACL]: { path: "/a", acl, version: 2 },
  [OpCode.getChildren]: { path: "/", watch: true },
  [OpCode.sync]: { path: "/" },
  [OpCode.ping]: null,
  [OpCode.getChildren2]: { path: "/", watch: false },
  [OpCode.check]: { path: "/a", version: 9 },
  [OpCode.multi]: { ops: [{ type: OpCode.setData, request: { path: "/x", data: Uint8Array.of(2), version: 1 } }] },
  [OpCode.create2]: { path: "/b", data: null, acl, flags: 0 },
  [OpCode.reconfig]: { joiningServers: null, leavingServers: "2", newMembers: null, curConfigId: -1n },
  [OpCode.checkWatches]: { path: "/a", type: 3 },
  [OpCode.removeWatches]: { path: "/a", type: 1 },
  [OpCode.createContainer]: { path: "/c", data: null, acl, flags: 4 },
  [OpCode.createTTL]: { path: "/t", data: null, acl, flags: 5, ttl: 1000n },
  [OpCode.multiRead]: { ops: [{ type: OpCode.getData, request: { path: "/x", watch: false } }, { type: OpCode.getChildren, request: { path: "/", watch: false } }] },
  [OpCode.auth]: { type: 0, scheme: "digest", auth: Buffer.from("u:p") },
  [OpCode.setWatches]: { relativeZxid: 5n, dataWatches: ["/a"], existWatches: [], childWatches: null },
  [OpCode.sasl]: { token: Uint8Array.of(1, 2) },
  [OpCode.getEphemerals]: { prefixPath: "/" },
  [OpCode.getAllChildrenNumber]: { path: "/" },
  [OpCode.setWatches2]: { relativeZxid: 5n, dataWatches: [], existWatches: [], childWatches: [], persistentWatches: ["/p"], persistentRecursiveWatches: ["/r"] },
  [OpCode.addWatch]: { path: "/p", mode: 1 },
  [OpCode.whoAmI]: null,
  [OpCode.closeSession]: null,
};

function encoded<K extends ClientOpCode>(opCode: K, body: RequestBodies[K], xid = 42): Buffer {
  const w = new JuteWriter();
  encodeRequest(w, xid, opCode, body);
  return w.toBytes();
}

test("every client op code decodes to its typed body", () => {
  assert.deepEqual(CLIENT_OP_CODES, [-11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 100, 101, 102, 103, 104, 105, 106, 107]);
  for (const opCode of CLIENT_OP_CODES) {
    const decoded = decodeRequest(encoded(opCode, SAMPLE[opCode]));
    assert.equal(decoded.opCode, opCode, opName(opCode));
    assert.equal(decoded.xid, 42);
    assert.deepEqual(plain(decoded.body), plain(SAMPLE[opCode]), opName(opCode));
  }
});

test("trailing bytes after a complete body are ignored, like Java's record deserialization", () => {
  const frame = Buffer.concat([encoded(OpCode.getData, { path: "/a", watch: true }), Buffer.from([1, 2, 3])]);
  const decoded = decodeRequest(frame);
  assert.equal(decoded.opCode, OpCode.getData);
});

test("a header shorter than 8 bytes: close without a reply", () => {
  assert.throws(
    () => decodeRequest(Buffer.from([0, 0, 0, 1, 0, 0])),
    (e: unknown) => e instanceof RequestDecodeError && e.reason === "header" && e.header === undefined && e.replyError === undefined,
  );
});

test("unknown op codes, including the server-internal deleteContainer (20) and createSession (-10): Unimplemented, then close", () => {
  for (const type of [0, 10, 20, 23, 99, 108, -10, -1, 0x7fffffff]) {
    const header = Buffer.alloc(8);
    header.writeInt32BE(5, 0);
    header.writeInt32BE(type, 4);
    assert.throws(
      () => decodeRequest(header),
      (e: unknown) => e instanceof RequestDecodeError && e.reason === "unknown-op" && e.header?.type === type && e.replyError === ErrorCode.unimplemented,
      `type ${type}`,
    );
  }
});

test("a truncated or malformed body: MarshallingError with the request's xid", () => {
  const full = encoded(OpCode.create, SAMPLE[OpCode.create], 9);
  for (let cut = 8; cut < full.length; cut++) {
    assert.throws(
      () => decodeRequest(full.subarray(0, cut)),
      (e: unknown) => e instanceof RequestDecodeError && e.reason === "body" && e.header?.xid === 9 && e.replyError === ErrorCode.marshallingError,
      `cut at ${cut}`,
    );
  }
});

test("multi rejects read ops, bad create flags and a missing terminator; multiRead rejects writes", () => {
  const header = (xid: number, type: number): string => `${xid.toString(16).padStart(8, "0")}${type.toString(16).padStart(8, "0")}`;
  const getDataOp = "00000004 00 ffffffff 00000002 2f61 00";
  const end = "ffffffff 01 ffffffff";
  const bad = [
    `${header(1, 14)} ${getDataOp} ${end}`,
    `${header(1, 14)} 00000001 00 ffffffff 00000002 2f61 ffffffff 00000000 00000007 ${end}`,
    `${header(1, 14)} 00000002 00 ffffffff 00000002 2f61 ffffffff`,
    `${header(1, 22)} 00000002 00 ffffffff 00000002 2f61 ffffffff ${end}`,
  ];
  for (const text of bad) {
    assert.throws(() => decodeRequest(Buffer.from(text.replace(/\s+/g, ""), "hex")), (e: unknown) => e instanceof RequestDecodeError && e.reason === "body", text);
  }
  const ok = decodeRequest(Buffer.from(`${header(1, 22)} ${getDataOp} ${end}`.replace(/\s+/g, ""), "hex"));
  assert.equal(ok.opCode, OpCode.multiRead);
});

test("the op table marks which ops go through the coordination group", () => {
  const writes = CLIENT_OP_CODES.filter((op) => OPS[op].kind === "write");
  assert.deepEqual(writes, [1, 2, 5, 7, 9, 13, 14, 15, 16, 19, 21]);
});

test("error codes: names, classes, and the state machine's codes are the same numbers", () => {
  assert.equal(errorName(-101), "NoNode");
  assert.equal(errorName(-6), "Unimplemented");
  assert.equal(errorName(-999), "Error-999");
  assert.equal(isApiError(ErrorCode.noNode), true);
  assert.equal(isApiError(ErrorCode.badArguments), false);
  for (const [name, value] of Object.entries(CoordError)) {
    assert.equal((ErrorCode as Record<string, number>)[name], value, `CoordError.${name}`);
  }
  for (const [name, value] of Object.entries(CoordOp)) {
    assert.equal((OpCode as Record<string, number>)[name], value, `CoordOp.${name}`);
  }
  assert.equal(Object.keys(ErrorCode).length, 32);
});
