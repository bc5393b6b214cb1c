// Bundles the `synod` command into one ES module, dist/bin/synod.mjs, after `tsc` has built dist/.
//
// Why: a node loading ~180 separate ES modules plus the CommonJS trees of its dependencies spent
// ≈250 ms resolving, reading and linking files before it did anything (bench/kafka-fetch's cold
// start). One file removes that cost; the modules in dist/src stay the library's entry points
// (startNode, startTestCluster) and what the in-process tests import. Packages with native addons
// stay external: they load their .node binaries relative to their own folders.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const NATIVE = ["@node-rs/crc32", "snappy", "lz4-napi", "zstd-napi"];

await build({
  entryPoints: [join(root, "dist/src/cli/main.js")],
  outfile: join(root, "dist/bin/synod.mjs"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: NATIVE,
  sourcemap: "linked",
  // CommonJS dependencies bundled into an ES module still call require() for node's built-ins.
  banner: { js: 'import { createRequire as __synodCreateRequire } from "node:module"; const require = __synodCreateRequire(import.meta.url);' },
  logLevel: "warning",
});
