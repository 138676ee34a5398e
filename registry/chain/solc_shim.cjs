#!/usr/bin/env node
// A `solc`-compatible front for the `solc` npm package (the official compiler built to WebAssembly).
//
// py-solc-x drives a native `solc` binary through `solc --version` and `solc --standard-json`; no native
// solc can be downloaded here, so this shim answers those two calls the way the native binary does.
// It exists (rather than calling `solcjs` directly) because `solcjs --standard-json` prints a line
// before the JSON and, when stdout is a pipe, exits before large outputs are flushed; this shim writes
// synchronously and resolves imports against the project root and node_modules.
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

const args = process.argv.slice(2);
if (args.includes("--version")) {
  // Same shape as native solc, which is what py-solc-x parses.
  writeAll("solc, the solidity compiler commandline interface\nVersion: " + solc.version() + "\n");
  process.exit(0);
}
if (!args.includes("--standard-json")) {
  process.stderr.write("solc shim: only --version and --standard-json are supported\n");
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
