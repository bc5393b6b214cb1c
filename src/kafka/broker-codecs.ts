// The codecs of the APIs the broker serves (api-versions.ts), imported one module each: a node
// loads these ~50 generated modules rather than the registry's ~380, which took ≈200 ms of a cold
// start. test/kafka/broker-codecs.test.ts checks this table against SUPPORTED_VERSIONS and the
// generated registry.
import type { MessageCodec } from "./protocol/codec.js";
import { framesFor, type ApiCodecs, type Frames } from "./protocol/frames.js";
import { ApiKey } from "./api-versions.js";
import { ProduceRequestCodec } from "./protocol/generated/produce-request.js";
import { ProduceResponseCodec } from "./protocol/generated/produce-response.js";
import { FetchRequestCodec } from "./protocol/generated/fetch-request.js";
import { FetchResponseCodec } from "./protocol/generated/fetch-response.js";
import { ListOffsetsRequestCodec } from "./protocol/generated/list-offsets-request.js";
import { ListOffsetsResponseCodec } from "./protocol/generated/list-offsets-response.js";
import { MetadataRequestCodec } from "./protocol/generated/metadata-request.js";
import { MetadataResponseCodec } from "./protocol/generated/metadata-response.js";
import { OffsetCommitRequestCodec } from "./protocol/generated/offset-commit-request.js";
import { OffsetCommitResponseCodec } from "./protocol/generated/offset-commit-response.js";
import { OffsetFetchRequestCodec } from "./protocol/generated/offset-fetch-request.js";
import { OffsetFetchResponseCodec } from "./protocol/generated/offset-fetch-response.js";
import { FindCoordinatorRequestCodec } from "./protocol/generated/find-coordinator-request.js";
import { FindCoordinatorResponseCodec } from "./protocol/generated/find-coordinator-response.js";
import { JoinGroupRequestCodec } from "./protocol/generated/join-group-request.js";
import { JoinGroupResponseCodec } from "./protocol/generated/join-group-response.js";
import { HeartbeatRequestCodec } from "./protocol/generated/heartbeat-request.js";
import { HeartbeatResponseCodec } from "./protocol/generated/heartbeat-response.js";
import { LeaveGroupRequestCodec } from "./protocol/generated/leave-group-request.js";
import { LeaveGroupResponseCodec } from "./protocol/generated/leave-group-response.js";
import { SyncGroupRequestCodec } from "./protocol/generated/sync-group-request.js";
import { SyncGroupResponseCodec } from "./protocol/generated/sync-group-response.js";
import { DescribeGroupsRequestCodec } from "./protocol/generated/describe-groups-request.js";
import { DescribeGroupsResponseCodec } from "./protocol/generated/describe-groups-response.js";
import { ListGroupsRequestCodec } from "./protocol/generated/list-groups-request.js";
import { ListGroupsResponseCodec } from "./protocol/generated/list-groups-response.js";
import { SaslHandshakeRequestCodec } from "./protocol/generated/sasl-handshake-request.js";
import { SaslHandshakeResponseCodec } from "./protocol/generated/sasl-handshake-response.js";
import { ApiVersionsRequestCodec } from "./protocol/generated/api-versions-request.js";
import { ApiVersionsResponseCodec } from "./protocol/generated/api-versions-response.js";
import { CreateTopicsRequestCodec } from "./protocol/generated/create-topics-request.js";
import { CreateTopicsResponseCodec } from "./protocol/generated/create-topics-response.js";
import { DeleteTopicsRequestCodec } from "./protocol/generated/delete-topics-request.js";
import { DeleteTopicsResponseCodec } from "./protocol/generated/delete-topics-response.js";
import { DeleteRecordsRequestCodec } from "./protocol/generated/delete-records-request.js";
import { DeleteRecordsResponseCodec } from "./protocol/generated/delete-records-response.js";
import { InitProducerIdRequestCodec } from "./protocol/generated/init-producer-id-request.js";
import { InitProducerIdResponseCodec } from "./protocol/generated/init-producer-id-response.js";
import { DescribeConfigsRequestCodec } from "./protocol/generated/describe-configs-request.js";
import { DescribeConfigsResponseCodec } from "./protocol/generated/describe-configs-response.js";
import { AlterConfigsRequestCodec } from "./protocol/generated/alter-configs-request.js";
import { AlterConfigsResponseCodec } from "./protocol/generated/alter-configs-response.js";
import { SaslAuthenticateRequestCodec } from "./protocol/generated/sasl-authenticate-request.js";
import { SaslAuthenticateResponseCodec } from "./protocol/generated/sasl-authenticate-response.js";
import { CreatePartitionsRequestCodec } from "./protocol/generated/create-partitions-request.js";
import { CreatePartitionsResponseCodec } from "./protocol/generated/create-partitions-response.js";
import { DeleteGroupsRequestCodec } from "./protocol/generated/delete-groups-request.js";
import { DeleteGroupsResponseCodec } from "./protocol/generated/delete-groups-response.js";
import { IncrementalAlterConfigsRequestCodec } from "./protocol/generated/incremental-alter-configs-request.js";
import { IncrementalAlterConfigsResponseCodec } from "./protocol/generated/incremental-alter-configs-response.js";
import { DescribeClusterRequestCodec } from "./protocol/generated/describe-cluster-request.js";
import { DescribeClusterResponseCodec } from "./protocol/generated/describe-cluster-response.js";

