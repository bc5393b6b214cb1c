// A small driver for the coordination state machine in tests: applies commands through the
// binary codec (so every test also exercises encodeCommand/decodeCommand) at increasing log
// positions, with a controllable wall clock, and offers one-line helpers for the common ops.
import { CoordOp, encodeCommand, type Command, type CommandBody, type MultiWriteOp, type WriteOp } from "../../src/coord/commands.js";
import { CoordStateMachine, type CoordApplyResult, type CoordConfig } from "../../src/coord/state-machine.js";
import { OPEN_ACL_UNSAFE, type Acl, type Identity } from "../../src/coord/types.js";

export const WORLD = [...OPEN_ACL_UNSAFE];
export const IP_LOCAL: Identity = { scheme: "ip", id: "127.0.0.1" };

export interface Caller {
  sessionId?: bigint;
  /** The node serving the caller's connection (default 0: none, never refused as moved). */
  owner?: number;
  identities?: Identity[];
}

export class Harness {
  readonly sm: CoordStateMachine;
  slot = 1;
  nowMs = 1_700_000_000_000;

  constructor(config?: Partial<CoordConfig>) {
    this.sm = new CoordStateMachine({ extendedTypesEnabled: false, ...config });
  }

  command(body: CommandBody, caller: Caller = {}): Command {
    return { wallTimeMs: this.nowMs, sessionId: caller.sessionId ?? 0n, owner: caller.owner ?? 0, identities: caller.identities ?? [IP_LOCAL], body };
  }

  /** Applies one command alone in the next slot (index 0). */
  apply(body: CommandBody, caller: Caller = {}): CoordApplyResult {
    return this.sm.apply(encodeCommand(this.command(body, caller)), { slot: this.slot++, index: 0 });
  }

  op(op: WriteOp, caller: Caller = {}): CoordApplyResult {
    return this.apply({ kind: "op", op }, caller);
  }

  multi(ops: MultiWriteOp[], caller: Caller = {}): CoordApplyResult {
    return this.apply({ kind: "multi", ops }, caller);
  }

  create(path: string, options: { data?: string | null; acl?: Acl[]; flags?: number; type?: 1 | 15 | 19 | 21; ttl?: bigint } & Caller = {}): CoordApplyResult {
    const data = options.data === undefined ? new Uint8Array(0) : options.data === null ? null : new TextEncoder().encode(options.data);
    return this.op(
      { type: options.type ?? CoordOp.create, path, data, acl: options.acl ?? WORLD, flags: options.flags ?? 0, ttl: options.ttl ?? -1n },
      options,
    );
  }

  delete(path: string, version = -1, caller: Caller = {}): CoordApplyResult {
    return this.op({ type: CoordOp.delete, path, version }, caller);
  }

  setData(path: string, data: string, version = -1, caller: Caller = {}): CoordApplyResult {
    return this.op({ type: CoordOp.setData, path, data: new TextEncoder().encode(data), version }, caller);
  }

  session(sessionId: bigint, timeoutMs = 30_000): CoordApplyResult {
    return this.apply({ kind: "createSession", timeoutMs }, { sessionId });
  }

  closeSession(sessionId: bigint): CoordApplyResult {
    return this.apply({ kind: "closeSession" }, { sessionId });
  }

  children(path: string, identities: Identity[] = [IP_LOCAL]): readonly string[] {
    const read = this.sm.getChildren(path, identities);
    if (!read.ok) throw new Error(`getChildren ${path}: ${read.err}`);
    return read.value.children;
  }

  data(path: string): string | null {
    const read = this.sm.getData(path, [IP_LOCAL]);
    if (!read.ok) throw new Error(`getData ${path}: ${read.err}`);
    return read.value.data === null ? null : new TextDecoder().decode(read.value.data);
  }
}

/** The zxid the harness's next command will get. */
export function nextZxid(h: Harness): bigint {
  return BigInt(h.slot) << 20n;
}
