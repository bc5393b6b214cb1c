// synod's public API.
export { startNode, startTestCluster, type StartNodeOptions, type SynodNode, type TestCluster, type TestClusterOptions } from "./synod.js";
export { resolveConfig, defaultConfig, type NodeConfig, type FsyncPolicy } from "./node/config.js";
export * from "./zookeeper/client/index.js";
export * from "./recipes/index.js";
