// synod's public API.
export { startNode, type StartNodeOptions, type SynodNode } from "./synod.js";
export { resolveConfig, defaultConfig, type NodeConfig, type FsyncPolicy } from "./node/config.js";
