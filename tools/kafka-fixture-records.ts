// The record-batch half of `npm run check:fixtures`: kafkajs's recordBatch fixtures decoded with
// src/kafka/records and, where the bytes are deterministic, re-encoded to identical bytes.
import { crc32c } from "@node-rs/crc32";
import { Compression } from "../src/kafka/records/compression.js";
import { isDeepStrictEqual } from "node:util";
import { BatchField, compressionOf, computeBatchCrc, decodeRecordBatch, encodeRecordBatch, readBatchHeader, validateBatch, type RecordBatch } from "../src/kafka/records/record-batch.js";
import { readRecord, sizeOfRecord, writeRecord } from "../src/kafka/records/record.js";
import { VarintReader, sizeOfVarint, writeVarint } from "../src/kafka/records/varint.js";

/** Same header fields (bar the CRC and length, which depend on compressed bytes) and same records. */
function sameBatch(a: RecordBatch, b: RecordBatch): boolean {
  const strip = (x: RecordBatch) => ({ ...x, crc: 0, batchLength: 0 });
  return isDeepStrictEqual(strip(a), strip(b));
}

/** kafkajs's test expects this CRC-32C of crcPayload.json, the value Java's CRC32C computes. */
const JAVA_CRC32C_OF_PAYLOAD = 818496390;

function reencode(batch: RecordBatch, compression: Compression): Buffer {
  return encodeRecordBatch({
    baseOffset: batch.baseOffset,
    partitionLeaderEpoch: batch.partitionLeaderEpoch,
    compression,
    timestampType: (batch.attributes & 0x08) !== 0 ? "LogAppendTime" : "CreateTime",
    transactional: (batch.attributes & 0x10) !== 0,
    control: (batch.attributes & 0x20) !== 0,
    lastOffsetDelta: batch.lastOffsetDelta,
    baseTimestamp: batch.baseTimestamp,
    maxTimestamp: batch.maxTimestamp,
    producerId: batch.producerId,
    producerEpoch: batch.producerEpoch,
    baseSequence: batch.baseSequence,
    records: batch.records,
  });
}

export function checkFixtureRecords(relPath: string, bytes: Buffer): string {
  try {
    switch (relPath) {
      case "recordBatch/crc32C/crcPayload.json": {
        const crc = crc32c(bytes) >>> 0;
        return crc === JAVA_CRC32C_OF_PAYLOAD ? "" : `crc32c gave ${crc}, Java gives ${JAVA_CRC32C_OF_PAYLOAD}`;
      }
      case "recordBatch/v0_record.json": {
        // kafkajs's fixture is the record body; the batch encoder adds the length prefix.
        const framed = Buffer.concat([Buffer.alloc(sizeOfVarint(bytes.length)), bytes]);
        writeVarint(framed, 0, bytes.length);
        const record = readRecord(new VarintReader(framed, 0, framed.length));
        const again = Buffer.alloc(sizeOfRecord(record));
        writeRecord(again, 0, record);
        return again.equals(framed) ? "" : "record re-encodes differently";
      }
      case "recordBatch/v0_recordbatch.json": {
        // A gzip batch: compressed bytes depend on the zlib build (kafkajs names such fixtures by
        // platform), so the check is decode, re-encode with gzip, decode again, compare everything.
        validateBatch(bytes, 0, { decompress: true });
        const batch = decodeRecordBatch(bytes);
        const again = decodeRecordBatch(reencode(batch, compressionOf(batch.attributes)));
        return sameBatch(batch, again) ? "" : "batch does not survive a re-encode";
      }
      case "recordBatch/v0_recordbatch_zstd.json": {
        // This fixture's payload is a zstd frame but its attributes say "no compression" (a quirk of
        // how kafkajs's test built it). Check the CRC as stored, then decode it as the zstd batch it is.
        const header = readBatchHeader(bytes);
        if (computeBatchCrc(bytes) !== header.crc) return "CRC mismatch";
        const patched = Buffer.from(bytes);
        patched.writeInt16BE(bytes.readInt16BE(BatchField.attributes) | Compression.Zstd, BatchField.attributes);
        const batch = decodeRecordBatch(patched, { skipCrc: true });
        const again = decodeRecordBatch(reencode(batch, Compression.Zstd));
        return sameBatch(batch, again) ? "" : "zstd batch does not survive a re-encode";
      }
      default:
        return `no check for record fixture ${relPath}`;
    }
  } catch (error) {
    return `${relPath}: ${(error as Error).message}`;
  }
}
