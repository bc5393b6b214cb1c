// Kafka codec throughput: decode + encode of (1) a Produce v7 request carrying 1 MiB of record
// batches (16 partitions x 64 KiB) and (2) a Fetch v11 response of the same shape and size, plus
// (3) a small Produce v7 request (one partition, one 1 KiB batch) for the per-request overhead.
// Figures are MB/s of frame bytes (and requests/s for the small one); records travel as slices,
// so decode cost should not grow with record bytes and encode costs one copy of them (none with
// encodeResponseChunks, which hands the record buffers to the socket by reference).
//   npm run bench -- kafka-codec [--seconds 2]
import { performance } from "node:perf_hooks";
import { note, parseArgs, percentile, report } from "./harness.js";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, encodeResponseChunks } from "../src/kafka/protocol/request.js";
import { ApiKey } from "../src/kafka/protocol/generated/registry.js";
import type { ProduceRequest } from "../src/kafka/protocol/generated/produce-request.js";
import type { FetchResponse } from "../src/kafka/protocol/generated/fetch-response.js";
import type { MetadataResponse } from "../src/kafka/protocol/generated/metadata-response.js";
import { encodeRecordBatch } from "../src/kafka/records/record-batch.js";

const args = parseArgs();
const seconds = Number(args.get("seconds") ?? 2);

function batch(bytes: number): Buffer {
  const value = Buffer.alloc(1000, 0x61);
  const records = Array.from({ length: Math.max(1, Math.floor(bytes / 1012)) }, (_, i) => ({ attributes: 0, timestampDelta: i, offsetDelta: i, key: null, value, headers: [] }));
  return encodeRecordBatch({ baseTimestamp: 1_700_000_000_000n, records });
}

const partitions = 16;
const batch64k = batch(64 * 1024);
const produce: ProduceRequest = {
  transactionalId: null,
  acks: -1,
  timeoutMs: 30_000,
  topicData: [{ name: "bench-topic", partitionData: Array.from({ length: partitions }, (_, index) => ({ index, records: batch64k })) }],
};
const fetch: FetchResponse = {
  throttleTimeMs: 0,
  errorCode: 0,
  sessionId: 0,
  responses: [
    {
      topic: "bench-topic",
      partitions: Array.from({ length: partitions }, (_, partitionIndex) => ({
        partitionIndex,
        errorCode: 0,
        highWatermark: 1_000_000n,
        lastStableOffset: 1_000_000n,
        logStartOffset: 0n,
        abortedTransactions: [],
        preferredReadReplica: -1,
        records: batch64k,
      })),
    },
  ],
};
/** Field-heavy: 100 topics x 10 partitions, flexible encoding (compact strings, tagged sections). */
const metadata: MetadataResponse = {
  throttleTimeMs: 0,
  brokers: [0, 1, 2].map((nodeId) => ({ nodeId, host: `broker-${nodeId}.example`, port: 9092, rack: null })),
  clusterId: "bench-cluster",
  controllerId: 0,
  topics: Array.from({ length: 100 }, (_, t) => ({
    errorCode: 0,
    name: `topic-${t}`,
    topicId: "AAAAAAAAAAAAAAAAAAAAAQ",
    isInternal: false,
    partitions: Array.from({ length: 10 }, (_, p) => ({ errorCode: 0, partitionIndex: p, leaderId: p % 3, leaderEpoch: 5, replicaNodes: [0, 1, 2], isrNodes: [0, 1, 2], offlineReplicas: [] })),
    topicAuthorizedOperations: -2147483648,
  })),
};
const small: ProduceRequest = { transactionalId: null, acks: 1, timeoutMs: 30_000, topicData: [{ name: "bench-topic", partitionData: [{ index: 0, records: batch(1024) }] }] };

/**
 * Operations per second of `fn`: the median of 5 windows of seconds/5 each, after a warm-up. The
 * median, because on a shared CPU single windows swing with neighbours and garbage collection.
 */
