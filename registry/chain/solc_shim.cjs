#!/usr/bin/env node
// A `solc`-compatible front for the `solc` npm package (the official compiler built to WebAssembly).
//
// py-solc-x drives a native `solc` binary through `solc --version` and `solc --standard-json`; no native
// solc can be downloaded here, so this shim answers those two calls the way the native binary does.
// It exists (rather than calling `solcjs` directly) because `solcjs --standard-json` prints a line
// before the JSON and, when stdout is a pipe, exits before large outputs are flushed; this shim writes
// synchronously and resolves imports against the project root and node_modules.
//
// A third mode, `solc [remappings] FILE... --combined-json OUTPUTS [options]`, is what crytic-compile
// (and so Slither) runs. It is translated into one standard-JSON compile of the given files and the
// result is printed in native solc's combined-JSON shape (see combinedJson() below). Supported options:
// --optimize, --optimize-runs N, --via-ir, --evm-version V, --base-path P, --include-path P,
// --allow-paths P[,P...], --metadata-hash H, --no-color, --pretty-json; remappings are positional
// `[context:]prefix=target` arguments. Anything else is refused, as native solc refuses unknown options.
//
// Environment: SOLC_SHIM_ROOT = project root (default: cwd); SOLC_SHIM_SOLJSON = path to soljson.js
// of another solc version (default: the installed `solc` package).
"use strict";
const fs = require("fs");
const path = require("path");

const root = process.env.SOLC_SHIM_ROOT || process.cwd();
const requireFromRoot = require("module").createRequire(path.join(root, "package.json"));
const solc = process.env.SOLC_SHIM_SOLJSON
  ? requireFromRoot("solc/wrapper")(require(process.env.SOLC_SHIM_SOLJSON))
  : requireFromRoot("solc");

