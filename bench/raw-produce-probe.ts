// The smallest Kafka client that can tell "this node accepts writes": it retries a connection
// and an acks=all Produce of one record until it is acknowledged (cold-start measurement).
import { createConnection } from "node:net";
import { LengthPrefixedReader } from "../src/util/frame-reader.js";
import { decodeResponse, encodeRequest } from "../src/kafka/protocol/request.js";
import { encodeRecordBatch } from "../src/kafka/records/record-batch.js";
import type { ProduceResponse } from "../src/kafka/protocol/generated/produce-response.js";

export const RawProduceProbe = {
  async produceOnce(bootstrap: string, topic: string, timeoutMs = 30_000): Promise<void> {
    const [host, port] = bootstrap.split(":");
    const deadline = performance.now() + timeoutMs;
    const records = encodeRecordBatch({ baseTimestamp: BigInt(Date.now()), records: [{ attributes: 0, timestampDelta: 0, offsetDelta: 0, key: null, value: Buffer.from("probe"), headers: [] }] });
    while (performance.now() < deadline) {
      const ok = await new Promise<boolean>((resolve) => {
        const socket = createConnection({ host, port: Number(port) });
        const reader = new LengthPrefixedReader(1 << 20);
        socket.on("error", () => resolve(false));
        socket.on("connect", () => socket.write(encodeRequest(0, 7, 1, "probe", { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] })));
        socket.on("data", (chunk: Buffer) => {
          for (const frame of reader.push(chunk)) {
            const body = decodeResponse(0, 7, frame).body as ProduceResponse;
            socket.destroy();
            resolve(body.responses[0].partitionResponses[0].errorCode === 0);
          }
        });
      });
      if (ok) return;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    throw new Error(`no acknowledged produce within ${timeoutMs} ms`);
  },
};