function codecs(request: MessageCodec<unknown>, response: MessageCodec<unknown>): ApiCodecs {
  return { request, response };
}

/** Request and response codecs by API key, for exactly the APIs in SUPPORTED_VERSIONS. */
export const BROKER_CODECS: ReadonlyMap<number, ApiCodecs> = new Map([
  [ApiKey.Produce, codecs(ProduceRequestCodec, ProduceResponseCodec)],
  [ApiKey.Fetch, codecs(FetchRequestCodec, FetchResponseCodec)],
  [ApiKey.ListOffsets, codecs(ListOffsetsRequestCodec, ListOffsetsResponseCodec)],
  [ApiKey.Metadata, codecs(MetadataRequestCodec, MetadataResponseCodec)],
  [ApiKey.OffsetCommit, codecs(OffsetCommitRequestCodec, OffsetCommitResponseCodec)],
  [ApiKey.OffsetFetch, codecs(OffsetFetchRequestCodec, OffsetFetchResponseCodec)],
  [ApiKey.FindCoordinator, codecs(FindCoordinatorRequestCodec, FindCoordinatorResponseCodec)],
  [ApiKey.JoinGroup, codecs(JoinGroupRequestCodec, JoinGroupResponseCodec)],
  [ApiKey.Heartbeat, codecs(HeartbeatRequestCodec, HeartbeatResponseCodec)],
  [ApiKey.LeaveGroup, codecs(LeaveGroupRequestCodec, LeaveGroupResponseCodec)],
  [ApiKey.SyncGroup, codecs(SyncGroupRequestCodec, SyncGroupResponseCodec)],
  [ApiKey.DescribeGroups, codecs(DescribeGroupsRequestCodec, DescribeGroupsResponseCodec)],
  [ApiKey.ListGroups, codecs(ListGroupsRequestCodec, ListGroupsResponseCodec)],
  [ApiKey.SaslHandshake, codecs(SaslHandshakeRequestCodec, SaslHandshakeResponseCodec)],
  [ApiKey.ApiVersions, codecs(ApiVersionsRequestCodec, ApiVersionsResponseCodec)],
  [ApiKey.CreateTopics, codecs(CreateTopicsRequestCodec, CreateTopicsResponseCodec)],
  [ApiKey.DeleteTopics, codecs(DeleteTopicsRequestCodec, DeleteTopicsResponseCodec)],
  [ApiKey.DeleteRecords, codecs(DeleteRecordsRequestCodec, DeleteRecordsResponseCodec)],
  [ApiKey.InitProducerId, codecs(InitProducerIdRequestCodec, InitProducerIdResponseCodec)],
  [ApiKey.DescribeConfigs, codecs(DescribeConfigsRequestCodec, DescribeConfigsResponseCodec)],
  [ApiKey.AlterConfigs, codecs(AlterConfigsRequestCodec, AlterConfigsResponseCodec)],
  [ApiKey.SaslAuthenticate, codecs(SaslAuthenticateRequestCodec, SaslAuthenticateResponseCodec)],
  [ApiKey.CreatePartitions, codecs(CreatePartitionsRequestCodec, CreatePartitionsResponseCodec)],
  [ApiKey.DeleteGroups, codecs(DeleteGroupsRequestCodec, DeleteGroupsResponseCodec)],
  [ApiKey.IncrementalAlterConfigs, codecs(IncrementalAlterConfigsRequestCodec, IncrementalAlterConfigsResponseCodec)],
  [ApiKey.DescribeCluster, codecs(DescribeClusterRequestCodec, DescribeClusterResponseCodec)],
]);

/** Request decoding and response encoding for the broker's APIs. */
export const BROKER_FRAMES: Frames = framesFor((apiKey) => BROKER_CODECS.get(apiKey));