function writeAll(text) {
  const buf = Buffer.from(text, "utf8");
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(1, buf, off, buf.length - off);
    } catch (e) {
      if (e.code !== "EAGAIN") throw e;
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// --combined-json mode
// ---------------------------------------------------------------------------------------------------

// combined-json output name -> [standard-JSON output selection, getter on a standard-JSON contract].
const CONTRACT_OUTPUTS = {
  abi: ["abi", (c) => c.abi],
  bin: ["evm.bytecode.object", (c) => c.evm.bytecode.object],
  "bin-runtime": ["evm.deployedBytecode.object", (c) => c.evm.deployedBytecode.object],
  srcmap: ["evm.bytecode.sourceMap", (c) => c.evm.bytecode.sourceMap || ""],
  "srcmap-runtime": ["evm.deployedBytecode.sourceMap", (c) => c.evm.deployedBytecode.sourceMap || ""],
  opcodes: ["evm.bytecode.opcodes", (c) => c.evm.bytecode.opcodes],
  asm: ["evm.legacyAssembly", (c) => c.evm.legacyAssembly],
  hashes: ["evm.methodIdentifiers", (c) => c.evm.methodIdentifiers],
  userdoc: ["userdoc", (c) => c.userdoc],
  devdoc: ["devdoc", (c) => c.devdoc],
  metadata: ["metadata", (c) => c.metadata],
  "storage-layout": ["storageLayout", (c) => c.storageLayout],
  "transient-storage-layout": ["transientStorageLayout", (c) => c.transientStorageLayout],
  "generated-sources": ["evm.bytecode.generatedSources", (c) => c.evm.bytecode.generatedSources],
  "generated-sources-runtime": [
    "evm.deployedBytecode.generatedSources",
    (c) => c.evm.deployedBytecode.generatedSources,
  ],
  "function-debug": ["evm.bytecode.functionDebugData", (c) => c.evm.bytecode.functionDebugData],
  "function-debug-runtime": [
    "evm.deployedBytecode.functionDebugData",
    (c) => c.evm.deployedBytecode.functionDebugData,
  ],
};
// Accepted for compatibility with older callers; the AST is always the compact JSON AST since 0.8.10.
const IGNORED_OUTPUTS = new Set(["ast", "compact-format"]);

function fail(message) {
  process.stderr.write("Error: " + message + "\n");
  return 1;
}

function isInside(dir, file) {
  const rel = path.relative(dir, file);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

function combinedJson(argv) {
  const opts = {
    outputs: null,
    files: [],
    remappings: [],
    optimize: false,
    runs: 200,
    viaIR: false,
    evmVersion: null,
    basePath: "",
    includePaths: [],
    allowPaths: [],
    metadataHash: null,
    pretty: false,
  };
  const withValue = new Set([
    "--combined-json",
    "--optimize-runs",
    "--evm-version",
    "--base-path",
    "--include-path",
    "--allow-paths",
    "--metadata-hash",
  ]);
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value = null;
    if (arg.startsWith("--") && arg.includes("=")) {
      value = arg.slice(arg.indexOf("=") + 1);
      arg = arg.slice(0, arg.indexOf("="));
    }
    if (withValue.has(arg) && value === null) {
      if (i + 1 >= argv.length) return fail(`option ${arg} needs a value`);
      value = argv[++i];
    }
    switch (arg) {
      case "--combined-json":
        opts.outputs = value.split(",").filter(Boolean);
        break;
      case "--optimize":
        opts.optimize = true;
        break;
      case "--optimize-runs":
        if (!/^\d+$/.test(value)) return fail(`invalid --optimize-runs: ${value}`);
        opts.runs = Number(value);
        break;
      case "--via-ir":
      case "--experimental-via-ir":
        opts.viaIR = true;
        break;
      case "--evm-version":
        opts.evmVersion = value;
        break;
      case "--base-path":
        opts.basePath = value;
        break;
      case "--include-path":
        opts.includePaths.push(value);
        break;
      case "--allow-paths":
        value.split(",").filter(Boolean).forEach((p) => opts.allowPaths.push(p));
        break;
      case "--metadata-hash":
        opts.metadataHash = value;
        break;
      case "--pretty-json":
        opts.pretty = true;
        break;
      case "--no-color":
      case "--color":
        break;
      default:
        if (arg.startsWith("-")) return fail(`solc shim: unsupported option ${arg} in --combined-json mode`);
        if (arg.includes("=")) opts.remappings.push(arg);
        else opts.files.push(arg);
    }
  }
  if (opts.files.length === 0) return fail("No input files given.");
  for (const name of opts.outputs) {
    if (!(name in CONTRACT_OUTPUTS) && !IGNORED_OUTPUTS.has(name)) {
      return fail(`Invalid option to --combined-json: ${name}`);
    }
  }

  const cwd = process.cwd();
  const base = path.resolve(cwd, opts.basePath || ".");
  const includes = opts.includePaths.map((p) => path.resolve(cwd, p));
  // Native solc's source unit name for a command-line file: the normalised path relative to the base
  // path (the working directory when none is given) or to an include path, else the absolute path.
  const sources = {};
  const allowed = [base, ...includes, ...opts.allowPaths.map((p) => path.resolve(cwd, p)), root];
  for (const file of opts.files) {
    const abs = path.resolve(cwd, file);
    if (!fs.existsSync(abs) || !fs.statSync(abs).isFile()) return fail(`"${file}" is not found.`);
    allowed.push(path.dirname(abs));
    const prefix = [base, ...includes].find((dir) => isInside(dir, abs));
    const name = prefix ? path.relative(prefix, abs).split(path.sep).join("/") : abs;
    sources[name] = { content: fs.readFileSync(abs, "utf8") };
  }

  // Imports resolve against the base path, then the include paths (as native solc does), then the
  // project root and its node_modules (as the --standard-json mode does), within the allowed paths.
  const lookIn = [base, ...includes, root, path.join(root, "node_modules")];
  const allowedDirs = [...allowed, path.join(root, "node_modules")];
  function resolveImport(importPath) {
    for (const dir of lookIn) {
      const candidate = path.isAbsolute(importPath) ? importPath : path.resolve(dir, importPath);
      if (!allowedDirs.some((d) => isInside(d, candidate))) continue;
      if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) {
        return { contents: fs.readFileSync(candidate, "utf8") };
      }
    }
    return { error: "File not found inside the base path or any of the include paths." };
  }

  const selection = opts.outputs.filter((n) => n in CONTRACT_OUTPUTS).map((n) => CONTRACT_OUTPUTS[n][0]);
  const settings = {
    optimizer: { enabled: opts.optimize, runs: opts.runs },
    viaIR: opts.viaIR,
    remappings: opts.remappings,
    // The AST is always selected: sourceList and source ids need it, and crytic-compile reads it.
    outputSelection: { "*": { "*": selection, "": ["ast"] } },
  };
  if (opts.evmVersion) settings.evmVersion = opts.evmVersion;
  if (opts.metadataHash) settings.metadata = { bytecodeHash: opts.metadataHash };

  const output = JSON.parse(
    solc.compile(JSON.stringify({ language: "Solidity", sources, settings }), { import: resolveImport }),
  );
  let failed = false;
  for (const e of output.errors || []) {
    process.stderr.write((e.formattedMessage || e.message) + "\n");
    if (e.severity === "error") failed = true;
  }
  if (failed) return 1;

  // Native layout: {"contracts": {"<source>:<Name>": {...}}, "sourceList": [...], "sources":
  // {"<source>": {"AST": ..., "id": N}}, "version": "..."}; sources in id order (solc sorts by name).
  const names = Object.keys(output.sources || {}).sort((a, b) => output.sources[a].id - output.sources[b].id);
  const result = { contracts: {} };
  const wanted = opts.outputs.filter((n) => n in CONTRACT_OUTPUTS);
  for (const source of Object.keys(output.contracts || {}).sort()) {
    for (const contract of Object.keys(output.contracts[source]).sort()) {
      const data = output.contracts[source][contract];
      const entry = {};
      for (const name of wanted) {
        let v = CONTRACT_OUTPUTS[name][1](data);
        if (name === "metadata" && typeof v !== "string") v = JSON.stringify(v);
        entry[name] = v === undefined ? null : v;
      }
      result.contracts[source + ":" + contract] = entry;
    }
  }
  result.sourceList = names;
  result.sources = {};
  for (const name of names) {
    const info = { id: output.sources[name].id };
    if (opts.outputs.includes("ast")) info.AST = output.sources[name].ast;
    result.sources[name] = info;
  }
  result.version = solc.version();
  writeAll(JSON.stringify(result, null, opts.pretty ? 2 : undefined) + "\n");
  return 0;
}

