// One handler per Kafka API, registered by API key (the layout of franz-go's kfake and of
// Kafka's own KafkaApis). A handler receives the decoded request body and returns the response
// body for the same version, or null when the protocol sends no response (Produce with acks=0).
import type { Logger } from "../../util/logger.js";
import type { FramedConnection } from "../../util/framed-server.js";
import type { KafkaBackend } from "../backend.js";
import { ApiKey } from "../api-versions.js";
import { handleProduce } from "./produce.js";
import { handleFetch } from "./fetch.js";
import { handleListOffsets } from "./list-offsets.js";
import { handleMetadata } from "./metadata.js";
import { handleOffsetCommit } from "./offset-commit.js";
import { handleOffsetFetch } from "./offset-fetch.js";
import { handleFindCoordinator } from "./find-coordinator.js";
import { handleJoinGroup } from "./join-group.js";
import { handleHeartbeat } from "./heartbeat.js";
import { handleLeaveGroup } from "./leave-group.js";
import { handleSyncGroup } from "./sync-group.js";
import { handleDescribeGroups } from "./describe-groups.js";
import { handleListGroups } from "./list-groups.js";
import { handleSaslHandshake } from "./sasl-handshake.js";
import { handleApiVersions } from "./api-versions.js";
import { handleCreateTopics } from "./create-topics.js";
import { handleDeleteTopics } from "./delete-topics.js";
import { handleDeleteRecords } from "./delete-records.js";
import { handleInitProducerId } from "./init-producer-id.js";
import { handleDescribeConfigs } from "./describe-configs.js";
import { handleAlterConfigs } from "./alter-configs.js";
import { handleSaslAuthenticate } from "./sasl-authenticate.js";
import { handleCreatePartitions } from "./create-partitions.js";
import { handleDeleteGroups } from "./delete-groups.js";
import { handleIncrementalAlterConfigs } from "./incremental-alter-configs.js";
import { handleDescribeCluster } from "./describe-cluster.js";

/** Per-connection protocol state. */
export interface ConnectionState {
  authenticated: boolean;
  saslMechanism: string | undefined;
  /** SaslHandshake v0: the next frame is a bare SASL token, not a Kafka request. */
  saslV0TokenExpected: boolean;
  principal: string | undefined;
  /** Bad input is logged once per connection. */
  loggedBadInput: boolean;
}

export interface HandlerContext {
  backend: KafkaBackend;
  logger: Logger;
  state: ConnectionState;
  connection: FramedConnection;
  apiVersion: number;
  clientId: string;
  clientHost: string;
  nowMs: () => number;
}

// Handlers are typed by their own request/response; the registry erases that to dispatch.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Handler = (context: HandlerContext, body: any) => Promise<unknown>;

export const HANDLERS: ReadonlyMap<number, Handler> = new Map<number, Handler>([
  [ApiKey.Produce, handleProduce],
  [ApiKey.Fetch, handleFetch],
  [ApiKey.ListOffsets, handleListOffsets],
  [ApiKey.Metadata, handleMetadata],
  [ApiKey.OffsetCommit, handleOffsetCommit],
  [ApiKey.OffsetFetch, handleOffsetFetch],
  [ApiKey.FindCoordinator, handleFindCoordinator],
  [ApiKey.JoinGroup, handleJoinGroup],
  [ApiKey.Heartbeat, handleHeartbeat],
  [ApiKey.LeaveGroup, handleLeaveGroup],
  [ApiKey.SyncGroup, handleSyncGroup],
  [ApiKey.DescribeGroups, handleDescribeGroups],
  [ApiKey.ListGroups, handleListGroups],
  [ApiKey.SaslHandshake, handleSaslHandshake],
  [ApiKey.ApiVersions, handleApiVersions],
  [ApiKey.CreateTopics, handleCreateTopics],
  [ApiKey.DeleteTopics, handleDeleteTopics],
  [ApiKey.DeleteRecords, handleDeleteRecords],
  [ApiKey.InitProducerId, handleInitProducerId],
  [ApiKey.DescribeConfigs, handleDescribeConfigs],
  [ApiKey.AlterConfigs, handleAlterConfigs],
  [ApiKey.SaslAuthenticate, handleSaslAuthenticate],
  [ApiKey.CreatePartitions, handleCreatePartitions],
  [ApiKey.DeleteGroups, handleDeleteGroups],
  [ApiKey.IncrementalAlterConfigs, handleIncrementalAlterConfigs],
  [ApiKey.DescribeCluster, handleDescribeCluster],
]);
