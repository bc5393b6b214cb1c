// Counter: a shared integer updated by compare-and-set on the node's version (kazoo's Counter,
// Curator's DistributedAtomicLong in its optimistic mode). The value is the node's data as a
// decimal string, readable by any ZooKeeper tool.
//
// add() reads value and version, writes value+delta with `version` as the condition and retries
// on BadVersion (someone else got there first). A connection loss makes a plain conditional write
// ambiguous — it may have applied — and a blind retry would add twice, so the write goes in a
// transaction with an ephemeral receipt (multiOnce): after a loss the receipt says whether our
// add applied. Exactly once, except when the session expires in that window (the receipt dies
// with it): then add() rejects with SessionExpiredError and the add may or may not have happened.
import { BadVersionError, MultiError, NodeExistsError, type ZooKeeperClient } from "../zookeeper/client/index.js";
import { assertRecipePath, ensurePath, multiOnce, newGuid, retrying } from "./common.js";

const RECEIPT_PREFIX = "receipt-";

function parseValue(data: Buffer, path: string): number {
  const text = data.toString("utf8").trim();
  const value = text === "" ? 0 : Number(text);
  if (!Number.isSafeInteger(value)) throw new TypeError(`counter ${path} holds ${JSON.stringify(text)}, not an integer`);
  return value;
}

export class Counter {
  constructor(
    private readonly zk: ZooKeeperClient,
    readonly path: string,
    private readonly options: { initial?: number } = {},
  ) {
    assertRecipePath(path);
  }

  private async ensure(): Promise<void> {
    if (await retrying(() => this.zk.exists(this.path))) return;
    const parent = this.path.slice(0, this.path.lastIndexOf("/")) || "/";
    await ensurePath(this.zk, parent);
    try {
      await retrying(() => this.zk.create(this.path, String(this.options.initial ?? 0)));
    } catch (error) {
      if (!(error instanceof NodeExistsError)) throw error;
    }
  }

  async get(): Promise<number> {
    await this.ensure();
    return parseValue((await retrying(() => this.zk.getData(this.path))).data, this.path);
  }

  /** Adds `delta` exactly once; resolves with the value it produced. */
  async add(delta: number): Promise<number> {
    if (!Number.isSafeInteger(delta)) throw new TypeError(`delta must be a safe integer, not ${delta}`);
    await this.ensure();
    const opId = `${RECEIPT_PREFIX}${newGuid()}`;
    for (;;) {
      const { data, stat } = await retrying(() => this.zk.getData(this.path));
      const next = parseValue(data, this.path) + delta;
      if (!Number.isSafeInteger(next)) throw new RangeError(`counter ${this.path} would leave the safe integer range`);
      const outcome = await multiOnce(this.zk, [{ op: "setData", path: this.path, data: String(next), version: stat.version }], this.path, opId);
      if (outcome.applied) return next;
      if (outcome.error instanceof MultiError && outcome.error.failure instanceof BadVersionError) continue;
      throw outcome.error;
    }
  }
}
