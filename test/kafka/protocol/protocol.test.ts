// Goal: the pieces around the generated codecs behave as the protocol requires. Method: explicit
// cases for the header rules (ApiVersions' response header is always v0; request header v2 keeps
// ClientId as an int16 string; ControlledShutdown v0 has header v0), request dispatch errors that
// carry what the broker needs to answer, the primitive decoders' limits (varints, strings, counts
// checked before allocating), tagged fields (known decoded, unknown preserved), non-ignorable
// fields refused in versions that lack them, and the generated error table.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeMessage, encodeMessage } from "../../../src/kafka/protocol/codec.js";
import { KafkaDecodeError, KafkaEncodeError, KafkaRequestError } from "../../../src/kafka/protocol/errors.js";
import { Reader } from "../../../src/kafka/protocol/reader.js";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, encodeResponseChunks, isRequest } from "../../../src/kafka/protocol/request.js";
import { APIS, ApiKey, apiInfo, requestHeaderVersion, responseHeaderVersion } from "../../../src/kafka/protocol/generated/registry.js";
import { ErrorCode, KAFKA_ERRORS, kafkaError } from "../../../src/kafka/protocol/generated/errors.js";
import { ApiVersionsResponseCodec } from "../../../src/kafka/protocol/generated/api-versions-response.js";
import { FetchResponseCodec, type FetchResponse } from "../../../src/kafka/protocol/generated/fetch-response.js";
import { ProduceRequestCodec, type ProduceRequest } from "../../../src/kafka/protocol/generated/produce-request.js";
import { CreateTopicsRequestCodec } from "../../../src/kafka/protocol/generated/create-topics-request.js";

const decodeFails = (code: string) => (e: unknown) => e instanceof KafkaDecodeError && e.code === code;
const encodeFails = (code: string) => (e: unknown) => e instanceof KafkaEncodeError && e.code === code;

test("registry: 88 contiguous API keys, each with request and response codecs and header versions", () => {
  assert.equal(APIS.length, 88);
  APIS.forEach((api, key) => {
    assert.equal(api.apiKey, key);
    assert.equal(api.request.apiKey, key);
    assert.equal(api.response.apiKey, key);
  });
  assert.equal(apiInfo(ApiKey.Produce)!.name, "Produce");
  assert.equal(apiInfo(9999), undefined);
  assert.equal(requestHeaderVersion(ApiKey.Produce, 8), 1);
  assert.equal(requestHeaderVersion(ApiKey.Produce, 9), 2);
  assert.equal(requestHeaderVersion(ApiKey.ControlledShutdown, 0), 0);
  assert.equal(responseHeaderVersion(ApiKey.Fetch, 12), 1);
  assert.equal(responseHeaderVersion(ApiKey.Fetch, 11), 0);
  for (let v = 0; v <= APIS[ApiKey.ApiVersions].highestVersion; v++) assert.equal(responseHeaderVersion(ApiKey.ApiVersions, v), 0, "ApiVersions responses never have a tagged header");
});

test("ApiVersions v3: flexible request header (with int16 ClientId), response header v0 with a flexible body", () => {
  const request = encodeRequest(ApiKey.ApiVersions, 3, 42, "librdkafka", { clientSoftwareName: "librdkafka", clientSoftwareVersion: "2.0.2" });
  // size, key 18, version 3, correlation 42, ClientId as INT16 length + bytes, then the header's empty tag section.
  assert.equal(request.subarray(4, 14).toString("hex"), "00120003" + "0000002a" + "000a");
  assert.equal(request[24], 0, "header tagged fields follow the int16-prefixed ClientId");
  const decoded = decodeRequest(request.subarray(4));
  assert.equal(decoded.clientId, "librdkafka");
  assert.equal(decoded.headerVersion, 2);
  assert.ok(isRequest(decoded, ApiKey.ApiVersions) && decoded.body.clientSoftwareName === "librdkafka");
  const response = encodeResponse(ApiKey.ApiVersions, 3, 42, { errorCode: 0, apiKeys: [{ apiKey: 0, minVersion: 0, maxVersion: 9 }], throttleTimeMs: 0 });
  // size, correlation id, then the body directly: no tag byte in the header.
  assert.equal(response.subarray(4, 10).toString("hex"), "0000002a" + "0000");
  assert.equal(response[10], 2, "compact array of one api key");
  const { correlationId, body } = decodeResponse(ApiKey.ApiVersions, 3, response.subarray(4));
  assert.equal(correlationId, 42);
  assert.deepEqual((body as { apiKeys: unknown[] }).apiKeys, [{ apiKey: 0, minVersion: 0, maxVersion: 9 }]);
  // A v0 body (KIP-511's answer to an unsupported ApiVersions version) encodes at version 0.
  assert.deepEqual(decodeMessage(ApiVersionsResponseCodec, 0, encodeMessage(ApiVersionsResponseCodec, 0, { errorCode: 35, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }] })).errorCode, 35);
});

