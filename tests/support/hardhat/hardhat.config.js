// Hardhat 3 configuration of the test ledger: the Hardhat node (EDR) that tests/support/hardhat_node.py
// starts when EBL_TEST_LEDGER=hardhat, as the second independent EVM the chain-layer tests and the HTTP
// scenario run on. It compiles nothing (the registry deploys its own shipped artifact).
//
// The network "node" (the one `hardhat node` serves) is set to what the registry's hardhat ledger
// profile (registry/config.py) and the embedded anvil promise, and to how a standard node answers:
// - chain id 31337, automine (one block per transaction), a block gas limit of 1e9 as anvil's;
// - a reverted transaction is mined with status 0, as geth, Besu and anvil do (Hardhat's default
//   throws it back at eth_sendRawTransaction instead); a failing eth_call is an error either way;
// - the latest L1 hardfork (Osaka), whose EIP-7825 cap of 2^24 gas per transaction Hardhat enforces
//   (anvil does not by default): see docs/ledger.md "Running on other EVM nodes".
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = path.resolve(here, "..", "..", "..");

/** @type {import("hardhat/config").HardhatUserConfig} */
const config = {
  networks: {
    node: {
      type: "edr-simulated",
      chainType: "l1",
      chainId: 31337,
      blockGasLimit: 1_000_000_000,
      throwOnTransactionFailures: false,
      throwOnCallFailures: true,
      mining: { auto: true },
    },
  },
  paths: {
    sources: path.join(here, "no-sources"),
    artifacts: path.join(projectRoot, "build", "hardhat-node", "artifacts"),
    cache: path.join(projectRoot, "build", "hardhat-node", "cache"),
  },
};

export default config;
