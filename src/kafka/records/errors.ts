// Typed errors of the record-batch codec, each mapped to the Kafka error code a broker answers
// with (the mapping lives here, in one place, as DESIGN.md asks).
import { ErrorCode } from "../protocol/generated/errors.js";

export type RecordBatchErrorCode =
  | "TRUNCATED" // a batch or record runs past the end of its bytes
  | "CORRUPT_BATCH" // an impossible header value (length, count, negative sizes)
  | "CRC_MISMATCH" // the CRC-32C over attributes..end does not match
  | "UNSUPPORTED_MAGIC" // a magic 0/1 message set (pre-0.11 format) or an unknown magic
  | "CORRUPT_RECORD" // a record whose varints or lengths do not add up
  | "RECORD_COUNT_MISMATCH" // the records do not number recordsCount, or do not fill the batch exactly
  | "UNSUPPORTED_COMPRESSION" // codec bits 5, 6 or 7
  | "CORRUPT_COMPRESSED_DATA" // the compression library rejected the payload
  | "DECOMPRESSED_TOO_LARGE"; // the payload would decompress past the caller's limit (a "zip bomb")

const KAFKA_ERROR_CODES: Record<RecordBatchErrorCode, number> = {
  TRUNCATED: ErrorCode.CORRUPT_MESSAGE,
  CORRUPT_BATCH: ErrorCode.CORRUPT_MESSAGE,
  CRC_MISMATCH: ErrorCode.CORRUPT_MESSAGE,
  UNSUPPORTED_MAGIC: ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
  CORRUPT_RECORD: ErrorCode.CORRUPT_MESSAGE,
  RECORD_COUNT_MISMATCH: ErrorCode.CORRUPT_MESSAGE,
  UNSUPPORTED_COMPRESSION: ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
  CORRUPT_COMPRESSED_DATA: ErrorCode.CORRUPT_MESSAGE,
  DECOMPRESSED_TOO_LARGE: ErrorCode.MESSAGE_TOO_LARGE,
};

export class RecordBatchError extends Error {
  override name = "RecordBatchError";
  /** The Kafka protocol error code a broker should answer with (e.g. CORRUPT_MESSAGE = 2). */
  readonly kafkaErrorCode: number;
  constructor(
    readonly code: RecordBatchErrorCode,
    message: string,
  ) {
    super(message);
    this.kafkaErrorCode = KAFKA_ERROR_CODES[code];
  }
}
