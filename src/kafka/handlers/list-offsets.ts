// ListOffsets (2), v0–3: -1 = latest (the high watermark, or the last stable offset under
// read_committed), -2 = earliest (the log start), otherwise the first offset whose timestamp is
// >= the given one (the storage engine's time index). v0 answers with an array of offsets.
import type { ListOffsetsRequest } from "../protocol/generated/list-offsets-request.js";
import type { ListOffsetsResponse, ListOffsetsPartitionResponse } from "../protocol/generated/list-offsets-response.js";
import type { HandlerContext } from "./index.js";

export async function handleListOffsets(context: HandlerContext, request: ListOffsetsRequest): Promise<ListOffsetsResponse> {
  const v = context.apiVersion;
  const isolationLevel = request.isolationLevel ?? 0;
  const topics = await Promise.all(
    request.topics.map(async (topic) => ({
      name: topic.name,
      partitions: await Promise.all(
        topic.partitions.map(async (p): Promise<ListOffsetsPartitionResponse> => {
          const result = await context.backend.listOffset(topic.name, p.partitionIndex, Number(p.timestamp), isolationLevel);
          if (v === 0) {
            const offsets = result.errorCode === 0 && result.offset >= 0 && (p.maxNumOffsets ?? 1) > 0 ? [BigInt(result.offset)] : [];
            return { partitionIndex: p.partitionIndex, errorCode: result.errorCode, oldStyleOffsets: offsets };
          }
          return { partitionIndex: p.partitionIndex, errorCode: result.errorCode, timestamp: BigInt(result.timestamp), offset: BigInt(result.offset) };
        }),
      ),
    })),
  );
  const response: ListOffsetsResponse = { topics };
  if (v >= 2) response.throttleTimeMs = 0;
  return response;
}
