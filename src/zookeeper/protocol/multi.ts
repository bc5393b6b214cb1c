// multi (op 14) and multiRead (op 22) framing, hand-written because jute has no notation for it
// (`MultiOperationRecord`, `MultiResponse` in the 3.8 client). A request is a run of
// MultiHeader{type, done=false, err=-1} + op record, ended by MultiHeader{-1, true, -1}; the
// response is the same shape with MultiHeader{type, false, err} + result record. A failed op's
// result is type -1 with ErrorResponse{err}; create2/createTTL/createContainer results are
// reported as create2 (Create2Response), exactly as `OpResult.CreateResult(path, stat)` does.
//
// Bound: every loop iteration consumes at least one 9-byte MultiHeader, so the number of ops is
// bounded by the frame size (≤ packetBytesMax / 9), and the reader checks every length it reads.
import { JuteDecodeError, type JuteReader, type JuteWriter } from "../jute/runtime.js";
import {
  decodeCheckVersionRequest,
  decodeCreate2Response,
  decodeCreateRequest,
  decodeCreateResponse,
  decodeCreateTTLRequest,
  decodeDeleteRequest,
  decodeErrorResponse,
  decodeGetChildrenRequest,
  decodeGetChildrenResponse,
  decodeGetDataRequest,
  decodeGetDataResponse,
  decodeMultiHeader,
  decodeSetDataRequest,
  decodeSetDataResponse,
  encodeCheckVersionRequest,
  encodeCreate2Response,
  encodeCreateRequest,
  encodeCreateResponse,
  encodeCreateTTLRequest,
  encodeDeleteRequest,
  encodeErrorResponse,
  encodeGetChildrenRequest,
  encodeGetChildrenResponse,
  encodeGetDataRequest,
  encodeGetDataResponse,
  encodeMultiHeader,
  encodeSetDataRequest,
  encodeSetDataResponse,
  type CheckVersionRequest,
  type CreateRequest,
  type CreateTTLRequest,
  type DeleteRequest,
  type GetChildrenRequest,
  type GetDataRequest,
  type SetDataRequest,
  type Stat,
} from "../generated/jute.js";
import { OpCode } from "./constants.js";

/** One write op inside a multi (ops 1, 15, 19, 21, 2, 5, 13). */
export type MultiOp =
  | { type: typeof OpCode.create | typeof OpCode.create2 | typeof OpCode.createContainer; request: CreateRequest }
  | { type: typeof OpCode.createTTL; request: CreateTTLRequest }
  | { type: typeof OpCode.delete; request: DeleteRequest }
  | { type: typeof OpCode.setData; request: SetDataRequest }
  | { type: typeof OpCode.check; request: CheckVersionRequest };

/** One read op inside a multiRead (ops 8 and 4; their `watch` flag is ignored, as in ZooKeeper). */
export type MultiReadOp =
  | { type: typeof OpCode.getChildren; request: GetChildrenRequest }
  | { type: typeof OpCode.getData; request: GetDataRequest };

export interface MultiRequest {
  ops: MultiOp[];
}

export interface MultiReadRequest {
  ops: MultiReadOp[];
}

/** One result of a multi or multiRead. */
export type MultiResult =
  | { type: typeof OpCode.create; path: string | null }
  | { type: typeof OpCode.create2; path: string | null; stat: Stat }
  | { type: typeof OpCode.delete }
  | { type: typeof OpCode.setData; stat: Stat }
  | { type: typeof OpCode.check }
  | { type: typeof OpCode.getChildren; children: Array<string | null> | null }
  | { type: typeof OpCode.getData; data: Uint8Array | null; stat: Stat }
  | { type: typeof OpCode.error; err: number };

export interface MultiResponse {
  results: MultiResult[];
}

const WRITE_TYPES: ReadonlySet<number> = new Set([
  OpCode.create,
  OpCode.create2,
  OpCode.createContainer,
  OpCode.createTTL,
  OpCode.delete,
  OpCode.setData,
  OpCode.check,
]);
const READ_TYPES: ReadonlySet<number> = new Set([OpCode.getChildren, OpCode.getData]);

/** Reads any mix of multi ops; the two public decoders below then insist on one kind. */
function decodeOps(r: JuteReader, allowed: ReadonlySet<number>, what: string): Array<MultiOp | MultiReadOp> {
  const ops: Array<MultiOp | MultiReadOp> = [];
  let at = r.position;
  let header = decodeMultiHeader(r);
  while (!header.done) {
    if (!allowed.has(header.type)) throw new JuteDecodeError("bad-value", `op type ${header.type} is not allowed in a ${what}`, at);
    switch (header.type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer: {
        const request = decodeCreateRequest(r);
        // MultiOperationRecord rejects flags that name no CreateMode (an IOException → MarshallingError).
        if (request.flags < 0 || request.flags > 6) throw new JuteDecodeError("bad-value", `invalid create flags ${request.flags} in a multi`, at);
        ops.push({ type: header.type, request });
        break;
      }
      case OpCode.createTTL:
        ops.push({ type: OpCode.createTTL, request: decodeCreateTTLRequest(r) });
        break;
      case OpCode.delete:
        ops.push({ type: OpCode.delete, request: decodeDeleteRequest(r) });
        break;
      case OpCode.setData:
        ops.push({ type: OpCode.setData, request: decodeSetDataRequest(r) });
        break;
      case OpCode.check:
        ops.push({ type: OpCode.check, request: decodeCheckVersionRequest(r) });
        break;
      case OpCode.getChildren:
        ops.push({ type: OpCode.getChildren, request: decodeGetChildrenRequest(r) });
        break;
      case OpCode.getData:
        ops.push({ type: OpCode.getData, request: decodeGetDataRequest(r) });
        break;
    }
    at = r.position;
    header = decodeMultiHeader(r);
  }
  return ops;
}

