// Coordination recipes on ZooKeeper semantics, for synod's TypeScript users (and any ZooKeeper).
export { Lock, ReadWriteLock, type AcquireOptions, type LockOptions } from "./lock.js";
export { Lease, type LossPolicy } from "./lease.js";
export { Semaphore } from "./semaphore.js";
export { LeaderElection, type Leadership } from "./election.js";
export { Barrier, DoubleBarrier } from "./barrier.js";
export { DistributedQueue } from "./queue.js";
export { Counter } from "./counter.js";
export { LeaseLostError, RecipeTimeoutError, type LeaseLossReason } from "./errors.js";
