// Hardhat 3 configuration (ES module: Hardhat 3 only runs in projects whose
// package.json has "type": "module").
//
// The compiler version and settings come from contracts/compiler.json, the
// single source of truth shared with the Python toolchain. The compiler is the
// WASM build (soljson.js) shipped inside the `solc` npm package, passed through
// `solidity.path`, so Hardhat never downloads a compiler or a compiler list:
// the build works offline.
//
// Run it with scripts/hardhat-compile.sh (or `npm run compile`).

import { readFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const projectRoot = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

const compilerJsonPath = path.join(projectRoot, "contracts", "compiler.json");
const compiler = JSON.parse(readFileSync(compilerJsonPath, "utf8"));

function fail(message) {
  throw new Error(`hardhat.config.js: ${message} (see ${compilerJsonPath})`);
}

for (const key of ["version", "evmVersion", "optimizer"]) {
  if (compiler[key] === undefined) {
    fail(`compiler.json has no "${key}"`);
  }
}

// The solc npm package must be the very version compiler.json pins: its
// soljson.js is the compiler Hardhat runs.
const solcPackageDir = path.dirname(require.resolve("solc/package.json"));
const solcPackageVersion = JSON.parse(
  readFileSync(path.join(solcPackageDir, "package.json"), "utf8"),
).version;
if (solcPackageVersion !== compiler.version) {
  fail(
    `compiler.json pins solc ${compiler.version} but the solc npm package is ` +
      `${solcPackageVersion}; install solc@${compiler.version} (package.json devDependencies)`,
  );
}
const soljsonPath = path.join(solcPackageDir, "soljson.js");
if (!existsSync(soljsonPath)) {
  fail(`${soljsonPath} is missing; run npm ci`);
}

// Hardhat 3 resolves imports of npm packages (e.g. "@openzeppelin/contracts/...")
// through node_modules by itself and replaces settings.remappings with the
// ones it generates, so compiler.json's remappings are not passed on. Accept
// only remappings that say the same thing as that npm resolution
// ("<package>/=node_modules/<package>/"), so the two toolchains cannot
// silently resolve an import to different files.
for (const remapping of compiler.remappings ?? []) {
  const match = /^(?:[^:=]*:)?((?:@[^/=]+\/)?[^/=]+\/)=node_modules\/(.+)$/.exec(remapping);
  if (match === null || match[1] !== match[2]) {
    fail(
      `remapping "${remapping}" is not of the form "<npm package>/=node_modules/<npm package>/"; ` +
        "Hardhat 3 resolves npm imports itself: other remappings go into a remappings.txt",
    );
  }
  const packageName = match[1].slice(0, -1);
  if (!existsSync(path.join(projectRoot, "node_modules", packageName, "package.json"))) {
    fail(`remapping "${remapping}": npm package ${packageName} is not installed; run npm ci`);
  }
}

const settings = {
  evmVersion: compiler.evmVersion,
  optimizer: {
    enabled: Boolean(compiler.optimizer.enabled),
    runs: compiler.optimizer.runs ?? 200,
  },
};
if (compiler.viaIR !== undefined) {
  settings.viaIR = Boolean(compiler.viaIR);
}

/** @type {import("hardhat/config").HardhatUserConfig} */
const config = {
  solidity: {
    // One compiler for both build profiles ("default" and "production"):
    // Hardhat copies this into "production", keeping these settings and path.
    version: compiler.version,
    path: soljsonPath,
    settings,
  },
  paths: {
    sources: "contracts",
    artifacts: "build/hardhat/artifacts",
    cache: "build/hardhat/cache",
  },
};

export default config;
