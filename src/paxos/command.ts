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

/**
 * A command as proposed: its data may be given in parts (e.g. a small header and a large payload
 * received from a client), copied together once when the batch is sealed.
 */
export interface ProposedCommand {
  readonly data: Uint8Array | readonly Uint8Array[];
  readonly clientId?: number;
  readonly sequence?: number;
}

/** The data bytes of a proposed command. */
export function proposedDataBytes(command: ProposedCommand): number {
  const data = command.data;
  if (data instanceof Uint8Array) return data.length;
  let bytes = 0;
  for (const part of data) bytes += part.length;
  return bytes;
}

/** Bytes a command adds to a batch beyond its data: flags, session and length. */
export const COMMAND_OVERHEAD_BYTES = 1 + 8 + 8 + 4;
export const BATCH_HEADER_BYTES = 4;
export const BATCH_COMMANDS_MAX = 1 << 20;

export function commandBytes(command: Command | ProposedCommand): number {
  return proposedDataBytes(command) + COMMAND_OVERHEAD_BYTES;
}

export function validCommand(command: Command | ProposedCommand): boolean {
  const hasClient = command.clientId !== undefined;
  if (hasClient !== (command.sequence !== undefined)) return false;
  if (hasClient && !(Number.isSafeInteger(command.clientId) && command.clientId! > 0)) return false;
  if (hasClient && !(Number.isSafeInteger(command.sequence) && command.sequence! >= 0)) return false;
  const data = command.data;
  return data instanceof Uint8Array || (Array.isArray(data) && data.every((part) => part instanceof Uint8Array));
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
 * Builds one batch incrementally. Each command is kept by reference; at seal its 21-byte header is
 * written and its data copied, once, into a buffer of the exact size. (Copying each command in as
 * it arrives, into a buffer that doubles when full, copied a large Kafka produce two or three times.)
 */
export class BatchBuilder {
  // add() allocates nothing: a header array and a DataView per command had been 3 % of a
  // ZooKeeper write's CPU.
  private commands: ProposedCommand[] = [];
  private lengthBytes = BATCH_HEADER_BYTES;

  constructor(_initialCapacityBytes = 4096) {
    assert(_initialCapacityBytes >= BATCH_HEADER_BYTES, "room for the header");
  }

  get count(): number {
    return this.commands.length;
  }

  /** Bytes the commands added so far take in the batch (without the batch header). */
  get commandBytes(): number {
    return this.lengthBytes - BATCH_HEADER_BYTES;
  }

  add(command: ProposedCommand): void {
    this.commands.push(command);
    this.lengthBytes += COMMAND_OVERHEAD_BYTES + proposedDataBytes(command);
  }

  /** Returns the encoded batch (decodeBatch reads it) and starts a new one. */
  seal(): Uint8Array {
    const commands = this.commands;
    assert(commands.length > 0 && commands.length <= BATCH_COMMANDS_MAX, `batch of ${commands.length} commands`);
    const sealed = new Uint8Array(this.lengthBytes);
    const view = new DataView(sealed.buffer);
    view.setUint32(0, commands.length);
    let at = BATCH_HEADER_BYTES;
    for (const command of commands) {
      const client = command.clientId;
      if (client !== undefined) {
        const sequence = command.sequence!;
        sealed[at] = 1;
        view.setUint32(at + 1, Math.floor(client / TWO_POW_32));
        view.setUint32(at + 5, client >>> 0);
        view.setUint32(at + 9, Math.floor(sequence / TWO_POW_32));
        view.setUint32(at + 13, sequence >>> 0);
      }
      const dataAt = at + COMMAND_OVERHEAD_BYTES;
      let end = dataAt;
      const data = command.data;
      if (data instanceof Uint8Array) {
        sealed.set(data, end);
        end += data.length;
      } else {
        for (const part of data) {
          sealed.set(part, end);
          end += part.length;
        }
      }
      view.setUint32(at + 17, end - dataAt);
      at = end;
    }
    assert(at === this.lengthBytes, `sealed ${at} of ${this.lengthBytes} bytes`);
    this.commands = [];
    this.lengthBytes = BATCH_HEADER_BYTES;
    return sealed;
  }
}
