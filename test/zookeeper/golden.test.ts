// Goal: the hand-written framing pieces (handshake with and without the trailing readOnly byte,
// multi request/response, notification, ping) produce exactly ZooKeeper's bytes. Method: golden
// hex written out by hand from the jute rules and the 3.8 sources (ConnectRequest/Response,
// MultiOperationRecord, MultiResponse, ClientCnxn xids) — not produced by our encoders — compared
// in both directions (encode = golden, decode(golden) = value).
import { test } from "node:test";
import assert from "node:assert/strict";
import { JuteReader, JuteWriter } from "../../src/zookeeper/jute/runtime.js";
import { decodeConnectRequest, decodeConnectResponse, encodeConnectRequest, encodeConnectResponse } from "../../src/zookeeper/protocol/connect.js";
import { EventType, KeeperState, OpCode, Xid } from "../../src/zookeeper/protocol/constants.js";
import { decodeMultiResponse, type MultiOp } from "../../src/zookeeper/protocol/multi.js";
import { beginFrame, endFrame } from "../../src/zookeeper/protocol/frame.js";
import { decodeRequest, encodeNotification, encodePingReply, encodeReply, encodeRequest } from "../../src/zookeeper/protocol/requests.js";

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ""), "hex");
const bytesOf = (write: (w: JuteWriter) => void): Buffer => {
  const w = new JuteWriter(8);
  write(w);
  return w.toBytes();
};
const framed = (write: (w: JuteWriter) => void): Buffer =>
  bytesOf((w) => {
    const at = beginFrame(w);
    write(w);
    endFrame(w, at);
  });

const ZEROS16 = "00".repeat(16);
const CONNECT_FIELDS = `00000000 0000000000000010 00007530 0000000000000000 00000010 ${ZEROS16}`;

test("ConnectRequest with the readOnly byte (kazoo, Java client) and without it (node-zookeeper-client)", () => {
  const base = { protocolVersion: 0, lastZxidSeen: 0x10n, timeOut: 30000, sessionId: 0n, passwd: new Uint8Array(16) };
  const withByte = hex(`0000002d ${CONNECT_FIELDS} 00`);
  const without = hex(`0000002c ${CONNECT_FIELDS}`);
  assert.deepEqual(framed((w) => encodeConnectRequest(w, { ...base, readOnly: false })), withByte);
  assert.deepEqual(framed((w) => encodeConnectRequest(w, { ...base, readOnly: undefined })), without);
  const decodedWith = decodeConnectRequest(new JuteReader(withByte, 4));
  assert.equal(decodedWith.readOnly, false);
  assert.equal(decodedWith.lastZxidSeen, 0x10n);
  assert.equal(decodedWith.timeOut, 30000);
  assert.equal(decodeConnectRequest(new JuteReader(without, 4)).readOnly, undefined);
  assert.equal(decodeConnectRequest(new JuteReader(hex(`${CONNECT_FIELDS} 01`))).readOnly, true);
});

test("ConnectResponse echoes the readOnly byte only when the client sent one", () => {
  const passwd = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
  const fields = "00000000 00007530 0102030405060708 00000010 0102030405060708090a0b0c0d0e0f10";
  const response = { protocolVersion: 0, timeOut: 30000, sessionId: 0x0102030405060708n, passwd };
  assert.deepEqual(framed((w) => encodeConnectResponse(w, { ...response, readOnly: false })), hex(`00000025 ${fields} 00`));
  assert.deepEqual(framed((w) => encodeConnectResponse(w, { ...response, readOnly: undefined })), hex(`00000024 ${fields}`));
  const decoded = decodeConnectResponse(new JuteReader(hex(fields)));
  assert.equal(decoded.sessionId, 0x0102030405060708n);
  assert.equal(decoded.readOnly, undefined);
  // An expired session is answered with timeOut 0, session 0 and a zero password.
  assert.deepEqual(
    bytesOf((w) => encodeConnectResponse(w, { protocolVersion: 0, timeOut: 0, sessionId: 0n, passwd: new Uint8Array(16), readOnly: undefined })),
    hex(`00000000 00000000 0000000000000000 00000010 ${ZEROS16}`),
  );
});

const MULTI_REQUEST = hex(`
  00000007 0000000e
  00000001 00 ffffffff  00000002 2f61  00000001 78  00000001 0000001f 00000005 776f726c64 00000006 616e796f6e65  00000000
  00000002 00 ffffffff  00000002 2f62  ffffffff
  0000000d 00 ffffffff  00000002 2f63  00000003
  ffffffff 01 ffffffff`);

