// Retriability and messages of Kafka's error codes, which the schema folder's error-code TSV does
// not carry. Extracted once from Apache Kafka's Errors.java and its exception classes (retriable =
// the exception extends RetriableException) at apache/kafka 1eb7644 (the commit of the schemas);
// Apache License 2.0, see NOTICE. The generator fails if the TSV gains a code missing here.
import type { ErrorDetail } from "./kafka-gen/emit-tables.js";

export const ERROR_DETAILS: ReadonlyMap<number, ErrorDetail> = new Map<number, ErrorDetail>([
  [-1, { retriable: false, message: "The server experienced an unexpected error when processing the request." }], // UNKNOWN_SERVER_ERROR
  [0, { retriable: false, message: "" }], // NONE
  [1, { retriable: false, message: "The requested offset is not within the range of offsets maintained by the server." }], // OFFSET_OUT_OF_RANGE
  [2, { retriable: true, message: "This message has failed its CRC checksum, exceeds the valid size, has a null key for a compacted topic, or is otherwise corrupt." }], // CORRUPT_MESSAGE
  [3, { retriable: true, message: "This server does not host this topic-partition." }], // UNKNOWN_TOPIC_OR_PARTITION
  [4, { retriable: false, message: "The requested fetch size is invalid." }], // INVALID_FETCH_SIZE
  [5, { retriable: true, message: "There is no leader for this topic-partition as we are in the middle of a leadership election." }], // LEADER_NOT_AVAILABLE
  [6, { retriable: true, message: "For requests intended only for the leader, this error indicates that the broker is not the current leader. For requests intended for any replica, this error indicates that the broker is not a replica of the topic partition." }], // NOT_LEADER_OR_FOLLOWER
  [7, { retriable: true, message: "The request timed out." }], // REQUEST_TIMED_OUT
  [8, { retriable: false, message: "The broker is not available." }], // BROKER_NOT_AVAILABLE
  [9, { retriable: true, message: "The replica is not available for the requested topic-partition. Produce/Fetch requests and other requests intended only for the leader or follower return NOT_LEADER_OR_FOLLOWER if the broker is not a replica of the topic-partition." }], // REPLICA_NOT_AVAILABLE
  [10, { retriable: false, message: "The request included a message larger than the max message size the server will accept." }], // MESSAGE_TOO_LARGE
  [11, { retriable: false, message: "The controller moved to another broker." }], // STALE_CONTROLLER_EPOCH
  [12, { retriable: false, message: "The metadata field of the offset request was too large." }], // OFFSET_METADATA_TOO_LARGE
  [13, { retriable: true, message: "The server disconnected before a response was received." }], // NETWORK_EXCEPTION
  [14, { retriable: true, message: "The coordinator is loading and hence can't process requests." }], // COORDINATOR_LOAD_IN_PROGRESS
  [15, { retriable: true, message: "The coordinator is not available." }], // COORDINATOR_NOT_AVAILABLE
  [16, { retriable: true, message: "This is not the correct coordinator." }], // NOT_COORDINATOR
  [17, { retriable: false, message: "The request attempted to perform an operation on an invalid topic." }], // INVALID_TOPIC_EXCEPTION
  [18, { retriable: false, message: "The request included message batch larger than the configured segment size on the server." }], // RECORD_LIST_TOO_LARGE
  [19, { retriable: true, message: "Messages are rejected since there are fewer in-sync replicas than required." }], // NOT_ENOUGH_REPLICAS
  [20, { retriable: true, message: "Messages are written to the log, but to fewer in-sync replicas than required." }], // NOT_ENOUGH_REPLICAS_AFTER_APPEND
  [21, { retriable: false, message: "Produce request specified an invalid value for required acks." }], // INVALID_REQUIRED_ACKS
  [22, { retriable: false, message: "Specified group generation id is not valid." }], // ILLEGAL_GENERATION
  [23, { retriable: false, message: "The group member's supported protocols are incompatible with those of existing members or first group member tried to join with empty protocol type or empty protocol list." }], // INCONSISTENT_GROUP_PROTOCOL
  [24, { retriable: false, message: "The configured groupId is invalid." }], // INVALID_GROUP_ID
  [25, { retriable: false, message: "The coordinator is not aware of this member." }], // UNKNOWN_MEMBER_ID
  [26, { retriable: false, message: "The session timeout is not within the range allowed by the broker (as configured by group.min.session.timeout.ms and group.max.session.timeout.ms)." }], // INVALID_SESSION_TIMEOUT
  [27, { retriable: false, message: "The group is rebalancing, so a rejoin is needed." }], // REBALANCE_IN_PROGRESS
  [28, { retriable: false, message: "The committing offset data size is not valid." }], // INVALID_COMMIT_OFFSET_SIZE
  [29, { retriable: false, message: "Topic authorization failed." }], // TOPIC_AUTHORIZATION_FAILED
  [30, { retriable: false, message: "Group authorization failed." }], // GROUP_AUTHORIZATION_FAILED
  [31, { retriable: false, message: "Cluster authorization failed." }], // CLUSTER_AUTHORIZATION_FAILED
  [32, { retriable: false, message: "The timestamp of the message is out of acceptable range." }], // INVALID_TIMESTAMP
  [33, { retriable: false, message: "The broker does not support the requested SASL mechanism." }], // UNSUPPORTED_SASL_MECHANISM
  [34, { retriable: false, message: "Request is not valid given the current SASL state." }], // ILLEGAL_SASL_STATE
  [35, { retriable: false, message: "The version of API is not supported." }], // UNSUPPORTED_VERSION
  [36, { retriable: false, message: "Topic with this name already exists." }], // TOPIC_ALREADY_EXISTS
  [37, { retriable: false, message: "Number of partitions is below 1." }], // INVALID_PARTITIONS
  [38, { retriable: false, message: "Replication factor is below 1 or larger than the number of available brokers." }], // INVALID_REPLICATION_FACTOR
  [39, { retriable: false, message: "Replica assignment is invalid." }], // INVALID_REPLICA_ASSIGNMENT
  [40, { retriable: false, message: "Configuration is invalid." }], // INVALID_CONFIG
  [41, { retriable: true, message: "This is not the correct controller for this cluster." }], // NOT_CONTROLLER
  [42, { retriable: false, message: "This most likely occurs because of a request being malformed by the client library or the message was sent to an incompatible broker. See the broker logs for more details." }], // INVALID_REQUEST
  [43, { retriable: false, message: "The message format version on the broker does not support the request." }], // UNSUPPORTED_FOR_MESSAGE_FORMAT
  [44, { retriable: false, message: "Request parameters do not satisfy the configured policy." }], // POLICY_VIOLATION
  [45, { retriable: false, message: "The broker received an out of order sequence number." }], // OUT_OF_ORDER_SEQUENCE_NUMBER
  [46, { retriable: false, message: "The broker received a duplicate sequence number." }], // DUPLICATE_SEQUENCE_NUMBER
  [47, { retriable: false, message: "Producer attempted to produce with an old epoch." }], // INVALID_PRODUCER_EPOCH
  [48, { retriable: false, message: "The producer attempted a transactional operation in an invalid state." }], // INVALID_TXN_STATE
  [49, { retriable: false, message: "The producer attempted to use a producer id which is not currently assigned to its transactional id." }], // INVALID_PRODUCER_ID_MAPPING
  [50, { retriable: false, message: "The transaction timeout is larger than the maximum value allowed by the broker (as configured by transaction.max.timeout.ms)." }], // INVALID_TRANSACTION_TIMEOUT
  [51, { retriable: true, message: "The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing." }], // CONCURRENT_TRANSACTIONS
  [52, { retriable: false, message: "Indicates that the transaction coordinator sending a WriteTxnMarker is no longer the current coordinator for a given producer." }], // TRANSACTION_COORDINATOR_FENCED
  [53, { retriable: false, message: "Transactional Id authorization failed." }], // TRANSACTIONAL_ID_AUTHORIZATION_FAILED
  [54, { retriable: false, message: "Security features are disabled." }], // SECURITY_DISABLED
  [55, { retriable: false, message: "The broker did not attempt to execute this operation. This may happen for batched RPCs where some operations in the batch failed, causing the broker to respond without trying the rest." }], // OPERATION_NOT_ATTEMPTED
  [56, { retriable: true, message: "Disk error when trying to access log file on the disk." }], // KAFKA_STORAGE_ERROR
  [57, { retriable: false, message: "The user-specified log directory is not found in the broker config." }], // LOG_DIR_NOT_FOUND
  [58, { retriable: false, message: "SASL Authentication failed." }], // SASL_AUTHENTICATION_FAILED
  [59, { retriable: false, message: "This exception is raised by the broker if it could not locate the producer metadata associated with the producerId in question. This could happen if, for instance, the producer's records were deleted because their retention time had elapsed. Once the last records of the producerId are removed, the producer's metadata is removed from the broker, and future appends by the producer will return this exception." }], // UNKNOWN_PRODUCER_ID
  [60, { retriable: false, message: "A partition reassignment is in progress." }], // REASSIGNMENT_IN_PROGRESS
  [61, { retriable: false, message: "Delegation Token feature is not enabled." }], // DELEGATION_TOKEN_AUTH_DISABLED
  [62, { retriable: false, message: "Delegation Token is not found on server." }], // DELEGATION_TOKEN_NOT_FOUND
  [63, { retriable: false, message: "Specified Principal is not valid Owner/Renewer." }], // DELEGATION_TOKEN_OWNER_MISMATCH
  [64, { retriable: false, message: "Delegation Token requests are not allowed on PLAINTEXT/1-way SSL channels and on delegation token authenticated channels." }], // DELEGATION_TOKEN_REQUEST_NOT_ALLOWED
  [65, { retriable: false, message: "Delegation Token authorization failed." }], // DELEGATION_TOKEN_AUTHORIZATION_FAILED
  [66, { retriable: false, message: "Delegation Token is expired." }], // DELEGATION_TOKEN_EXPIRED
  [67, { retriable: false, message: "Supplied principalType is not supported." }], // INVALID_PRINCIPAL_TYPE
  [68, { retriable: false, message: "The group is not empty." }], // NON_EMPTY_GROUP
  [69, { retriable: false, message: "The group id does not exist." }], // GROUP_ID_NOT_FOUND
  [70, { retriable: true, message: "The fetch session ID was not found." }], // FETCH_SESSION_ID_NOT_FOUND
  [71, { retriable: true, message: "The fetch session epoch is invalid." }], // INVALID_FETCH_SESSION_EPOCH
  [72, { retriable: true, message: "There is no listener on the leader broker that matches the listener on which metadata request was processed." }], // LISTENER_NOT_FOUND
  [73, { retriable: false, message: "Topic deletion is disabled." }], // TOPIC_DELETION_DISABLED
  [74, { retriable: true, message: "The leader epoch in the request is older than the epoch on the broker." }], // FENCED_LEADER_EPOCH
  [75, { retriable: true, message: "The leader epoch in the request is newer than the epoch on the broker." }], // UNKNOWN_LEADER_EPOCH
  [76, { retriable: false, message: "The requesting client does not support the compression type of given partition." }], // UNSUPPORTED_COMPRESSION_TYPE
  [77, { retriable: false, message: "Broker epoch has changed." }], // STALE_BROKER_EPOCH
  [78, { retriable: true, message: "The leader high watermark has not caught up from a recent leader election so the offsets cannot be guaranteed to be monotonically increasing." }], // OFFSET_NOT_AVAILABLE
  [79, { retriable: false, message: "The group member needs to have a valid member id before actually entering a consumer group." }], // MEMBER_ID_REQUIRED
  [80, { retriable: true, message: "The preferred leader was not available." }], // PREFERRED_LEADER_NOT_AVAILABLE
  [81, { retriable: false, message: "The consumer group has reached its max size." }], // GROUP_MAX_SIZE_REACHED
  [82, { retriable: false, message: "The broker rejected this static consumer since another consumer with the same group.instance.id has registered with a different member.id." }], // FENCED_INSTANCE_ID
  [83, { retriable: true, message: "Eligible topic partition leaders are not available." }], // ELIGIBLE_LEADERS_NOT_AVAILABLE
  [84, { retriable: true, message: "Leader election not needed for topic partition." }], // ELECTION_NOT_NEEDED
  [85, { retriable: false, message: "No partition reassignment is in progress." }], // NO_REASSIGNMENT_IN_PROGRESS
  [86, { retriable: false, message: "Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it." }], // GROUP_SUBSCRIBED_TO_TOPIC
  [87, { retriable: false, message: "This record has failed the validation on broker and hence will be rejected." }], // INVALID_RECORD
  [88, { retriable: true, message: "There are unstable offsets that need to be cleared." }], // UNSTABLE_OFFSET_COMMIT
  [89, { retriable: true, message: "The throttling quota has been exceeded." }], // THROTTLING_QUOTA_EXCEEDED
  [90, { retriable: false, message: "There is a newer producer with the same transactionalId which fences the current one." }], // PRODUCER_FENCED
  [91, { retriable: false, message: "A request illegally referred to a resource that does not exist." }], // RESOURCE_NOT_FOUND
  [92, { retriable: false, message: "A request illegally referred to the same resource twice." }], // DUPLICATE_RESOURCE
  [93, { retriable: false, message: "Requested credential would not meet criteria for acceptability." }], // UNACCEPTABLE_CREDENTIAL
  [94, { retriable: false, message: "Indicates that the either the sender or recipient of a voter-only request is not one of the expected voters." }], // INCONSISTENT_VOTER_SET
  [95, { retriable: false, message: "The given update version was invalid." }], // INVALID_UPDATE_VERSION
  [96, { retriable: false, message: "Unable to update finalized features due to an unexpected server error." }], // FEATURE_UPDATE_FAILED
  [97, { retriable: false, message: "Request principal deserialization failed during forwarding. This indicates an internal error on the broker cluster security setup." }], // PRINCIPAL_DESERIALIZATION_FAILURE
  [98, { retriable: false, message: "Requested snapshot was not found." }], // SNAPSHOT_NOT_FOUND
  [100, { retriable: true, message: "This server does not host this topic ID." }], // UNKNOWN_TOPIC_ID
  [101, { retriable: false, message: "This broker ID is already in use." }], // DUPLICATE_BROKER_REGISTRATION
  [102, { retriable: false, message: "The given broker ID was not registered." }], // BROKER_ID_NOT_REGISTERED
  [103, { retriable: true, message: "The log's topic ID did not match the topic ID in the request." }], // INCONSISTENT_TOPIC_ID
  [104, { retriable: false, message: "The clusterId in the request does not match that found on the server." }], // INCONSISTENT_CLUSTER_ID
  [105, { retriable: false, message: "The transactionalId could not be found." }], // TRANSACTIONAL_ID_NOT_FOUND
  [106, { retriable: true, message: "The fetch session encountered inconsistent topic ID usage." }], // FETCH_SESSION_TOPIC_ID_ERROR
  [107, { retriable: false, message: "The new ISR contains at least one ineligible replica." }], // INELIGIBLE_REPLICA
  [108, { retriable: false, message: "The AlterPartition request successfully updated the partition state but the leader has changed." }], // NEW_LEADER_ELECTED
  [109, { retriable: false, message: "The requested offset is moved to tiered storage." }], // OFFSET_MOVED_TO_TIERED_STORAGE
  [110, { retriable: false, message: "The member epoch is fenced by the group coordinator. The member must abandon all its partitions and rejoin." }], // FENCED_MEMBER_EPOCH
  [111, { retriable: false, message: "The instance ID is still used by another member in the consumer group. That member must leave first." }], // UNRELEASED_INSTANCE_ID
  [112, { retriable: false, message: "The assignor or its version range is not supported by the consumer group." }], // UNSUPPORTED_ASSIGNOR
  [113, { retriable: false, message: "The member epoch is stale. The member must retry after receiving its updated member epoch via the ConsumerGroupHeartbeat API." }], // STALE_MEMBER_EPOCH
  [114, { retriable: false, message: "The request was sent to an endpoint of the wrong type." }], // MISMATCHED_ENDPOINT_TYPE
  [115, { retriable: false, message: "This endpoint type is not supported yet." }], // UNSUPPORTED_ENDPOINT_TYPE
  [116, { retriable: false, message: "This controller ID is not known." }], // UNKNOWN_CONTROLLER_ID
  [117, { retriable: false, message: "Client sent a push telemetry request with an invalid or outdated subscription ID." }], // UNKNOWN_SUBSCRIPTION_ID
  [118, { retriable: false, message: "Client sent a push telemetry request larger than the maximum size the broker will accept." }], // TELEMETRY_TOO_LARGE
  [119, { retriable: false, message: "The controller has considered the broker registration to be invalid." }], // INVALID_REGISTRATION
  [120, { retriable: false, message: "The server encountered an error with the transaction. The client can abort the transaction to continue using this transactional ID." }], // TRANSACTION_ABORTABLE
  [121, { retriable: false, message: "The record state is invalid. The acknowledgement of delivery could not be completed." }], // INVALID_RECORD_STATE
  [122, { retriable: true, message: "The share session was not found." }], // SHARE_SESSION_NOT_FOUND
  [123, { retriable: true, message: "The share session epoch is invalid." }], // INVALID_SHARE_SESSION_EPOCH
  [124, { retriable: false, message: "The share coordinator rejected the request because the share-group state epoch did not match." }], // FENCED_STATE_EPOCH
  [125, { retriable: false, message: "The voter key doesn't match the receiving replica's key." }], // INVALID_VOTER_KEY
  [126, { retriable: false, message: "The voter is already part of the set of voters." }], // DUPLICATE_VOTER
  [127, { retriable: false, message: "The voter is not part of the set of voters." }], // VOTER_NOT_FOUND
  [128, { retriable: false, message: "The regular expression is not valid." }], // INVALID_REGULAR_EXPRESSION
]);