test("request dispatch errors carry the api key, version and correlation id", () => {
  const frame = encodeRequest(ApiKey.Metadata, 4, 7, "c", { topics: null, allowAutoTopicCreation: true }).subarray(4);
  const badKey = Buffer.from(frame);
  badKey.writeInt16BE(999, 0);
  assert.throws(() => decodeRequest(badKey), (e: unknown) => e instanceof KafkaRequestError && e.code === "UNKNOWN_API_KEY" && e.correlationId === 7 && e.apiKey === 999);
  const badVersion = Buffer.from(frame);
  badVersion.writeInt16BE(99, 2);
  assert.throws(() => decodeRequest(badVersion), (e: unknown) => e instanceof KafkaRequestError && e.code === "UNSUPPORTED_VERSION" && e.apiVersion === 99 && e.correlationId === 7);
  assert.throws(() => decodeRequest(frame.subarray(0, frame.length - 1)), (e: unknown) => e instanceof KafkaRequestError && e.code === "TRUNCATED" && e.correlationId === 7);
  assert.throws(() => decodeRequest(Buffer.concat([frame, Buffer.from([0])])), (e: unknown) => e instanceof KafkaRequestError && e.code === "TRAILING_BYTES");
  assert.throws(() => decodeRequest(frame.subarray(0, 5)), (e: unknown) => e instanceof KafkaRequestError && e.code === "TRUNCATED" && e.correlationId === -1);
});

test("primitives: varints, strings and counts are checked before anything is allocated", () => {
  assert.equal(new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])).uvarint(), 0xffffffff);
  assert.throws(() => new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x1f])).uvarint(), decodeFails("VARINT_TOO_LONG"));
  assert.throws(() => new Reader(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01])).uvarint(), decodeFails("VARINT_TOO_LONG"));
  assert.throws(() => new Reader(Buffer.from([0x80])).uvarint(), decodeFails("TRUNCATED"));
  // An array claiming 2^31-1 elements in a 6-byte buffer: refused before looping or allocating.
  assert.throws(() => new Reader(Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 0])).arrayLength(1), decodeFails("INVALID_LENGTH"));
  assert.throws(() => new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])).compactArrayLength(1), decodeFails("INVALID_LENGTH"));
  assert.throws(() => new Reader(Buffer.from([0x7f, 0xff, 1, 2])).string(), decodeFails("TRUNCATED"));
  assert.throws(() => new Reader(Buffer.from([0xff, 0xff])).string(), decodeFails("NULL_NOT_ALLOWED"));
  assert.equal(new Reader(Buffer.from([0xff, 0xff])).nullableString(), null);
  assert.throws(() => new Reader(Buffer.from([0x82, 0x80, 0x02])).compactString(), decodeFails("STRING_TOO_LONG"));
  const bytes = Buffer.from([0, 0, 0, 3, 9, 8, 7]);
  const slice = new Reader(bytes).bytes();
  assert.equal(slice.buffer, bytes.buffer, "bytes decode as a zero-copy slice");
});

test("records decode as a zero-copy slice of the frame", () => {
  const records = Buffer.alloc(1024 * 1024, 1);
  const value: FetchResponse = { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: [{ topic: "t", partitions: [{ partitionIndex: 0, errorCode: 0, highWatermark: 10n, records }] }] };
  const bytes = encodeMessage(FetchResponseCodec, 11, value);
  const decoded = decodeMessage(FetchResponseCodec, 11, bytes);
  const out = decoded.responses[0].partitions[0].records!;
  assert.equal(out.buffer, bytes.buffer);
  assert.ok(out.equals(records));
});

test("encodeResponseChunks: the same bytes as encodeResponse, large records passed by reference", () => {
  const records = Buffer.alloc(64 * 1024, 3);
  const value: FetchResponse = { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: [{ topic: "t", partitions: [0, 1].map((partitionIndex) => ({ partitionIndex, errorCode: 0, highWatermark: 1n, records })) }] };
  const chunks = encodeResponseChunks(ApiKey.Fetch, 11, 9, value);
  assert.ok(Buffer.concat(chunks).equals(encodeResponse(ApiKey.Fetch, 11, 9, value)));
  assert.equal(chunks.filter((chunk) => chunk === records).length, 2, "the records buffer itself, twice, not copies");
  assert.equal(encodeResponseChunks(ApiKey.Fetch, 11, 9, value, Infinity).length, 1);
});

