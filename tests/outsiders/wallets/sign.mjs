// Sign EIP-712 typed data with three standard wallet libraries, the way an integrator would.
//
// Usage: node sign.mjs TYPED_DATA.json [--numbers]   (private key in the env var WALLET_PRIVATE_KEY)
//        node sign.mjs --address                      (prints {"address": ...} of that key)
//
// --numbers: first turn the message's decimal-string integers into JavaScript numbers, as a client
// that calls Number() on them would (values above 2^53 are rounded).
//
// The file is read as the gateway served it and parsed with plain JSON.parse, as a browser or a
// Node service would; nothing is converted. Prints one JSON object on stdout:
//   {"address": "0x...", "ethers": {"signature": "0x..."} | {"error": "..."}, "viem": ..., "ethSigUtil": ...}
// A library that refuses the payload reports its error instead of a signature (exit code 0), so the
// caller sees which library failed and why.
import { readFileSync } from "node:fs";

import { SignTypedDataVersion, signTypedData as sigUtilSign } from "@metamask/eth-sig-util";
import { Wallet } from "ethers";
import { privateKeyToAccount } from "viem/accounts";

const [file, ...flags] = process.argv.slice(2);
const privateKey = process.env.WALLET_PRIVATE_KEY;
if (!file || !/^0x[0-9a-fA-F]{64}$/.test(privateKey ?? "")) {
  console.error("usage: WALLET_PRIVATE_KEY=0x... node sign.mjs TYPED_DATA.json [--numbers] | --address");
  process.exit(2);
}
if (file === "--address") {
  process.stdout.write(JSON.stringify({ address: new Wallet(privateKey).address }) + "\n");
  process.exit(0);
}
const typed = JSON.parse(readFileSync(file, "utf8"));
if (flags.includes("--numbers")) {
  // What a client does that calls Number() on the integers it parsed: above 2^53 they are rounded.
  for (const [name, value] of Object.entries(typed.message)) {
    if (typeof value === "string" && /^[0-9]+$/.test(value)) typed.message[name] = Number(value);
  }
}

async function attempt(sign) {
  try {
    return { signature: await sign() };
  } catch (error) {
    return { error: String(error?.shortMessage ?? error?.message ?? error) };
  }
}

// ethers 6 derives the domain type itself and refuses EIP712Domain among the struct types.
const { EIP712Domain: _domainType, ...structTypes } = typed.types;
const wallet = new Wallet(privateKey);
const account = privateKeyToAccount(privateKey);

const result = {
  address: wallet.address,
  ethers: await attempt(() => wallet.signTypedData(typed.domain, structTypes, typed.message)),
  viem: await attempt(() =>
    account.signTypedData({
      domain: typed.domain,
      types: typed.types,
      primaryType: typed.primaryType,
      message: typed.message,
    }),
  ),
  ethSigUtil: await attempt(() =>
    sigUtilSign({
      privateKey: Buffer.from(privateKey.slice(2), "hex"),
      data: typed,
      version: SignTypedDataVersion.V4,
    }),
  ),
};
process.stdout.write(JSON.stringify(result) + "\n");
