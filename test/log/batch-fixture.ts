// Builds record batch v2 headers for state-machine tests. The records section is filler: the
// partition state machine reads only the 61-byte header (the CRC is the front-end's business).
export interface BatchSpec {
  baseOffset?: number;
  recordCount?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  attributes?: number;
  timestampMs?: number;
  fillerBytes?: number;
}

export function makeBatch(spec: BatchSpec = {}): Uint8Array {
  const recordCount = spec.recordCount ?? 1;
  const filler = spec.fillerBytes ?? 8 * recordCount;
  const bytes = new Uint8Array(61 + filler);
  const dv = new DataView(bytes.buffer);
  dv.setBigInt64(0, BigInt(spec.baseOffset ?? 0));
  dv.setInt32(8, bytes.byteLength - 12);
  dv.setInt32(12, 0);
  dv.setInt8(16, 2);
  dv.setUint32(17, 0);
  dv.setInt16(21, spec.attributes ?? 0);
  dv.setInt32(23, recordCount - 1);
  dv.setBigInt64(27, BigInt(spec.timestampMs ?? 1_700_000_000_000));
  dv.setBigInt64(35, BigInt(spec.timestampMs ?? 1_700_000_000_000));
  dv.setBigInt64(43, BigInt(spec.producerId ?? -1));
  dv.setInt16(51, spec.producerEpoch ?? -1);
  dv.setInt32(53, spec.baseSequence ?? -1);
  dv.setInt32(57, recordCount);
  return bytes;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let position = 0;
  for (const p of parts) {
    out.set(p, position);
    position += p.byteLength;
  }
  return out;
}
