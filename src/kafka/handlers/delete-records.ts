// DeleteRecords (21), v0–1: moves the log start offset (-1 = the high watermark) through the
// partition's group; old segments are then removed in the background.
import type { DeleteRecordsRequest } from "../protocol/generated/delete-records-request.js";
import type { DeleteRecordsResponse } from "../protocol/generated/delete-records-response.js";
import type { HandlerContext } from "./index.js";

export async function handleDeleteRecords(context: HandlerContext, request: DeleteRecordsRequest): Promise<DeleteRecordsResponse> {
  const topics = await Promise.all(
    request.topics.map(async (t) => ({
      name: t.name,
      partitions: await Promise.all(
        t.partitions.map(async (p) => {
          const result = await context.backend.deleteRecords(t.name, p.partitionIndex, Number(p.offset), request.timeoutMs);
          return { partitionIndex: p.partitionIndex, lowWatermark: BigInt(result.lowWatermark), errorCode: result.errorCode };
        }),
      ),
    })),
  );
  return { throttleTimeMs: 0, topics };
}
