// A client command and the batch format of a `commands` slot. Many commands share one slot
// (batching level 1, notes §1.3); each may carry a session `(clientId, sequence)` so the
// exactly-once layer (exactly-once.ts) can apply a retried command once.
import { assert } from "../util/assert.js";
import { ByteReader, PaxosDecodeError } from "./bytes.js";

export interface Command {
  readonly data: Uint8Array;
  /** The client session, a positive safe integer; absent for commands that need no dedup. */
  readonly clientId?: number;
  /** The command's sequence number within the session, a non-negative safe integer. */
  readonly sequence?: number;
}

/** Bytes a command adds to a batch beyond its data: flags, session and length. */
export const COMMAND_OVERHEAD_BYTES = 1 + 8 + 8 + 4;
export const BATCH_HEADER_BYTES = 4;
export const BATCH_COMMANDS_MAX = 1 << 20;

export function commandBytes(command: Command): number {
  return command.data.length + COMMAND_OVERHEAD_BYTES;
}

export function validCommand(command: Command): boolean {
  const hasClient = command.clientId !== undefined;
  if (hasClient !== (command.sequence !== undefined)) return false;
  if (hasClient && !(Number.isSafeInteger(command.clientId) && command.clientId! > 0)) return false;
  if (hasClient && !(Number.isSafeInteger(command.sequence) && command.sequence! >= 0)) return false;
  return command.data instanceof Uint8Array;
}

const TWO_POW_32 = 4294967296;

/** Encodes commands into one slot payload in a single pass over a pre-sized buffer. */
export function encodeBatch(commands: readonly Command[], totalBytes?: number): Uint8Array {
  assert(commands.length > 0 && commands.length <= BATCH_COMMANDS_MAX, `batch size ${commands.length}`);
  let size = BATCH_HEADER_BYTES;
  if (totalBytes === undefined) for (const c of commands) size += commandBytes(c);
  else size += totalBytes;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, commands.length);
  let at = BATCH_HEADER_BYTES;
  for (const c of commands) {
    const session = c.clientId !== undefined;
    bytes[at] = session ? 1 : 0;
    const client = session ? c.clientId! : 0;
    const sequence = session ? c.sequence! : 0;
    view.setUint32(at + 1, Math.floor(client / TWO_POW_32));
    view.setUint32(at + 5, client >>> 0);
    view.setUint32(at + 9, Math.floor(sequence / TWO_POW_32));
    view.setUint32(at + 13, sequence >>> 0);
    view.setUint32(at + 17, c.data.length);
    bytes.set(c.data, at + 21);
    at += COMMAND_OVERHEAD_BYTES + c.data.length;
  }
  assert(at === size, `batch encoded ${at} of ${size} bytes`);
  return bytes;
}

/** Decodes a slot payload; malformed bytes give a PaxosDecodeError. Data are views, not copies. */
export function decodeBatch(bytes: Uint8Array): Command[] {
  const reader = new ByteReader(bytes);
  const count = reader.count(BATCH_COMMANDS_MAX, COMMAND_OVERHEAD_BYTES);
  const commands: Command[] = [];
  for (let i = 0; i < count; i++) {
    const flags = reader.u8();
    if (flags > 1) reader.fail(`bad command flags ${flags}`);
    const clientId = reader.u64();
    const sequence = reader.u64();
    const data = reader.blob(bytes.length);
    if (flags === 1) {
      if (clientId < 1) reader.fail("session command with client id 0");
      commands.push({ data, clientId, sequence });
    } else {
      if (clientId !== 0 || sequence !== 0) reader.fail("sessionless command with a session");
      commands.push({ data });
    }
  }
  reader.end();
  return commands;
}

/** Counts the commands of a batch without decoding them (for statistics and benchmarks). */
export function batchCommandCount(bytes: Uint8Array): number {
  if (bytes.length < BATCH_HEADER_BYTES) throw new PaxosDecodeError("batch shorter than its header", 0);
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
}

/**
 * Builds one batch incrementally: each command is written into the batch buffer as it is
 * proposed (no per-command objects kept until sealing). The buffer starts at the size of the
 * previous batch and doubles when full; at seal it is trimmed (copied) only when mostly empty.
 */
export class BatchBuilder {
  private bytes: Uint8Array;
  private view: DataView;
  private lengthBytes = BATCH_HEADER_BYTES;
  private countValue = 0;
  private capacityHint: number;

  constructor(initialCapacityBytes = 4096) {
    assert(initialCapacityBytes >= BATCH_HEADER_BYTES, "room for the header");
    this.capacityHint = initialCapacityBytes;
    this.bytes = new Uint8Array(initialCapacityBytes);
    this.view = new DataView(this.bytes.buffer);
  }

  get count(): number {
    return this.countValue;
  }

  /** Bytes the commands added so far take in the batch (without the batch header). */
  get commandBytes(): number {
    return this.lengthBytes - BATCH_HEADER_BYTES;
  }

  add(command: Command): void {
    const size = COMMAND_OVERHEAD_BYTES + command.data.length;
    if (this.lengthBytes + size > this.bytes.length) this.grow(this.lengthBytes + size);
    const at = this.lengthBytes;
    const view = this.view;
    const client = command.clientId;
    if (client !== undefined) {
      const sequence = command.sequence!;
      this.bytes[at] = 1;
      view.setUint32(at + 1, Math.floor(client / TWO_POW_32));
      view.setUint32(at + 5, client >>> 0);
      view.setUint32(at + 9, Math.floor(sequence / TWO_POW_32));
      view.setUint32(at + 13, sequence >>> 0);
    } else {
      this.bytes.fill(0, at, at + 17);
    }
    view.setUint32(at + 17, command.data.length);
    this.bytes.set(command.data, at + 21);
    this.lengthBytes = at + size;
    this.countValue++;
  }

  private grow(needed: number): void {
    let capacity = this.bytes.length * 2;
    while (capacity < needed) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.bytes.subarray(0, this.lengthBytes));
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }

  /** Returns the encoded batch (decodeBatch reads it) and starts a new one. */
  seal(): Uint8Array {
    assert(this.countValue > 0 && this.countValue <= BATCH_COMMANDS_MAX, `batch of ${this.countValue} commands`);
    this.view.setUint32(0, this.countValue);
    const length = this.lengthBytes;
    const sealed = length * 4 >= this.bytes.length * 3 ? this.bytes.subarray(0, length) : this.bytes.slice(0, length);
    this.capacityHint = Math.max(BATCH_HEADER_BYTES, length);
    this.bytes = new Uint8Array(this.capacityHint);
    this.view = new DataView(this.bytes.buffer);
    this.lengthBytes = BATCH_HEADER_BYTES;
    this.countValue = 0;
    return sealed;
  }
}
