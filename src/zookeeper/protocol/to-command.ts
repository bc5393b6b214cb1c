// Decoded wire requests → the coordination group's write ops. The wire allows nulls (length -1)
// where the state machine wants values; they are mapped so the state machine returns the code
// ZooKeeper would: a null path becomes "" (BadArguments in every write op), a null ACL list
// becomes [] and a null scheme or id becomes "" (both InvalidACL), null data stays null (ZooKeeper
// stores it and reports dataLength 0).
import { CoordOp, type MultiWriteOp, type WriteOp } from "../../coord/commands.js";
import type { Acl } from "../../coord/types.js";
import type { ACL } from "../generated/jute.js";
import { OpCode } from "./constants.js";
import type { MultiOp } from "./multi.js";
import type { DecodedRequest } from "./requests.js";

function aclOf(list: ACL[] | null): Acl[] {
  if (list === null) return [];
  return list.map((entry) => ({ perms: entry.perms, id: { scheme: entry.id.scheme ?? "", id: entry.id.id ?? "" } }));
}

/** A multi's ops as state-machine ops. */
export function multiWriteOpOf(op: MultiOp): MultiWriteOp {
  switch (op.type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer: {
      const r = op.request;
      return { type: op.type, path: r.path ?? "", data: r.data, acl: aclOf(r.acl), flags: r.flags, ttl: -1n };
    }
    case OpCode.createTTL: {
      const r = op.request;
      return { type: CoordOp.createTTL, path: r.path ?? "", data: r.data, acl: aclOf(r.acl), flags: r.flags, ttl: r.ttl };
    }
    case OpCode.delete:
      return { type: CoordOp.delete, path: op.request.path ?? "", version: op.request.version };
    case OpCode.setData:
      return { type: CoordOp.setData, path: op.request.path ?? "", data: op.request.data, version: op.request.version };
    case OpCode.check:
      return { type: CoordOp.check, path: op.request.path ?? "", version: op.request.version };
  }
}

/** The write op a single-op request carries, or undefined if the op is not a state-machine write. */
export function writeOpOf(request: DecodedRequest): WriteOp | undefined {
  switch (request.opCode) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
      return multiWriteOpOf({ type: request.opCode, request: request.body });
    case OpCode.createTTL:
      return multiWriteOpOf({ type: OpCode.createTTL, request: request.body });
    case OpCode.delete:
      return multiWriteOpOf({ type: OpCode.delete, request: request.body });
    case OpCode.setData:
      return multiWriteOpOf({ type: OpCode.setData, request: request.body });
    case OpCode.check:
      return multiWriteOpOf({ type: OpCode.check, request: request.body });
    case OpCode.setACL:
      return { type: CoordOp.setACL, path: request.body.path ?? "", acl: aclOf(request.body.acl), version: request.body.version };
    default:
      return undefined;
  }
}
