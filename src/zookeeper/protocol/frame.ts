// ZooKeeper framing: every frame is an int32 big-endian length, then that many bytes. The
// splitting itself is the shared `LengthPrefixedReader` (src/util/frame-reader.ts, used by the
// framed TCP server): it checks each length against the maximum BEFORE allocating (ZooKeeper's
// "Len error": negative or above jute.maxbuffer closes the connection) and joins chunks once per
// frame. This file adds what is ZooKeeper-specific: the default maximum, the four-letter-word
// sniffing the first bytes of a connection need, and prefix helpers for writing frames.
import { LengthPrefixedReader } from "../../util/frame-reader.js";
import type { JuteWriter } from "../jute/runtime.js";
import { PACKET_BYTES_MAX_DEFAULT } from "./constants.js";

/** A frame reader with ZooKeeper's limits: bodies of 0 … packetBytesMax bytes (default 0xfffff). */
export function createFrameReader(packetBytesMax: number = PACKET_BYTES_MAX_DEFAULT): LengthPrefixedReader {
  return new LengthPrefixedReader(packetBytesMax, 0);
}

/** The four-letter words ZooKeeper 3.8 knows (`FourLetterCommands`); whether each runs is the whitelist's call. */
export const FOUR_LETTER_WORDS: ReadonlySet<string> = new Set([
  "conf",
  "cons",
  "crst",
  "dirs",
  "dump",
  "envi",
  "gtmk",
  "hash",
  "isro",
  "mntr",
  "ruok",
  "srst",
  "srvr",
  "stat",
  "stmk",
  "wchc",
  "wchp",
  "wchs",
]);

/**
 * The four-letter word a connection's first 4 bytes spell, if any. ZooKeeper reads them as the
 * first frame's length and checks that int against the known commands before treating it as a
 * length; the connection handler must do the same before feeding bytes to the frame reader
 * (every command word, read as a length, is far above any sane packet maximum).
 */
export function fourLetterWordOf(firstBytes: Uint8Array): string | undefined {
  if (firstBytes.length < 4) return undefined;
  const word = String.fromCharCode(firstBytes[0], firstBytes[1], firstBytes[2], firstBytes[3]);
  return FOUR_LETTER_WORDS.has(word) ? word : undefined;
}

/** Starts a length-prefixed frame in `w`; pass the result to endFrame() after writing the body. */
export function beginFrame(w: JuteWriter): number {
  return w.reserveInt();
}

/** Patches the frame's length prefix with the number of body bytes written since beginFrame(). */
export function endFrame(w: JuteWriter, at: number): void {
  w.patchInt(at, w.length - at - 4);
}

/** A copy of `body` with its int32 length prefix (for raw sockets; the framed server adds its own). */
export function lengthPrefixed(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeInt32BE(body.length, 0);
  out.set(body, 4);
  return out;
}
