#!/usr/bin/env node
// Builds a Switchyard plugin written in JavaScript or TypeScript into a
// WebAssembly component for one world of switchyard:plugin.
//
//   switchyard-componentize --world transform [--wit DIR] [--backend qjs|starlingmonkey] -o OUT.wasm SOURCE
//
// Two steps: rolldown bundles SOURCE and its imports (TypeScript types are
// stripped, not checked; `@switchyard/plugin/*` resolves to this SDK; the
// WIT imports `switchyard:plugin/...` stay external), then a JS engine
// compiled to wasm is pre-initialised with the bundle:
//
// - `qjs` (default): componentize-qjs (QuickJS), synchronous ABI, WASI
//   imports replaced by trapping stubs. ~1.6 MB components.
// - `starlingmonkey`: componentize-js (SpiderMonkey), without the `http`
//   and `fetch-event` features (else it imports wasi:http). ~12 MB
//   components that take seconds to compile on first load.
//
// (jco 1.35's own `componentize` command cannot read a WIT directory from
// disk: its bundled wasm-tools gets no filesystem preopens. Hence this
// script instead of `jco componentize`.)

import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const sdkDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const usage =
  "usage: switchyard-componentize --world transform|routing|auth [--wit DIR] " +
  "[--backend qjs|starlingmonkey] -o OUT.wasm SOURCE";

function die(message) {
  process.stderr.write(`switchyard-componentize: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const opts = { wit: resolve(sdkDir, "../../wit"), backend: "qjs" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => argv[++i] ?? die(`${a} needs a value\n${usage}`);
    if (a === "--world" || a === "-n") opts.world = value();
    else if (a === "--wit" || a === "-w") opts.wit = resolve(value());
    else if (a === "--backend") opts.backend = value();
    else if (a === "-o" || a === "--out") opts.out = resolve(value());
    else if (a.startsWith("-")) die(`unknown option ${a}\n${usage}`);
    else if (opts.source) die(`one SOURCE only\n${usage}`);
    else opts.source = resolve(a);
  }
  if (!opts.world || !opts.out || !opts.source) die(usage);
  if (!["transform", "routing", "auth"].includes(opts.world)) die(`unknown world ${opts.world}`);
  if (!["qjs", "starlingmonkey"].includes(opts.backend)) die(`unknown backend ${opts.backend}`);
  return opts;
}

async function importTool(name) {
  try {
    return await import(name);
  } catch (e) {
    die(`cannot load ${name} (${e.code ?? e.message}): run 'npm ci' in ${sdkDir} ` +
      "(scripts/build-plugins-js.sh does it)");
  }
}

/** One ES module with every import but the WIT ones inlined. */
async function bundle(source, outFile) {
  const { rolldown } = await importTool("rolldown");
  const sdk = {
    name: "switchyard-sdk",
    resolveId(id) {
      if (id.startsWith("@switchyard/plugin/")) {
        return join(sdkDir, "src", `${id.slice("@switchyard/plugin/".length)}.js`);
      }
      return null;
    },
  };
  const build = await rolldown({
    input: source,
    external: (id) => id.startsWith("switchyard:") || id.startsWith("wasi:"),
    plugins: [sdk],
    logLevel: "warn",
  });
  await build.write({ file: outFile, format: "esm" });
  await build.close();
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const work = mkdtempSync(join(tmpdir(), "switchyard-componentize-"));
  try {
    const bundled = join(work, "plugin.js");
    await bundle(opts.source, bundled);
    if (opts.backend === "qjs") {
      // Resolved like an import, so it is found where npm put it (this
      // SDK's node_modules, or a plugin project's that depends on the SDK).
      let bin;
      try {
        const pkg = createRequire(import.meta.url).resolve("componentize-qjs/package.json");
        bin = join(dirname(pkg), "bin", "componentize-qjs");
      } catch (e) {
        die(`cannot find componentize-qjs (${e.code}): run 'npm ci' in ${sdkDir}`);
      }
      const args = ["--wit", opts.wit, "--js", bundled, "--world", opts.world, "--sync", "--stub-wasi", "-o", opts.out];
      const run = spawnSync(bin, args, { stdio: "inherit" });
      if (run.error) die(`cannot run ${bin} (${run.error.code}): run 'npm ci' in ${sdkDir}`);
      if (run.status !== 0) die(`componentize-qjs failed (exit ${run.status})`);
    } else {
      const { componentize } = await importTool("@bytecodealliance/componentize-js");
      const { component } = await componentize({
        sourcePath: bundled,
        witPath: opts.wit,
        worldName: opts.world,
        disableFeatures: ["http", "fetch-event"],
      });
      writeFileSync(opts.out, component);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => die(e?.stack ?? String(e)));
