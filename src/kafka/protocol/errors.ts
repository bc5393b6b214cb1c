// Typed errors of the Kafka wire codecs. Bad bytes from a peer are never a crash: every decoder
// throws a KafkaDecodeError (with a code the broker can map to a response or a closed connection),
// and an encoder handed a value the schema forbids throws a KafkaEncodeError. Anything else that
// escapes a codec is a bug, which the fuzz test (test/kafka/protocol/fuzz.test.ts) hunts for.

/** Why a decode failed. One code per distinct cause, so logs and metrics can count them. */
export type DecodeErrorCode =
  | "TRUNCATED" // a field runs past the end of the frame (or of its tagged-field region)
  | "INVALID_LENGTH" // a length or count that is negative where that is not allowed, or exceeds what remains
  | "NULL_NOT_ALLOWED" // a null (length -1) for a field that is not nullable in this version
  | "VARINT_TOO_LONG" // an unsigned varint longer than 5 bytes or above 2^32-1
  | "STRING_TOO_LONG" // a string longer than 32767 bytes (Kafka's limit for every string)
  | "TAG_ORDER" // tagged fields not in strictly ascending tag order
  | "TAG_SIZE_MISMATCH" // a known tagged field did not fill exactly its declared size
  | "TRAILING_BYTES" // bytes left over after the message
  | "UNKNOWN_API_KEY" // a request for an API key the schemas do not define
  | "UNSUPPORTED_VERSION" // a version outside the message's valid versions
  | "FRAME_TOO_LARGE" // a size prefix above the configured maximum
  | "NEGATIVE_FRAME_SIZE"; // a size prefix below zero

export class KafkaDecodeError extends Error {
  override name = "KafkaDecodeError";
  constructor(
    readonly code: DecodeErrorCode,
    message: string,
    /** Byte offset in the decoded buffer where the problem was found (-1 when not applicable). */
    readonly offset = -1,
  ) {
    super(message);
  }
}

/**
 * A request frame that could not be decoded past its header. Carries what was read so the broker
 * can still answer (UNSUPPORTED_VERSION for ApiVersions, per KIP-511) or log precisely.
 */
export class KafkaRequestError extends KafkaDecodeError {
  override name = "KafkaRequestError";
  constructor(
    code: DecodeErrorCode,
    message: string,
    readonly apiKey: number,
    readonly apiVersion: number,
    /** -1 when the frame was too short to hold one. */
    readonly correlationId: number,
  ) {
    super(code, message);
  }
}

export type EncodeErrorCode =
  | "NULL_NOT_ALLOWED" // null (or undefined) for a field that is not nullable in this version
  | "VALUE_OUT_OF_RANGE" // an integer that does not fit its wire type, a string over 32767 bytes
  | "INVALID_UUID" // a uuid that is not 22 characters of canonical base64url
  | "UNSUPPORTED_VERSION" // a version outside the message's valid versions
  | "FIELD_NOT_IN_VERSION" // a non-ignorable field set to a non-default value in a version that lacks it
  | "TAG_ORDER"; // unknown tagged fields not in strictly ascending order, or clashing with a known tag

export class KafkaEncodeError extends Error {
  override name = "KafkaEncodeError";
  constructor(
    readonly code: EncodeErrorCode,
    message: string,
  ) {
    super(message);
  }
}
