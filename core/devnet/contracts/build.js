// Compiles the fixture contracts with the pinned solc (see build.sh) and
// writes build/<Contract>.abi and build/<Contract>.bin (creation bytecode,
// hex without 0x). Run through `make contracts`.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const here = __dirname;
const sources = {};
for (const f of fs.readdirSync(here).filter((f) => f.endsWith('.sol')).sort()) {
  sources[f] = { content: fs.readFileSync(path.join(here, f), 'utf8') };
}
const input = {
  language: 'Solidity',
  sources,
  settings: {
    evmVersion: 'cancun',
    optimizer: { enabled: true, runs: 200 },
    metadata: { bytecodeHash: 'none' },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
  },
};
const out = JSON.parse(solc.compile(JSON.stringify(input)));
let failed = false;
for (const e of out.errors || []) {
  process.stderr.write(e.formattedMessage + '\n');
  if (e.severity === 'error') failed = true;
}
if (failed) process.exit(1);
const dir = path.join(here, 'build');
fs.mkdirSync(dir, { recursive: true });
for (const file of Object.keys(out.contracts).sort()) {
  for (const name of Object.keys(out.contracts[file]).sort()) {
    const c = out.contracts[file][name];
    if (!c.evm.bytecode.object) continue; // interfaces
    fs.writeFileSync(path.join(dir, name + '.abi'), JSON.stringify(c.abi, null, 1) + '\n');
    fs.writeFileSync(path.join(dir, name + '.bin'), c.evm.bytecode.object + '\n');
  }
}
fs.writeFileSync(path.join(dir, 'VERSION'), 'solc ' + solc.version() + '\n');