test("multi request: MultiHeader{type,false,-1} + op records, ended by {-1,true,-1}", () => {
  const ops: MultiOp[] = [
    { type: OpCode.create, request: { path: "/a", data: Uint8Array.of(0x78), acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }], flags: 0 } },
    { type: OpCode.delete, request: { path: "/b", version: -1 } },
    { type: OpCode.check, request: { path: "/c", version: 3 } },
  ];
  const bytes = bytesOf((w) => encodeRequest(w, 7, OpCode.multi, { ops }));
  assert.deepEqual(bytes, MULTI_REQUEST);
  const decoded = decodeRequest(MULTI_REQUEST);
  assert.equal(decoded.opCode, OpCode.multi);
  assert.equal(decoded.xid, 7);
  if (decoded.opCode !== OpCode.multi) return;
  assert.deepEqual(
    decoded.body.ops.map((op) => [op.type, op.request.path]),
    [
      [1, "/a"],
      [2, "/b"],
      [13, "/c"],
    ],
  );
});

test("multi response for a rolled-back multi: 0 before the failure, its code, -2 after; header err stays 0", () => {
  const golden = hex(`
    00000007 0000000100000001 00000000
    ffffffff 00 00000000  00000000
    ffffffff 00 ffffff9b  ffffff9b
    ffffffff 00 fffffffe  fffffffe
    ffffffff 01 ffffffff`);
  const results = [
    { type: -1, err: 0 },
    { type: -1, err: -101 },
    { type: -1, err: -2 },
  ] as const;
  assert.deepEqual(
    bytesOf((w) => encodeReply(w, OpCode.multi, { xid: 7, zxid: 0x100000001n, err: 0 }, { results: [...results] })),
    golden,
  );
  const r = new JuteReader(golden, 16);
  assert.deepEqual(decodeMultiResponse(r).results, results);
});

test("multi response with results: create (path), create2 (path + Stat), delete, setData (Stat), check", () => {
  const stat = { czxid: 1n, mzxid: 2n, ctime: 3n, mtime: 4n, version: 5, cversion: 6, aversion: 7, ephemeralOwner: 0n, dataLength: 9, numChildren: 10, pzxid: 11n };
  const statHex = "0000000000000001 0000000000000002 0000000000000003 0000000000000004 00000005 00000006 00000007 0000000000000000 00000009 0000000a 000000000000000b";
  const golden = hex(`
    00000001 00 00000000  00000002 2f61
    0000000f 00 00000000  00000002 2f62 ${statHex}
    00000002 00 00000000
    00000005 00 00000000  ${statHex}
    0000000d 00 00000000
    ffffffff 01 ffffffff`);
  const results = [
    { type: 1, path: "/a" },
    { type: 15, path: "/b", stat },
    { type: 2 },
    { type: 5, stat },
    { type: 13 },
  ] as const;
  assert.deepEqual(bytesOf((w) => encodeReply(w, OpCode.multi, { xid: 1, zxid: 0n, err: 0 }, { results: [...results] })).subarray(16), golden);
  assert.deepEqual(decodeMultiResponse(new JuteReader(golden)).results, results);
});

test("watch notification: xid -1, zxid -1 (3.8), err 0, then WatcherEvent{type,state,path}", () => {
  const golden = hex("ffffffff ffffffffffffffff 00000000 00000003 00000003 00000002 2f61");
  assert.deepEqual(bytesOf((w) => encodeNotification(w, { type: EventType.nodeDataChanged, state: KeeperState.syncConnected, path: "/a" })), golden);
  assert.equal(Xid.notification, -1);
});

test("ping: request {xid -2, type 11}, reply {xid -2, lastZxid, err 0}", () => {
  const request = hex("fffffffe 0000000b");
  assert.deepEqual(bytesOf((w) => encodeRequest(w, Xid.ping, OpCode.ping, null)), request);
  const decoded = decodeRequest(request);
  assert.deepEqual([decoded.xid, decoded.opCode, decoded.body], [-2, 11, null]);
  assert.deepEqual(bytesOf((w) => encodePingReply(w, 0x2an)), hex("fffffffe 000000000000002a 00000000"));
});

test("an error reply carries no body, even when one is passed", () => {
  const stat = { czxid: 0n, mzxid: 0n, ctime: 0n, mtime: 0n, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, dataLength: 0, numChildren: 0, pzxid: 0n };
  assert.deepEqual(
    bytesOf((w) => encodeReply(w, OpCode.getData, { xid: 3, zxid: 5n, err: -101 }, { data: null, stat })),
    hex("00000003 0000000000000005 ffffff9b"),
  );
});