function rate(fn: () => void): number {
  for (let i = 0; i < 200; i++) fn();
  const windows: number[] = [];
  for (let w = 0; w < 5; w++) {
    let ops = 0;
    const started = performance.now();
    let elapsed = 0;
    while (elapsed < (seconds * 1000) / 5) {
      for (let i = 0; i < 20; i++) fn();
      ops += 20;
      elapsed = performance.now() - started;
    }
    windows.push(ops / (elapsed / 1000));
  }
  return percentile(windows, 50);
}

const mb = (bytes: number, perSecond: number) => Math.round((bytes * perSecond) / 1e6);

const produceFrame = encodeRequest(ApiKey.Produce, 7, 1, "bench", produce);
const produceBody = produceFrame.subarray(4);
const produceDecode = rate(() => decodeRequest(produceBody));
const produceEncode = rate(() => encodeRequest(ApiKey.Produce, 7, 1, "bench", produce));
const produceBoth = rate(() => {
  const request = decodeRequest(produceBody);
  encodeRequest(ApiKey.Produce, 7, request.correlationId, request.clientId, request.body as ProduceRequest);
});
note(`produce v7: ${produceFrame.length} bytes per frame`);

const fetchFrame = encodeResponse(ApiKey.Fetch, 11, 1, fetch);
const fetchBody = fetchFrame.subarray(4);
const fetchDecode = rate(() => decodeResponse(ApiKey.Fetch, 11, fetchBody));
const fetchEncode = rate(() => encodeResponse(ApiKey.Fetch, 11, 1, fetch));
const fetchEncodeChunks = rate(() => encodeResponseChunks(ApiKey.Fetch, 11, 1, fetch));
const fetchBothChunks = rate(() => {
  const { correlationId, body } = decodeResponse(ApiKey.Fetch, 11, fetchBody);
  encodeResponseChunks(ApiKey.Fetch, 11, correlationId, body as FetchResponse);
});
const fetchBoth = rate(() => {
  const { correlationId, body } = decodeResponse(ApiKey.Fetch, 11, fetchBody);
  encodeResponse(ApiKey.Fetch, 11, correlationId, body as FetchResponse);
});
note(`fetch v11: ${fetchFrame.length} bytes per frame`);

const smallFrame = encodeRequest(ApiKey.Produce, 7, 1, "bench", small);
const smallBoth = rate(() => {
  const request = decodeRequest(smallFrame.subarray(4));
  encodeRequest(ApiKey.Produce, 7, request.correlationId, request.clientId, request.body as ProduceRequest);
});

const metadataFrame = encodeResponse(ApiKey.Metadata, 9, 1, metadata);
const metadataBoth = rate(() => {
  const { correlationId, body } = decodeResponse(ApiKey.Metadata, 9, metadataFrame.subarray(4));
  encodeResponse(ApiKey.Metadata, 9, correlationId, body as MetadataResponse);
});

// The floor under any single-buffer encoder of these frames: allocate 1 MiB and copy the records into it.
const baseline = rate(() => {
  const out = Buffer.allocUnsafe(produceFrame.length);
  for (let i = 0; i < partitions; i++) batch64k.copy(out, 100 + i * batch64k.length);
});

report("kafka-codec", {
  seconds,
  produceV7FrameBytes: produceFrame.length,
  produceV7DecodeMBps: mb(produceFrame.length, produceDecode),
  produceV7EncodeMBps: mb(produceFrame.length, produceEncode),
  produceV7DecodeEncodeMBps: mb(produceFrame.length, produceBoth),
  fetchV11FrameBytes: fetchFrame.length,
  fetchV11DecodeMBps: mb(fetchFrame.length, fetchDecode),
  fetchV11EncodeMBps: mb(fetchFrame.length, fetchEncode),
  fetchV11DecodeEncodeMBps: mb(fetchFrame.length, fetchBoth),
  fetchV11EncodeChunksMBps: mb(fetchFrame.length, fetchEncodeChunks),
  fetchV11DecodeEncodeChunksMBps: mb(fetchFrame.length, fetchBothChunks),
  smallProduceFrameBytes: smallFrame.length,
  smallProduceDecodeEncodePerSecond: Math.round(smallBoth),
  metadataV9FrameBytes: metadataFrame.length,
  metadataV9DecodeEncodePerSecond: Math.round(metadataBoth),
  allocateAndCopy1MiBBaselineMBps: mb(produceFrame.length, baseline),
});
