// The contract between generated message codecs and their callers. Each generated message file
// exports one MessageCodec; encodeMessage/decodeMessage add the checks every message shares
// (version range, exact size, no trailing bytes) so the generated code stays straight-line.
import { KafkaDecodeError, KafkaEncodeError } from "./errors.js";
import { Reader } from "./reader.js";
import { Writer } from "./writer.js";

export type MessageKind = "request" | "response" | "header" | "data";

export interface MessageCodec<T> {
  /** The schema's name, e.g. "ProduceRequest". */
  readonly name: string;
  readonly kind: MessageKind;
  /** -1 for headers and data types. */
  readonly apiKey: number;
  readonly lowestVersion: number;
  readonly highestVersion: number;
  /** The first flexible version (compact types, tagged fields), or -1 when none is. */
  readonly flexibleFromVersion: number;
  /** Exact encoded size in bytes; validates the value (nulls, ranges, fields absent in `version`). */
  size(value: T, version: number): number;
  /** Writes exactly size(value, version) bytes; call only after size() accepted the value. */
  write(writer: Writer, value: T, version: number): void;
  read(reader: Reader, version: number): T;
}

export function isFlexible(codec: MessageCodec<unknown>, version: number): boolean {
  return codec.flexibleFromVersion >= 0 && version >= codec.flexibleFromVersion;
}

export function checkEncodeVersion(codec: MessageCodec<unknown>, version: number): void {
  if (!Number.isInteger(version) || version < codec.lowestVersion || version > codec.highestVersion) {
    throw new KafkaEncodeError("UNSUPPORTED_VERSION", `${codec.name} has no version ${version} (valid ${codec.lowestVersion}-${codec.highestVersion})`);
  }
}

export function checkDecodeVersion(codec: MessageCodec<unknown>, version: number): void {
  if (!Number.isInteger(version) || version < codec.lowestVersion || version > codec.highestVersion) {
    throw new KafkaDecodeError("UNSUPPORTED_VERSION", `${codec.name} has no version ${version} (valid ${codec.lowestVersion}-${codec.highestVersion})`);
  }
}

/**
 * Node's Buffer writers throw RangeError/TypeError for integers out of range or of the wrong type;
 * callers get one typed error instead.
 */
export function wrapEncodeError(error: unknown, what: string): never {
  if (error instanceof KafkaEncodeError) throw error;
  if (error instanceof RangeError || error instanceof TypeError) {
    throw new KafkaEncodeError("VALUE_OUT_OF_RANGE", `${what}: ${error.message}`);
  }
  throw error;
}

/** Encodes one message into a fresh Buffer of exactly its size. */
export function encodeMessage<T>(codec: MessageCodec<T>, version: number, value: T): Buffer {
  checkEncodeVersion(codec, version);
  try {
    const size = codec.size(value, version);
    const writer = new Writer(Buffer.allocUnsafe(size));
    codec.write(writer, value, version);
    if (writer.offset !== size) throw new KafkaEncodeError("VALUE_OUT_OF_RANGE", `${codec.name} v${version}: wrote ${writer.offset} bytes, sized ${size}`);
    return writer.buf;
  } catch (error) {
    return wrapEncodeError(error, `${codec.name} v${version}`);
  }
}

/** Decodes one whole message; bytes left over are an error. `bytes`/`records` fields alias `buf`. */
export function decodeMessage<T>(codec: MessageCodec<T>, version: number, buf: Buffer): T {
  checkDecodeVersion(codec, version);
  const reader = new Reader(buf);
  const value = codec.read(reader, version);
  if (reader.offset !== buf.length) {
    throw new KafkaDecodeError("TRAILING_BYTES", `${codec.name} v${version}: ${buf.length - reader.offset} bytes after the message`, reader.offset);
  }
  return value;
}