const args = process.argv.slice(2);
if (args.includes("--version")) {
  // Same shape as native solc, which is what py-solc-x parses.
  writeAll("solc, the solidity compiler commandline interface\nVersion: " + solc.version() + "\n");
  process.exit(0);
}
if (args.includes("--combined-json") || args.some((a) => a.startsWith("--combined-json="))) {
  process.exit(combinedJson(args));
}
if (!args.includes("--standard-json")) {
  process.stderr.write("solc shim: only --version, --standard-json and --combined-json are supported\n");
  process.exit(2);
}

// Paths allowed for imports: project root, --base-path, --include-path and --allow-paths values.
const searchRoots = [root, path.join(root, "node_modules")];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--base-path" || args[i] === "--include-path") searchRoots.push(path.resolve(args[++i]));
  else if (args[i] === "--allow-paths") args[++i].split(",").forEach((p) => searchRoots.push(path.resolve(p)));
}

function findImports(importPath) {
  for (const base of searchRoots) {
    const candidate = path.resolve(base, importPath);
    if (!searchRoots.some((r) => candidate.startsWith(r + path.sep) || candidate === r)) continue;
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, "utf8") };
  }
  return { error: "File not found: " + importPath };
}

const input = fs.readFileSync(0, "utf8");
writeAll(solc.compile(input, { import: findImports }) + "\n");
