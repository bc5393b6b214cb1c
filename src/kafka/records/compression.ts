// Compression of record-batch payloads (the bytes after the 61-byte header), each codec through a
// maintained library: gzip via node:zlib, snappy via `snappy` (plus the xerial framing, a small
// container that the Java client and librdkafka understand, implemented here around raw snappy
// blocks), lz4 frames via `lz4-napi`, zstd via `zstd-napi`. Decompression is bounded: every path
// knows or bounds the output size before allocating it and fails with DECOMPRESSED_TOO_LARGE past
// the caller's limit, so a small hostile payload cannot make the broker allocate gigabytes.
import { gunzipSync, gzipSync } from "node:zlib";
import { createRequire } from "node:module";
import { RecordBatchError } from "./errors.js";

// The native codecs are loaded on first use, not at import: together they cost a noticeable part
// of a node's cold start, and most workloads use one codec or none. zstd-napi's low-level binding
// (streaming decompression, frame content size) is a CommonJS module whose exports ESM cannot see
// statically, so every codec goes through require.
const require = createRequire(import.meta.url);
let snappyModule: typeof import("snappy") | undefined;
let lz4Module: typeof import("lz4-napi") | undefined;
let zstdModule: typeof import("zstd-napi") | undefined;
let zstdBindingModule: typeof import("zstd-napi/binding.js") | undefined;
const snappy = (): typeof import("snappy") => (snappyModule ??= require("snappy") as typeof import("snappy"));
const lz4 = (): typeof import("lz4-napi") => (lz4Module ??= require("lz4-napi") as typeof import("lz4-napi"));
const zstd = (): typeof import("zstd-napi") => (zstdModule ??= require("zstd-napi") as typeof import("zstd-napi"));
const snappyCompress = (data: Buffer): Buffer => snappy().compressSync(data);
const snappyUncompress = (data: Buffer, options?: { asBuffer: true }): Buffer => snappy().uncompressSync(data, options) as Buffer;
const lz4CompressFrame = (data: Buffer): Buffer => lz4().compressFrameSync(data);
const lz4DecompressFrame = (data: Buffer): Buffer => lz4().decompressFrameSync(data);
const zstdCompress = (data: Buffer, parameters?: Parameters<typeof import("zstd-napi").compress>[1]): Buffer => zstd().compress(data, parameters);
const zstdBinding = (): typeof import("zstd-napi/binding.js") => (zstdBindingModule ??= require("zstd-napi/binding.js") as typeof import("zstd-napi/binding.js"));

/** The codec in bits 0-2 of a batch's attributes. */
export const Compression = { None: 0, Gzip: 1, Snappy: 2, Lz4: 3, Zstd: 4 } as const;
export type Compression = (typeof Compression)[keyof typeof Compression];