test("tagged fields: known tags decode into fields, unknown tags survive a round trip, order is enforced", () => {
  const value: ProduceRequest = { transactionalId: null, acks: -1, timeoutMs: 1000, topicData: [], _unknownTaggedFields: [{ tag: 5, data: Buffer.from("xy") }, { tag: 90, data: Buffer.alloc(0) }] };
  const bytes = encodeMessage(ProduceRequestCodec, 9, value);
  assert.deepStrictEqual(decodeMessage(ProduceRequestCodec, 9, bytes), value);
  assert.throws(() => encodeMessage(ProduceRequestCodec, 8, value), encodeFails("FIELD_NOT_IN_VERSION"), "tagged fields in a non-flexible version");
  assert.throws(() => encodeMessage(ProduceRequestCodec, 9, { ...value, _unknownTaggedFields: [{ tag: 9, data: Buffer.alloc(0) }, { tag: 2, data: Buffer.alloc(0) }] }), encodeFails("TAG_ORDER"));
  // Swap the two tags on the wire: the decoder refuses descending tags.
  const swapped = Buffer.from(bytes);
  const at = swapped.length - 6; // [count=2][tag 5][len 2]'xy'[tag 90][len 0]
  assert.equal(swapped[at - 1], 2);
  swapped[at] = 90;
  swapped[swapped.length - 2] = 5;
  assert.throws(() => decodeMessage(ProduceRequestCodec, 9, swapped), decodeFails("TAG_ORDER"));
  // A known tagged field: FetchResponse v12+ partition CurrentLeader (tag 1).
  const fetch: FetchResponse = {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [{ topic: "t", partitions: [{ partitionIndex: 0, errorCode: 6, highWatermark: 0n, currentLeader: { leaderId: 3, leaderEpoch: 9 }, records: null }] }],
  };
  const decoded = decodeMessage(FetchResponseCodec, 12, encodeMessage(FetchResponseCodec, 12, fetch));
  assert.deepEqual(decoded.responses[0].partitions[0].currentLeader, { leaderId: 3, leaderEpoch: 9 });
  // The same field is simply absent (its default) in a version that cannot carry it.
  assert.deepEqual(decodeMessage(FetchResponseCodec, 11, encodeMessage(FetchResponseCodec, 11, { ...fetch, responses: [{ topic: "t", partitions: [{ ...fetch.responses[0].partitions[0], currentLeader: undefined }] }] })).responses[0].partitions[0].currentLeader, { leaderId: -1, leaderEpoch: -1 });
});

test("encoding refuses what the version cannot carry and values that do not fit", () => {
  // validateOnly is non-ignorable and CreateTopics v0 lacks it (Kafka's UnsupportedVersionException).
  assert.throws(() => encodeMessage(CreateTopicsRequestCodec, 0, { topics: [], timeoutMs: 1, validateOnly: true }), encodeFails("FIELD_NOT_IN_VERSION"));
  assert.ok(encodeMessage(CreateTopicsRequestCodec, 0, { topics: [], timeoutMs: 1, validateOnly: false }).length > 0);
  assert.throws(() => encodeMessage(ProduceRequestCodec, 7, { transactionalId: null, acks: 70000, timeoutMs: 1, topicData: [] }), encodeFails("VALUE_OUT_OF_RANGE"));
  assert.throws(() => encodeMessage(ProduceRequestCodec, 7, { transactionalId: null, acks: 1, timeoutMs: 1, topicData: [{ name: null as unknown as string, partitionData: [] }] }), encodeFails("NULL_NOT_ALLOWED"));
  assert.throws(() => encodeMessage(ProduceRequestCodec, 12, { acks: 1, timeoutMs: 1, topicData: [] }), encodeFails("UNSUPPORTED_VERSION"));
  assert.throws(() => decodeMessage(ProduceRequestCodec, -1, Buffer.alloc(0)), decodeFails("UNSUPPORTED_VERSION"));
});

test("error table: every code from the schema folder, with Kafka's retriability and messages", () => {
  assert.equal(KAFKA_ERRORS.length, 129);
  assert.equal(ErrorCode.NOT_LEADER_OR_FOLLOWER, 6);
  assert.equal(kafkaError(6)!.retriable, true);
  assert.equal(kafkaError(ErrorCode.UNSUPPORTED_VERSION)!.retriable, false);
  assert.match(kafkaError(ErrorCode.CORRUPT_MESSAGE)!.message, /CRC/);
  assert.equal(kafkaError(-1)!.name, "UNKNOWN_SERVER_ERROR");
  assert.equal(kafkaError(9999), undefined);
});
