// DescribeCluster (60), v0: the nodes, the cluster id and the controller (metadata leader).
import type { DescribeClusterResponse } from "../protocol/generated/describe-cluster-response.js";
import { ErrorCode } from "../protocol/generated/errors.js";
import type { HandlerContext } from "./index.js";

export async function handleDescribeCluster(context: HandlerContext): Promise<DescribeClusterResponse> {
  const cluster = context.backend.cluster;
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    clusterId: cluster.clusterId,
    controllerId: cluster.nodes().some((n) => n.nodeId === cluster.controllerId()) ? cluster.controllerId() : -1,
    brokers: cluster.nodes().flatMap((n) => {
      const address = cluster.advertised(n.nodeId);
      return address ? [{ brokerId: n.nodeId, host: address.host, port: address.port, rack: n.rack }] : [];
    }),
    clusterAuthorizedOperations: -2147483648,
  };
}