export const COMPRESSION_NAMES: Readonly<Record<Compression, string>> = { 0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd" };

/** Default bound on one batch's decompressed payload (64 MiB); callers pass their own. */
export const DEFAULT_DECOMPRESSED_BYTES_MAX = 64 * 1024 * 1024;

export interface CompressOptions {
  /** Snappy container: "xerial" (what the Java client writes; default) or "raw" (what librdkafka writes). */
  snappyFraming?: "xerial" | "raw";
  /** gzip level 1-9 or zstd level 1-22; the library default when omitted. */
  level?: number;
}

// xerial snappy-java stream: 8-byte magic, int32 version, int32 minimum compatible version, then
// blocks of (int32 big-endian compressed length, raw snappy block). snappy-java writes 32 KiB blocks.
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;
const XERIAL_BLOCK_BYTES = 32 * 1024;

// LZ4 frame format (lz4_Frame_format.md): magic, FLG, BD, optional content size and dictionary id,
// header checksum, blocks of (uint32 LE size with bit 31 = stored uncompressed, data, optional
// checksum), end mark 0, optional content checksum. An LZ4 sequence expands each input byte into
// at most 255 output bytes, which bounds a compressed block's output without decompressing it.
const LZ4_MAGIC = 0x184d2204;
const LZ4_EXPANSION_MAX = 255;
const LZ4_BLOCK_BYTES_MAX: Record<number, number> = { 4: 64 * 1024, 5: 256 * 1024, 6: 1024 * 1024, 7: 4 * 1024 * 1024 };

export function isXerialSnappy(data: Buffer): boolean {
  return data.length >= XERIAL_HEADER_BYTES && data.subarray(0, 8).equals(XERIAL_MAGIC);
}

function fail(message: string, cause?: unknown): never {
  const detail = cause instanceof Error ? `: ${cause.message}` : "";
  throw new RecordBatchError("CORRUPT_COMPRESSED_DATA", `${message}${detail}`);
}

function tooLarge(codec: string, bytes: number | string, maxBytes: number): never {
  throw new RecordBatchError("DECOMPRESSED_TOO_LARGE", `${codec} payload decompresses to ${bytes} bytes, above the limit of ${maxBytes}`);
}

export function compress(codec: Compression, data: Buffer, options: CompressOptions = {}): Buffer {
  switch (codec) {
    case Compression.None:
      return data;
    case Compression.Gzip:
      return gzipSync(data, options.level === undefined ? {} : { level: options.level });
    case Compression.Snappy:
      return options.snappyFraming === "raw" ? snappyCompress(data) : xerialCompress(data);
    case Compression.Lz4:
      return lz4CompressFrame(data);
    case Compression.Zstd:
      return zstdCompress(data, options.level === undefined ? {} : { compressionLevel: options.level });
    default:
      throw new RecordBatchError("UNSUPPORTED_COMPRESSION", `unknown compression codec ${String(codec)}`);
  }
}

/** Decompresses at most `maxBytes` bytes of output; past that, DECOMPRESSED_TOO_LARGE. */
export function decompress(codec: Compression, data: Buffer, maxBytes = DEFAULT_DECOMPRESSED_BYTES_MAX): Buffer {
  switch (codec) {
    case Compression.None:
      if (data.length > maxBytes) tooLarge("uncompressed", data.length, maxBytes);
      return data;
    case Compression.Gzip:
      return gunzip(data, maxBytes);
    case Compression.Snappy:
      return isXerialSnappy(data) ? xerialDecompress(data, maxBytes) : snappyBlock(data, maxBytes);
    case Compression.Lz4:
      return lz4Decompress(data, maxBytes);
    case Compression.Zstd:
      return zstdDecompress(data, maxBytes);
    default:
      throw new RecordBatchError("UNSUPPORTED_COMPRESSION", `unknown compression codec ${String(codec)}`);
  }
}

function gunzip(data: Buffer, maxBytes: number): Buffer {
  try {
    return gunzipSync(data, { maxOutputLength: Math.max(1, maxBytes) });
  } catch (error) {
    if (error instanceof RangeError) tooLarge("gzip", `more than ${maxBytes}`, maxBytes);
    return fail("gzip payload is corrupt", error);
  }
}

/** A raw snappy block starts with its uncompressed length as an unsigned varint: checked before allocating. */
function snappyBlock(data: Buffer, maxBytes: number): Buffer {
  let length = 0;
  let multiplier = 1;
  for (let i = 0; ; i++) {
    if (i >= 5 || i >= data.length) fail("snappy block has no valid length preamble");
    const byte = data[i];
    length += (byte & 0x7f) * multiplier;
    if (byte < 0x80) break;
    multiplier *= 0x80;
  }
  if (length > maxBytes) tooLarge("snappy", length, maxBytes);
  let out: Buffer;
  try {
    out = snappyUncompress(data, { asBuffer: true }) as Buffer;
  } catch (error) {
    return fail("snappy block is corrupt", error);
  }
  if (out.length !== length) fail(`snappy block decoded to ${out.length} bytes, its preamble said ${length}`);
  return out;
}

function xerialCompress(data: Buffer): Buffer {
  const header = Buffer.alloc(XERIAL_HEADER_BYTES);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(1, 8);
  header.writeInt32BE(1, 12);
  const parts: Buffer[] = [header];
  for (let offset = 0; offset < data.length; offset += XERIAL_BLOCK_BYTES) {
    const block = snappyCompress(data.subarray(offset, offset + XERIAL_BLOCK_BYTES));
    const length = Buffer.alloc(4);
    length.writeInt32BE(block.length, 0);
    parts.push(length, block);
  }
  return Buffer.concat(parts);
}

function xerialDecompress(data: Buffer, maxBytes: number): Buffer {
  const blocks: Buffer[] = [];
  let total = 0;
  let offset = XERIAL_HEADER_BYTES;
  while (offset < data.length) {
    if (data.length - offset < 4) fail("xerial snappy block length is truncated");
    const length = data.readInt32BE(offset);
    offset += 4;
    if (length < 0 || length > data.length - offset) fail(`xerial snappy block of ${length} bytes runs past the payload`);
    const block = snappyBlock(data.subarray(offset, offset + length), maxBytes - total);
    total += block.length;
    blocks.push(block);
    offset += length;
  }
  return blocks.length === 1 ? blocks[0] : Buffer.concat(blocks, total);
}

/** Walks an LZ4 frame's structure (not its data) to bound its output; rejects trailing bytes. */
export function lz4OutputBound(data: Buffer): number {
  if (data.length < 7 || data.readUInt32LE(0) !== LZ4_MAGIC) fail("not an LZ4 frame (bad magic)");
  const flags = data[4];
  if (flags >> 6 !== 1) fail(`LZ4 frame version ${flags >> 6} is not 1`);
  const blockChecksums = (flags & 0x10) !== 0;
  const contentSize = (flags & 0x08) !== 0;
  const contentChecksum = (flags & 0x04) !== 0;
  const dictionaryId = (flags & 0x01) !== 0;
  const blockBytesMax = LZ4_BLOCK_BYTES_MAX[(data[5] >> 4) & 0x7];
  if (blockBytesMax === undefined) fail(`LZ4 frame has an invalid block size id ${(data[5] >> 4) & 0x7}`);
  let offset = 6;
  let declared = -1;
  if (contentSize) {
    if (data.length < offset + 8) fail("LZ4 frame header is truncated");
    declared = Number(data.readBigUInt64LE(offset));
    offset += 8;
  }
  if (dictionaryId) offset += 4;
  offset += 1; // header checksum (verified by the library)
  let bound = 0;
  for (;;) {
    if (data.length < offset + 4) fail("LZ4 frame is truncated before its end mark");
    const word = data.readUInt32LE(offset);
    offset += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    if (size > blockBytesMax) fail(`LZ4 block of ${size} bytes exceeds the frame's ${blockBytesMax}`);
    if (data.length < offset + size) fail("LZ4 block runs past the payload");
    bound += word & 0x80000000 ? size : Math.min(blockBytesMax, size * LZ4_EXPANSION_MAX);
    offset += size + (blockChecksums ? 4 : 0);
  }
  offset += contentChecksum ? 4 : 0;
  if (offset !== data.length) fail(`LZ4 frame is followed by ${data.length - offset} unexpected bytes`);
  return declared >= 0 ? Math.min(declared, bound) : bound;
}

function lz4Decompress(data: Buffer, maxBytes: number): Buffer {
  const bound = lz4OutputBound(data);
  if (bound > maxBytes) tooLarge("lz4", `up to ${bound}`, maxBytes);
  let out: Buffer;
  try {
    out = lz4DecompressFrame(data);
  } catch (error) {
    return fail("LZ4 frame is corrupt", error);
  }
  if (out.length > maxBytes) tooLarge("lz4", out.length, maxBytes);
  return out;
}

const ZSTD_CHUNK_BYTES = 128 * 1024;

/** Streams zstd output chunk by chunk and stops as soon as it passes the limit. */
function zstdDecompress(data: Buffer, maxBytes: number): Buffer {
  const dctx = new (zstdBinding().DCtx)();
  const chunks: Buffer[] = [];
  let total = 0;
  let input = data;
  try {
    const declared = zstdBinding().getFrameContentSize(data);
    if (declared !== null && declared > maxBytes) tooLarge("zstd", declared, maxBytes);
    let lastHint = 1;
    while (input.length > 0 || lastHint !== 0) {
      const chunk = Buffer.allocUnsafe(Math.min(ZSTD_CHUNK_BYTES, maxBytes - total + 1));
      const [hint, produced, consumed] = dctx.decompressStream(chunk, input);
      input = input.subarray(consumed);
      total += produced;
      if (total > maxBytes) tooLarge("zstd", `more than ${maxBytes}`, maxBytes);
      if (produced > 0) chunks.push(chunk.subarray(0, produced));
      lastHint = hint;
      if (produced === 0 && consumed === 0) {
        if (hint !== 0) fail("zstd frame is truncated");
        break;
      }
    }
  } catch (error) {
    if (error instanceof RecordBatchError) throw error;
    return fail("zstd payload is corrupt", error);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
}