export function decodeMultiRequest(r: JuteReader): MultiRequest {
  return { ops: decodeOps(r, WRITE_TYPES, "multi") as MultiOp[] };
}

export function decodeMultiReadRequest(r: JuteReader): MultiReadRequest {
  return { ops: decodeOps(r, READ_TYPES, "multiRead") as MultiReadOp[] };
}

function encodeOps(w: JuteWriter, ops: ReadonlyArray<MultiOp | MultiReadOp>): void {
  for (const op of ops) {
    encodeMultiHeader(w, { type: op.type, done: false, err: -1 });
    switch (op.type) {
      case OpCode.create:
      case OpCode.create2:
      case OpCode.createContainer:
        encodeCreateRequest(w, op.request);
        break;
      case OpCode.createTTL:
        encodeCreateTTLRequest(w, op.request);
        break;
      case OpCode.delete:
        encodeDeleteRequest(w, op.request);
        break;
      case OpCode.setData:
        encodeSetDataRequest(w, op.request);
        break;
      case OpCode.check:
        encodeCheckVersionRequest(w, op.request);
        break;
      case OpCode.getChildren:
        encodeGetChildrenRequest(w, op.request);
        break;
      case OpCode.getData:
        encodeGetDataRequest(w, op.request);
        break;
    }
  }
  encodeMultiHeader(w, { type: -1, done: true, err: -1 });
}

export function encodeMultiRequest(w: JuteWriter, request: MultiRequest): void {
  encodeOps(w, request.ops);
}

export function encodeMultiReadRequest(w: JuteWriter, request: MultiReadRequest): void {
  encodeOps(w, request.ops);
}

export function encodeMultiResponse(w: JuteWriter, response: MultiResponse): void {
  for (const result of response.results) {
    encodeMultiHeader(w, { type: result.type, done: false, err: result.type === OpCode.error ? result.err : 0 });
    switch (result.type) {
      case OpCode.create:
        encodeCreateResponse(w, { path: result.path });
        break;
      case OpCode.create2:
        encodeCreate2Response(w, { path: result.path, stat: result.stat });
        break;
      case OpCode.delete:
      case OpCode.check:
        break;
      case OpCode.setData:
        encodeSetDataResponse(w, { stat: result.stat });
        break;
      case OpCode.getChildren:
        encodeGetChildrenResponse(w, { children: result.children });
        break;
      case OpCode.getData:
        encodeGetDataResponse(w, { data: result.data, stat: result.stat });
        break;
      case OpCode.error:
        encodeErrorResponse(w, { err: result.err });
        break;
    }
  }
  encodeMultiHeader(w, { type: -1, done: true, err: -1 });
}

/** The client side of a multi/multiRead reply (tests, tools, and a future TypeScript client). */
export function decodeMultiResponse(r: JuteReader): MultiResponse {
  const results: MultiResult[] = [];
  let at = r.position;
  let header = decodeMultiHeader(r);
  while (!header.done) {
    switch (header.type) {
      case OpCode.create:
        results.push({ type: OpCode.create, path: decodeCreateResponse(r).path });
        break;
      case OpCode.create2: {
        const body = decodeCreate2Response(r);
        results.push({ type: OpCode.create2, path: body.path, stat: body.stat });
        break;
      }
      case OpCode.delete:
        results.push({ type: OpCode.delete });
        break;
      case OpCode.setData:
        results.push({ type: OpCode.setData, stat: decodeSetDataResponse(r).stat });
        break;
      case OpCode.check:
        results.push({ type: OpCode.check });
        break;
      case OpCode.getChildren:
        results.push({ type: OpCode.getChildren, children: decodeGetChildrenResponse(r).children });
        break;
      case OpCode.getData: {
        const body = decodeGetDataResponse(r);
        results.push({ type: OpCode.getData, data: body.data, stat: body.stat });
        break;
      }
      case OpCode.error:
        results.push({ type: OpCode.error, err: decodeErrorResponse(r).err });
        break;
      default:
        throw new JuteDecodeError("bad-value", `invalid result type ${header.type} in a multi response`, at);
    }
    at = r.position;
    header = decodeMultiHeader(r);
  }
  return { results };
}
