// Small helpers the generated codecs share (kept out of the generated files so each stays short).
import { KafkaEncodeError } from "./errors.js";
import type { TaggedField } from "./reader.js";

export const NO_TAGGED_FIELDS: readonly TaggedField[] = Object.freeze([]);

export function nullError(what: string): KafkaEncodeError {
  return new KafkaEncodeError("NULL_NOT_ALLOWED", `${what}: null is not allowed in this version`);
}

/** Java's UnsupportedVersionException for a non-ignorable field that the target version cannot carry. */
export function notInVersion(what: string, version: number): KafkaEncodeError {
  return new KafkaEncodeError("FIELD_NOT_IN_VERSION", `${what}: set to a non-default value, but version ${version} has no such field`);
}

export function taggedNotInVersion(what: string, version: number): KafkaEncodeError {
  return new KafkaEncodeError("FIELD_NOT_IN_VERSION", `${what}: unknown tagged fields set, but version ${version} is not flexible`);
}
