#!/usr/bin/env node
// Turns a C plugin's core wasm module into a component of one world of
// switchyard:plugin: what `wasm-tools component embed` and `component new`
// do, with the wasm-tools that jco ships compiled to wasm, so building a C
// plugin needs no `cargo install`.
//
//   node plugins/sdk-c/bin/componentize.mjs --world transform [--wit DIR] -o OUT.wasm CORE.wasm
//
// 1. The world's component type is embedded from the WIT (the job of the
//    `<world>_component_type.o` that `wit-bindgen c` writes, which the
//    committed bindings leave out);
// 2. if the module imports WASI preview1 (the examples do not), jco's
//    preview1 reactor adapter is applied;
// 3. the component is made. The broker validates it when it loads it.
//
// jco comes from the JS SDK's toolchain (plugins/sdk-js/node_modules,
// installed by `npm ci` there; scripts/build-plugins-c.sh does it).
//
// jco's wasm-tools gets no filesystem preopens, so it cannot read a WIT
// directory ("failed to get path metadata"; see sdk-js/bin/componentize.mjs).
// The package's files are handed to it as one WIT source instead: the
// `package` line once, then each file's items. That holds for a package
// whose files have no top-level `use` and no `deps/`, like wit/; anything
// else is refused rather than guessed at.

import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const usage =
  "usage: node plugins/sdk-c/bin/componentize.mjs --world transform|routing|auth [--wit DIR] -o OUT.wasm CORE.wasm";

function die(message) {
  process.stderr.write(`componentize (C): ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const opts = { wit: resolve(here, "../../../wit") };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => argv[++i] ?? die(`${a} needs a value\n${usage}`);
    if (a === "--world") opts.world = value();
    else if (a === "--wit") opts.wit = resolve(value());
    else if (a === "-o" || a === "--out") opts.out = resolve(value());
    else if (a.startsWith("-")) die(`unknown option ${a}\n${usage}`);
    else if (opts.core) die(`one CORE.wasm only\n${usage}`);
    else opts.core = resolve(a);
  }
  if (!opts.world || !opts.out || !opts.core) die(usage);
  return opts;
}

/** jco's API (the package's main export), from the JS SDK's node_modules. */
async function loadJco() {
  const sdkJs = resolve(here, "../../sdk-js");
  try {
    const api = createRequire(join(sdkJs, "package.json")).resolve("@bytecodealliance/jco");
    return await import(pathToFileURL(api));
  } catch (e) {
    die(`cannot load jco (${e.code ?? e.message}): run 'npm ci' in ${sdkJs} ` +
      "(scripts/build-plugins-c.sh and build-plugins-js.sh do it)");
  }
}

/** The WIT package in `dir` as one source text (see the top of this file). */
function witSource(dir) {
  let pkg;
  let items = "";
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) die(`${path}: WIT dependencies (deps/) are not supported here`);
    if (!name.endsWith(".wit")) continue;
    const text = readFileSync(path, "utf8");
    const decl = text.match(/^package\s+([^;\s]+)\s*;/m);
    if (!decl) die(`${path}: no 'package' line`);
    if (pkg && decl[1] !== pkg) die(`${path}: package ${decl[1]}, other files say ${pkg}`);
    pkg = decl[1];
    if (/^use\s/m.test(text)) die(`${path}: a top-level 'use' is not supported here`);
    items += `// ${name}\n${text.replace(decl[0], "")}\n`;
  }
  if (!pkg) die(`no .wit files in ${dir}`);
  return `package ${pkg};\n${items}`;
}

const opts = parseArgs(process.argv.slice(2));
const jco = await loadJco();
const core = readFileSync(opts.core);

let imports;
try {
  imports = WebAssembly.Module.imports(new WebAssembly.Module(core));
} catch (e) {
  die(`${opts.core} is not a valid core module: ${e.message}`);
}
const adapters = [];
if (imports.some((i) => i.module === "wasi_snapshot_preview1")) {
  adapters.push(["wasi_snapshot_preview1", readFileSync(jco.preview1AdapterReactorPath())]);
}

try {
  const embedded = await jco.componentEmbed({ binary: core, witSource: witSource(opts.wit), world: opts.world });
  writeFileSync(opts.out, await jco.componentNew(embedded, adapters));
} catch (e) {
  die(`cannot make a component of ${opts.core} for world ${opts.world}: ${e.message ?? e}`);
}
